"""Administration pages. Site administrators manage partnerships; administrators manage users and organisations."""
from __future__ import annotations


from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker.admin import services
from tracker.admin.forms import NO_ROLE, NewUserForm, OrganisationForm, PartnershipForm, RolesForm, UserDetailsForm
from tracker.auth import permissions
from tracker.auth import services as auth_services
from tracker.auth.models import Membership, SsoIdentity, User
from tracker.doors import commit_or_refuse
from tracker.extensions import db
from tracker.text import parse_id
from tracker.partnerships.models import Organisation, OrganisationKind, Partnership
from tracker.plans import queries as plan_queries


bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_administrator():
    if not permissions.can_administer(current_user):
        abort(403, "Only administrators can use the administration pages.")


def administered_partnerships() -> list[Partnership]:
    ids = permissions.administered_partnership_ids(current_user)
    query = select(Partnership).order_by(Partnership.name)
    if ids is not None:
        query = query.where(Partnership.id.in_(ids))
    return list(db.session.scalars(query))


@bp.get("/")
def index():
    return render_template("admin/index.html", partnerships=administered_partnerships(),
                           can_manage_partnerships=permissions.can_manage_partnerships(current_user))


# Partnerships --------------------------------------------------------------------------------------------


def _require_site_admin() -> None:
    if not permissions.can_manage_partnerships(current_user):
        abort(403, "Only site administrators manage partnerships.")


@bp.get("/partnerships")
def partnerships():
    _require_site_admin()
    return render_template("admin/partnerships.html",
                           partnerships=db.session.scalars(select(Partnership).order_by(Partnership.name)).all())


@bp.route("/partnerships/new", methods=["GET", "POST"])
@bp.route("/partnerships/<int:partnership_id>", methods=["GET", "POST"])
def partnership(partnership_id: int | None = None):
    _require_site_admin()
    existing = db.session.get(Partnership, partnership_id) if partnership_id else None
    if partnership_id and existing is None:
        abort(404)
    form = PartnershipForm(obj=existing)
    if form.validate_on_submit():
        def save():
            if existing is None:
                return services.create_partnership(name=form.name.data, full_name=form.full_name.data,
                                                   actor=current_user)
            return services.update_partnership(existing, name=form.name.data, full_name=form.full_name.data,
                                               actor=current_user)

        if commit_or_refuse(save, form).ok:
            flash(f"Saved partnership {form.name.data.strip()}.", "success")
            return redirect(url_for("admin.partnerships"))
    return render_template("admin/partnership_form.html", form=form, partnership=existing), (
        400 if form.errors else 200)


# How members sign in (single sign-on) ---------------------------------------------------------------------


@bp.route("/partnerships/<int:partnership_id>/sign-in", methods=["GET", "POST"])
def partnership_sign_in(partnership_id: int):
    """A partnership's single sign-on settings: require it for members; domains that may join just in time."""
    from tracker.admin.forms import PartnershipSignInForm
    from tracker.auth import sso, sso_services

    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or not permissions.can_administer_partnership(current_user, partnership.id):
        abort(404)
    form = PartnershipSignInForm(data={"sso_required": partnership.sso_required,
                                       "jit_domains": "\n".join(partnership.jit_domains)})
    if form.validate_on_submit():
        if commit_or_refuse(lambda: sso_services.set_partnership_sso(
                partnership, required=bool(form.sso_required.data), jit_domains=form.jit_domains.data,
                actor=current_user), form, fields={"sso_required": "sso_required", "jit_domains": "jit_domains"}).ok:
            flash(f"Saved how members of {partnership.name} sign in.", "success")
            return redirect(url_for("admin.partnership_sign_in", partnership_id=partnership.id))
    return render_template("admin/partnership_sign_in.html", form=form, partnership=partnership,
                           providers=list(sso.providers().values())), (
        400 if form.errors or form.form_errors else 200)


# Users ---------------------------------------------------------------------------------------------------


#: The users list shows at most this many; a search narrows it.
USERS_SHOWN = 100


@bp.get("/users")
def users():
    ids = permissions.administered_partnership_ids(current_user)
    search = request.args.get("q", "").strip()[:100]
    query = select(User).options(selectinload(User.memberships).joinedload(Membership.partnership),
                                 selectinload(User.sso_identities)).order_by(User.name, User.id)
    if ids is not None:
        query = query.where(User.memberships.any(Membership.partnership_id.in_(ids))
                            | User.sso_identities.any(SsoIdentity.joined_partnership_id.in_(ids)))
    if search:
        needle = search.lower()
        query = query.where(func.lower(User.name).contains(needle, autoescape=True)
                            | func.lower(User.email).contains(needle, autoescape=True))
    found = db.session.scalars(query.limit(USERS_SHOWN + 1)).all()
    return render_template("admin/users.html", users=found[:USERS_SHOWN], more=len(found) > USERS_SHOWN,
                           search=search, shown=USERS_SHOWN)


def _send_welcome(user: User) -> bool:
    """Queue an e-mail to a new user with a link to choose their password (the scheduler sends it within
    a minute, through the outbox); False if no link could be made."""
    from tracker.outbox import services as outbox

    started = auth_services.start_password_reset(user.email)
    if started is None:
        db.session.commit()
        return False
    _, token = started
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
    outbox.enqueue(kind="welcome", key=f"user:{user.id}:{auth_services.token_hash(token)[:24]}", to=user.email,
                   to_name=user.name, subject="Your account on the improvement action tracker", user_id=user.id,
                   body=render_template("admin/welcome_email.txt", user=user, link=link, inviter=current_user.name))
    db.session.commit()
    return True


def _roles_field(form) -> dict[str, str]:
    """A refusal about the roles as a whole ("roles") shows beside the first partnership's role."""
    fields = form.role_fields()
    return {"roles": fields[0].name} if fields else {}


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    partnerships = administered_partnerships()
    form = NewUserForm.with_partnerships(partnerships)
    if not current_user.is_admin:
        del form.is_admin
    if form.validate_on_submit():
        roles = {pid: role for pid, role in form.roles().items() if role is not None}
        is_admin = bool(form.is_admin.data) if "is_admin" in form else False
        saved, user = commit_or_refuse(lambda: services.create_user(
            name=form.name.data, email=form.email.data, job_title=form.job_title.data, roles=roles,
            is_admin=is_admin, actor=current_user), form, fields=_roles_field(form))
        if saved:
            sso_only = auth_services.password_refused(user)
            if sso_only:  # no password link: the partnership signs its members in with single sign-on
                flash(f"Created an account for {user.name}. Tell them how to sign in: {sso_only}", "success")
            elif _send_welcome(user):
                flash(f"Created an account for {user.name} and e-mailed them a link to choose a password.",
                      "success")
            else:
                flash(f"Created an account for {user.name}, but the e-mail could not be sent. Ask them to use "
                      "'Forgotten your password?' on the sign-in page.", "warning")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_new.html", form=form), (400 if form.errors or form.form_errors else 200)


def _visible_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not permissions.can_see_account(current_user, user):
        abort(404)
    return user


def _user_forms(user: User, partnerships: list[Partnership], formdata_for: str | None):
    """The details and roles forms for the user page (one HTML form); the submitted ones read the request."""
    details = UserDetailsForm(formdata=request.form if formdata_for in ("details", "both") else None, obj=user)
    if not current_user.is_admin:
        del details.is_admin
    current = {m.partnership_id: m.role.value for m in user.memberships}
    roles = RolesForm.with_partnerships(partnerships, formdata=request.form if formdata_for in ("roles", "both")
                                        else None,
                                        data={f"role_{p.id}": current.get(p.id, NO_ROLE) for p in partnerships})
    return details, roles


def _render_user(user: User, details, roles, status: int = 200):
    moved = [] if user.active else _moved_pairs(request.args.get("moved"))
    return render_template("admin/user_edit.html", user=user, details=details, roles=roles, moved=moved,
                           can_manage=permissions.can_manage_account(current_user, user)), status


@bp.get("/users/<int:user_id>")
def edit_user(user_id: int):
    user = _visible_user_or_404(user_id)
    details, roles = _user_forms(user, administered_partnerships(), None)
    return _render_user(user, details, roles)


@bp.post("/users/<int:user_id>")
def update_user(user_id: int):
    """Save every field the page's one form submits: details, and the roles when the form shows them."""
    user = _visible_user_or_404(user_id)
    if not permissions.can_manage_account(current_user, user):
        abort(403, "This account also belongs to a partnership you do not administer: ask a site administrator.")
    with_roles = request.form.get("with_roles") == "yes"
    details, roles = _user_forms(user, administered_partnerships(), "both" if with_roles else "details")
    valid = details.validate_on_submit()
    valid = (roles.validate() if with_roles else True) and valid
    if valid:
        def save():
            services.update_user(user, name=details.name.data, email=details.email.data,
                                 job_title=details.job_title.data, actor=current_user,
                                 is_admin=details.is_admin.data if "is_admin" in details else None)
            if with_roles:
                services.set_roles(user, roles.roles(), actor=current_user)
            return user

        saved, _user = commit_or_refuse(save, details)
        if saved:
            flash(f"Saved the details{' and roles' if with_roles else ''} of {user.name}.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id) if permissions.can_see_account(
                current_user, user) else url_for("admin.users"))
    return _render_user(user, details, roles, 400)


@bp.post("/users/<int:user_id>/roles")
def update_roles(user_id: int):
    user = _visible_user_or_404(user_id)
    if not permissions.can_change_roles(current_user, user):
        abort(403, "This account also belongs to a partnership you do not administer: ask a site administrator.")
    details, roles = _user_forms(user, administered_partnerships(), "roles")
    if roles.validate_on_submit() and commit_or_refuse(
            lambda: services.set_roles(user, roles.roles(), actor=current_user), roles, fields=_roles_field(roles)).ok:
        flash(f"Saved the roles of {user.name}.", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id) if permissions.can_see_account(
            current_user, user) else url_for("admin.users"))
    return _render_user(user, details, roles, 400)


def _moved_pairs(value: str | None) -> list[tuple[int, int]]:
    """"action:lead,action:lead" from the undo form; anything else is dropped (the undo checks each)."""
    pairs = []
    for part in (value or "").split(",")[:5000]:
        action_id, _, lead_id = part.partition(":")
        action_id, lead_id = parse_id(action_id), parse_id(lead_id)
        if action_id is not None and lead_id is not None:
            pairs.append((action_id, lead_id))
    return pairs


@bp.post("/users/<int:user_id>/<any(disable, enable):change>")
def set_active(user_id: int, change: str):
    """Enable, or disable after a confirmation page that counts the open actions led and offers to move them."""
    user = _visible_user_or_404(user_id)
    if not permissions.can_manage_account(current_user, user):
        abort(403, "This account also belongs to a partnership you do not administer: ask a site administrator.")
    if user.id == current_user.id:
        abort(403, "You cannot disable your own account.")
    if change == "enable":
        moved = _moved_pairs(request.form.get("moved"))
        outcome = commit_or_refuse(lambda: services.undo_disable(user, moved=moved, actor=current_user))
        if outcome.ok:
            back = f" {outcome.value} action{'s' if outcome.value != 1 else ''} moved back to them." if moved else ""
            flash(f"{user.name} can now sign in.{back}", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    led = services.open_actions_led(user)
    partnerships = {p.id: p for p in db.session.scalars(select(Partnership).where(Partnership.id.in_(list(led))))}
    officers = {pid: [u for u in plan_queries.partnership_officers(pid) if u.id != user.id] for pid in led}
    if led and request.form.get("confirmed") != "yes":
        return render_template("admin/disable_confirm.html", user=user, led=led, partnerships=partnerships,
                               officers=officers)
    reassign_to = {pid: parse_id(request.form.get(f"to_{pid}")) for pid in led}
    outcome = commit_or_refuse(lambda: services.disable_user(user, reassign_to=reassign_to, actor=current_user))
    if not outcome.ok:
        return redirect(url_for("admin.edit_user", user_id=user.id))
    moved = outcome.value
    kept = sum(len(actions) for actions in led.values()) - len(moved)
    flash(f"{user.name} can no longer sign in." + (f" {len(moved)} open action{'s' if len(moved) != 1 else ''} "
          "moved to the officers you chose." if moved else "") + (
          f" {kept} open action{'s' if kept != 1 else ''} still name{'s' if kept == 1 else ''} them as lead: "
          "re-assign them from the plan page." if kept else ""), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id,
                            moved=",".join(f"{a}:{to}" for a, to in moved) or None))


# Organisations -------------------------------------------------------------------------------------------


@bp.get("/organisations")
def organisations():
    partnerships = administered_partnerships()
    query = (select(Organisation).options(selectinload(Organisation.aliases), selectinload(Organisation.partnership))
             .where(Organisation.partnership_id.in_([p.id for p in partnerships]))
             .order_by(Organisation.name))
    return render_template("admin/organisations.html", organisations=db.session.scalars(query).all(),
                           partnerships=partnerships)


@bp.route("/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int | None = None):
    existing = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation_id:
        if existing is None or not permissions.can_view_partnership(current_user, existing.partnership_id):
            abort(404)
        if not permissions.can_administer_partnership(current_user, existing.partnership_id):
            abort(403, "Only the partnership's administrators can change its organisations.")
    partnerships = administered_partnerships()
    if existing is None:
        form = OrganisationForm()
        form.partnership_id.choices = [SelectChoice(str(p.id), p.name) for p in partnerships]
        if request.method == "GET" and parse_id(request.args.get("partnership")) is not None:
            form.partnership_id.data = parse_id(request.args["partnership"])
    else:
        form = OrganisationForm(data={"name": existing.name, "kind": existing.kind.value,
                                      "aliases": "\n".join(a.alias for a in existing.aliases)})
        del form.partnership_id
    if form.validate_on_submit():
        kind = OrganisationKind(form.kind.data)
        def save():
            if existing is None:
                return services.create_organisation(partnership_id=form.partnership_id.data, name=form.name.data,
                                                    kind=kind, aliases=form.alias_lines(), actor=current_user)
            return services.update_organisation(existing, name=form.name.data, kind=kind,
                                                aliases=form.alias_lines(), actor=current_user)

        if commit_or_refuse(save, form).ok:
            flash(f"Saved organisation {form.name.data.strip()}.", "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=existing), (
        400 if form.errors else 200)
