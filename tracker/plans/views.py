"""Pages for lead officers, plan managers and committee members: My actions, plans, actions, edits."""
from __future__ import annotations

import functools
from typing import NamedTuple

from flask import (Blueprint, abort, current_app, flash, get_template_attribute, redirect, render_template, request,
                   send_file, session, url_for)
from flask_wtf.csrf import generate_csrf
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.auth.models import User
from tracker.auth.permissions import manageable_partnerships
from tracker.doors import commit_or_refuse
from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.indicators.services import indicators_for_plan
from tracker.partnerships.models import Organisation, Partnership
from tracker.plans import export, queries, services
from tracker.plans.cache import (FRAGMENT, Fragment, fragments, gzipped, page_shells, parts, personal_fragments,
                                 plan_extras, spliced)
from tracker.plans.forms import NO_LONGER_NEEDED, ActionForm, CloseForm, CorrectionForm, PlanForm, ReassignForm, SupersedeForm, UpdateForm, choices
from tracker.plans.models import Action, Plan, PlanKind, ProgressUpdate
from tracker.plans.permissions import action_or_404, can_manage_plan, can_update_action, plan_or_404, plans_query
from tracker.rag import Rag, Status
from tracker.reads import read_only
from tracker.once import ALREADY_SAVED
from tracker.text import in_id_range, parse_id
from tracker.timeutil import LONDON, as_utc, long_date, today

bp = Blueprint("plans", __name__)


@bp.app_template_filter("paragraphs")
def paragraphs(text: str | None) -> Markup:
    """User text as escaped paragraphs: blank lines split paragraphs, single newlines become <br>."""
    blocks = [block.strip() for block in (text or "").replace("\r\n", "\n").split("\n\n")]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n")))
        for block in blocks if block
    )


@bp.app_template_filter("when")
def when(value) -> str:
    """'3 March 2024 at 14:05', UK time."""
    local = as_utc(value).astimezone(LONDON)
    return f"{long_date(local.date())} at {local:%H:%M}"


bp.add_app_template_filter(queries.shorten, "shorten")


STALE = ("Someone else updated this action while you were writing. Nothing was saved: check the action "
         "and try again.")


def manageable_or_403(plan: Plan) -> Plan:
    if not can_manage_plan(current_user, plan):
        abort(403)
    return plan


def posted_version(form) -> int:
    """The version the form was loaded at; a forged or missing one is a bad request."""
    value = parse_id(form.version.data or "")
    if value is None:
        abort(400, "The form was missing information. Reload the page and try again.")
    return value


# --------------------------------------------------------------------------- lists
#: Where the sign-out form's token goes in a cached page shell (the token is signed with the time, so it is
#: made afresh for every response). User text is escaped, so it can never contain this comment's "<!--".
TOKEN = Markup("<!--app-cached-page-token-->")


def _shell(template: str, shell_key, context: dict) -> tuple[bytes, bytes]:
    """The page around its fragment as (head, tail) bytes, from the per-process cache of page shells when
    `shell_key` (everything the page shows but its table, the sign-out token and the messages) is given.

    Not cached: a page with messages to show (they are shown once), or one for a site administrator (it
    shows the scheduler's health, read afresh); those are rendered every time, as are pages without a key."""
    if shell_key is None or session.get("_flashes") or current_user.is_admin:
        return parts(render_template(template, fragment=FRAGMENT, **context))
    head, tail = page_shells().get_or_make((template, shell_key), lambda: parts(render_template(
        template, fragment=FRAGMENT, csrf_token=lambda: TOKEN, **context)))
    token = generate_csrf().encode("ascii")
    marker = TOKEN.encode("ascii")
    return head.replace(marker, token), tail.replace(marker, token)


def _page_with(template: str, fragment: Fragment, shell_key=None, **context):
    """The page, rendered with FRAGMENT where the cached fragment goes, with the fragment's bytes in place;
    gzipped for a browser that accepts it (the fragment compressed once, tracker.plans.cache.gzipped)."""
    page = _shell(template, shell_key, context)
    if request.accept_encodings["gzip"] > 0:
        response = current_app.response_class(gzipped(page, fragment), mimetype="text/html")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = current_app.response_class(spliced(page, fragment), mimetype="text/html")
    response.vary.add("Accept-Encoding")
    return response


def _roles_key(user: User) -> tuple:
    """What of the user's account decides what their lists show: site administrator, roles where."""
    return (user.id, user.is_admin, tuple(sorted((m.partnership_id, str(m.role)) for m in user.memberships)))


@bp.route("/my-actions")
@read_only
@login_required
def my_actions():
    user, day = current_user._get_current_object(), today()

    def render_mine() -> str:
        return render_template("plans/_my_actions.html", mine=queries.my_actions(user, day))

    key = (_roles_key(user), queries.my_actions_stamp(user), day, request.script_root)
    return _page_with("plans/my_actions.html", personal_fragments().get_or_render(key, render_mine))


@bp.route("/plans")
@login_required
def index():
    query = plans_query(current_user).options(joinedload(Plan.partnership)).order_by(Plan.name)
    plans = db.session.scalars(query).all()
    can_create = manageable_partnerships(current_user) != set()
    return render_template("plans/index.html", plans=plans, can_create=can_create)


@bp.route("/plans/<int:plan_id>")
@read_only
@login_required
def plan(plan_id: int):
    # The plan with its partnership (named in the heading) and the stamps of the page's cached parts in one
    # statement (queries.plan_page_statement); held here, plan_or_404 finds the plan in the session (whose
    # identity map keeps only objects someone holds) and refuses a missing plan or one not the user's to see.
    preloaded = queries.plan_with_stamps(plan_id) if in_id_range(plan_id) else None
    plan = plan_or_404(plan_id)
    _, table_stamp, extras_stamp = preloaded
    del preloaded
    filters = queries.PlanFilters.from_args(request.args)
    day = today()
    user = current_user._get_current_object()
    can_manage = can_manage_plan(user, plan)

    def render_actions() -> str:
        return render_template("plans/_plan_actions.html", page=queries.plan_page(plan, filters, day),
                               filters=filters, framework=db.session.get(Framework, plan.framework_id))

    def render_extras() -> PlanExtras:
        options = "plans/_plan_options.html"
        return PlanExtras(
            lead_options=get_template_attribute(options, "lead_options")(
                queries.partnership_officers(plan.partnership_id), filters),
            organisation_options=get_template_attribute(options, "organisation_options")(
                queries.partnership_organisations(plan.partnership_id), filters),
            sections=Markup(render_template("plans/_plan_sections.html", plan=plan, can_manage=can_manage,
                                            indicators=indicators_for_plan(plan, day))),
        )

    key = (plan.id, plan.framework_id, table_stamp, day, filters, request.script_root)
    # What the page shows around the table depends on the person too (their links, what they may enter).
    extras_key = (_roles_key(user), plan.id, plan.partnership_id, table_stamp, extras_stamp, day,
                  filters.lead_officer_id, filters.organisation_id, request.script_root)
    # The page around the table shows the plan's own columns, its partnership's name, the person (name, roles:
    # the navigation, the manager's links) and the parts keyed above; the sign-out token goes in per response.
    shell_key = (extras_key, user.name, can_manage, tuple(getattr(plan, name) for name in _plan_columns()),
                 plan.partnership.name, filters)
    return _page_with(
        "plans/plan.html",
        fragments().get_or_render(key, render_actions),
        shell_key,
        plan=plan,
        filters=filters,
        extras=plan_extras().get_or_make(extras_key, render_extras),
        can_manage=can_manage,
        statuses=list(Status),
        rags=list(Rag),
    )


@functools.cache
def _plan_columns() -> tuple[str, ...]:
    """The names of the plan's column attributes (all it shows of itself is among them)."""
    return tuple(attribute.key for attribute in db.inspect(Plan).column_attrs)


class PlanExtras(NamedTuple):
    """The plan page around its table (tracker.plans.views.plan): rendered once per person and stamp."""
    lead_options: Markup
    organisation_options: Markup
    sections: Markup


# --------------------------------------------------------------------------- plans: create and edit
def _plan_form_choices(form: PlanForm, partnership_ids: list[int]) -> None:
    partnerships = db.session.scalars(select(Partnership).where(Partnership.id.in_(partnership_ids))
                                      .order_by(Partnership.name)).all()
    form.partnership_id.choices = choices([(p.id, p.name) for p in partnerships])
    chosen = form.partnership_id.data or (partnerships[0].id if partnerships else None)
    frameworks = queries.usable_frameworks(chosen) if chosen else []
    managers = queries.partnership_managers(chosen) if chosen else []
    form.framework_id.choices = choices((f.id, f.name) for f in frameworks)
    form.manager_id.choices = choices([(None, "No manager yet")] + [(u.id, u.name) for u in managers])


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def new_plan():
    managed = manageable_partnerships(current_user)
    partnership_ids = list(db.session.scalars(select(Partnership.id))) if managed is None else sorted(managed)
    if not partnership_ids:
        abort(403)
    form = PlanForm()
    _plan_form_choices(form, partnership_ids)
    if form.validate_on_submit():
        saved, plan = commit_or_refuse(lambda: services.create_plan(
            partnership_id=form.partnership_id.data, framework_id=form.framework_id.data,
            name=form.name.data, kind=PlanKind(form.kind.data), description=form.description.data,
            manager_id=form.manager_id.data, actor=current_user), form)
        if saved:
            flash(f"Plan “{plan.name}” created.", "success")
            return redirect(url_for("plans.plan", plan_id=plan.id))
    return render_template("plans/plan_form.html", form=form, plan=None), 400 if form.errors else 200


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit_plan(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    form = PlanForm(obj=plan if request.method == "GET" else None)
    form.partnership_id.data = plan.partnership_id
    _plan_form_choices(form, [plan.partnership_id])
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.edit_plan(
            plan, actor=current_user, name=form.name.data, kind=PlanKind(form.kind.data),
            framework_id=form.framework_id.data, manager_id=form.manager_id.data,
            description=form.description.data), form)
        if saved:
            flash("Plan saved.", "success")
            return redirect(url_for("plans.plan", plan_id=plan.id))
    return render_template("plans/plan_form.html", form=form, plan=plan), 400 if form.errors else 200


# --------------------------------------------------------------------------- one action
def _action_page(action: Action, form: UpdateForm | None, *, conflict: bool = False, status: int = 200):
    may_update = can_update_action(current_user, action)
    latest = db.session.scalar(
        select(ProgressUpdate).where(ProgressUpdate.action_id == action.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(1)
    ) if conflict else None
    newest = services.latest_update(action)
    correctable = newest if newest is not None and services.correction_refusal(newest, current_user) is None else None
    return render_template(
        "actions/action.html",
        correctable=correctable,
        action=action,
        plan=action.plan,
        rag=action.rag(today()),
        ratings=queries.current_ratings(action),
        timeline=queries.timeline(action),
        form=form if may_update else None,
        conflict=conflict,
        latest=latest,
        can_manage=can_manage_plan(current_user, action.plan),
    ), status


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):
    action = action_or_404(action_id)
    may_update = can_update_action(current_user, action)
    if request.method == "POST" and not may_update:
        abort(403)
    form = UpdateForm(current_timescale=action.timescale_text)
    if request.method == "GET" and not form.restored:
        form.version.data = str(action.version)
        form.status.data = Status(action.status).value if action.status is not Status.SUPERSEDED else None
        return _action_page(action, form)
    if not form.validate_on_submit():
        return _action_page(action, form, status=400)
    expected = posted_version(form)
    outcome = commit_or_refuse(lambda: services.record_progress(
        action, actor=current_user, status=form.status.data, narrative=form.narrative.data,
        revised_timescale=form.revised_timescale.data, revision_reason=form.revision_reason.data,
        expected_version=expected), form, concurrent_message=(
        "Someone else updated this action while you were writing. Your update has not been saved: "
        "compare it with their version below, then save again if it is still right."))
    if isinstance(outcome.error, services.RepeatedUpdate):  # Back then Save on a page fetched afresh
        flash(ALREADY_SAVED, "info")
        return redirect(url_for("plans.action", action_id=action.id))
    if outcome.concurrent:
        action = action_or_404(action_id)
        form.version.data = str(action.version)
        return _action_page(action, form, conflict=True, status=409)
    if not outcome.ok:
        return _action_page(action, form, status=outcome.status)
    flash(f"Update saved. {action.ref} is now {action.rag(today()).text}.", "success")
    return redirect(url_for("plans.action", action_id=action.id))


@bp.route("/updates/<int:update_id>/correct", methods=["GET", "POST"])
@login_required
def correct_update(update_id: int):
    """The author of an action's latest update corrects its narrative within 24 hours (audited)."""
    update = db.session.get(ProgressUpdate, update_id)
    if update is None:
        abort(404)
    action = action_or_404(update.action_id)
    refusal = services.correction_refusal(update, current_user)
    if refusal:
        abort(403, refusal)
    form = CorrectionForm()
    if request.method == "GET" and not form.restored:
        form.narrative.data = update.shown_narrative
    if form.validate_on_submit():
        if commit_or_refuse(lambda: services.correct_update(update, narrative=form.narrative.data,
                                                            actor=current_user), form).ok:
            flash(f"Update on {action.ref} corrected. The original stays in the history.", "success")
            return redirect(url_for("plans.action", action_id=action.id))
    return render_template("actions/correct.html", form=form, action=action, plan=action.plan, update=update,
                           hours=services.CORRECTION_HOURS), 400 if form.errors or form.form_errors else 200


# --------------------------------------------------------------------------- plan managers: actions
def _action_form_choices(form: ActionForm, plan: Plan, action: Action | None = None) -> list:
    """Choices from the plan's partnership and framework only: another partnership's ids are refused."""
    officers = queries.partnership_officers(plan.partnership_id)
    if action and action.lead_officer and action.lead_officer_id not in {u.id for u in officers}:
        officers.append(action.lead_officer)  # keep a lead who has since lost the role
    form.lead_officer_id.choices = choices([(None, "No lead officer yet")] + [(u.id, u.name) for u in officers])
    form.organisations.choices = choices(
        (o.id, o.name) for o in queries.partnership_organisations(plan.partnership_id))
    themes = queries.framework_outline(plan.framework_id)
    form.items.choices = choices([(item.id, item.label) for theme in themes for item in theme.items])
    return themes


def _action_changes(form: ActionForm) -> dict:
    """The form's values for the service: the service checks they belong to the plan's partnership."""
    items = db.session.scalars(select(FrameworkItem).where(FrameworkItem.id.in_(form.items.data or []))).all()
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(form.organisations.data or []))).all()
    return {
        "text": form.text.data, "timescale": form.timescale.data, "ref": form.ref.data,
        "status": form.status.data, "lead_officer_id": form.lead_officer_id.data,
        "lead_text": form.lead_text.data, "items": sorted(items, key=lambda i: i.id),
        "organisations": organisations,
    }


@bp.route("/plans/<int:plan_id>/actions/new", methods=["GET", "POST"])
@login_required
def new_action(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    form = ActionForm()
    themes = _action_form_choices(form, plan)
    if form.validate_on_submit():
        saved, action = commit_or_refuse(lambda: services.create_action(
            plan=plan, actor=current_user, **_action_changes(form)), form)
        if saved:
            flash(f"Action {action.ref} created.", "success")
            return redirect(url_for("plans.action", action_id=action.id))
    return render_template("actions/action_form.html", form=form, plan=plan, action=None, themes=themes,
                           current=None), 400 if form.errors else 200


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit_action(action_id: int):
    action = action_or_404(action_id)
    plan = manageable_or_403(action.plan)
    form = ActionForm(obj=action if request.method == "GET" else None)
    themes = _action_form_choices(form, plan, action)
    if request.method == "GET" and not form.restored:
        form.version.data = str(action.version)
        form.timescale.data = action.timescale_text
        form.status.data = Status(action.status).value
        form.items.data = [item.id for item in action.items]
        form.organisations.data = [o.id for o in action.organisations]
    status, current = 200, None
    if form.validate_on_submit():
        expected = posted_version(form)
        outcome = commit_or_refuse(lambda: services.edit_action(
            action, expected_version=expected, actor=current_user, revision_reason=form.revision_reason.data,
            **_action_changes(form)), form, concurrent_message=(
            "Someone else updated this action while you were editing it. Your changes have not been "
            "saved: compare them with the saved version, then save again if they are still right."))
        if outcome.ok:
            flash(f"Action {action.ref} saved.", "success")
            return redirect(url_for("plans.action", action_id=action.id))
        if outcome.concurrent:
            action = action_or_404(action_id)
            form.version.data = str(action.version)
            current, status = action, 409
        else:
            status = outcome.status
    if form.errors and status == 200:
        status = 400
    return render_template("actions/action_form.html", form=form, plan=plan, action=action, themes=themes,
                           current=current), status


@bp.route("/actions/<int:action_id>/close", methods=["GET", "POST"])
@login_required
def close_action(action_id: int):
    action = action_or_404(action_id)
    manageable_or_403(action.plan)
    form = CloseForm()
    if request.method == "GET" and not form.restored:
        form.version.data = str(action.version)
    elif form.validate_on_submit():
        expected = posted_version(form)
        outcome = commit_or_refuse(lambda: services.record_progress(
            action, actor=current_user, status=Status.COMPLETE, narrative=form.note.data,
            expected_version=expected), form, fields={"narrative": "note"}, concurrent_message=STALE)
        if outcome.ok:
            flash(f"Action {action.ref} closed as complete.", "success")
        if outcome.ok or outcome.concurrent:
            return redirect(url_for("plans.action", action_id=action_id))
    return render_template("actions/close.html", form=form, action=action, plan=action.plan), \
        400 if form.errors else 200


@bp.route("/actions/<int:action_id>/supersede", methods=["GET", "POST"])
@login_required
def supersede_action(action_id: int):
    action = action_or_404(action_id)
    manageable_or_403(action.plan)
    form = SupersedeForm()
    others = db.session.execute(
        select(Action.id, Action.ref, Action.text, Action.plan_id, Plan.name).join(Plan)
        .where(Plan.partnership_id == action.plan.partnership_id, Plan.archived_at.is_(None),
               Action.id != action.id)
        .order_by(Action.plan_id != action.plan_id, Plan.name, Action.id)).all()
    form.replacement.choices = choices([(None, "Choose an action"), (NO_LONGER_NEEDED, "No longer needed")] + [
        (row.id, f"{row.ref}: {queries.shorten(row.text, 80)}" + ("" if row.plan_id == action.plan_id
                                                                  else f" ({row.name})")) for row in others])
    if request.method == "GET":
        form.version.data = str(action.version)
    elif form.validate_on_submit():
        expected = posted_version(form)
        outcome = commit_or_refuse(lambda: services.record_progress(
            action, actor=current_user, status=Status.SUPERSEDED, narrative=form.note.data,
            expected_version=expected, no_longer_needed=form.replacement.data == NO_LONGER_NEEDED,
            superseded_by_id=None if form.replacement.data == NO_LONGER_NEEDED else form.replacement.data), form,
            fields={"narrative": "note", "superseded_by_id": "replacement"}, concurrent_message=STALE)
        if outcome.ok:
            flash(f"Action {action.ref} closed as no longer needed." if form.replacement.data == NO_LONGER_NEEDED
                  else f"Action {action.ref} marked as superseded.", "success")
        if outcome.ok or outcome.concurrent:
            return redirect(url_for("plans.action", action_id=action_id))
    return render_template("actions/supersede.html", form=form, action=action, plan=action.plan), \
        400 if form.errors else 200


def _id_list(value: str | None, limit: int = 5000) -> list[int]:
    """Ids from a comma-separated query or form value; anything else is dropped (they are only hints)."""
    ids = [parse_id(part) for part in (value or "").split(",")[:limit]]
    return [i for i in ids if i is not None]


@bp.route("/plans/<int:plan_id>/reassign", methods=["GET", "POST"])
@login_required
def reassign(plan_id: int):
    """Move an officer's open actions: a confirmation page with the count first, then an undo."""
    plan = manageable_or_403(plan_or_404(plan_id))
    form = ReassignForm()
    partnership_plans = db.session.scalars(select(Plan).where(Plan.partnership_id == plan.partnership_id,
                                                              Plan.archived_at.is_(None))).all()
    leaders = db.session.scalars(
        select(Action.lead_officer_id).where(Action.plan_id.in_([p.id for p in partnership_plans]),
                                             Action.lead_officer_id.is_not(None)).distinct()).all()
    leading = db.session.scalars(select(User).where(User.id.in_(leaders)).order_by(User.name)).all()
    form.from_user.choices = choices([(None, "Choose an officer")] + [(u.id, u.name) for u in leading])
    form.to_user.choices = choices([(None, "Choose an officer")] + [
        (u.id, u.name) for u in queries.partnership_officers(plan.partnership_id)])
    if form.validate_on_submit():
        scope = [plan] if form.scope.data == "plan" else partnership_plans
        names = {c.value: c.label for c in form.to_user.choices + form.from_user.choices}
        where = "this plan" if form.scope.data == "plan" else "every plan of the partnership"
        if request.form.get("confirmed") != "yes":
            moving = services.actions_to_reassign(scope, form.from_user.data)
            return render_template("plans/reassign_confirm.html", form=form, plan=plan, moving=moving,
                                   from_name=names[form.from_user.data], to_name=names[form.to_user.data],
                                   where=where)
        outcome = commit_or_refuse(lambda: services.reassign_actions(
            plans=scope, from_user_id=form.from_user.data, to_user_id=form.to_user.data, actor=current_user),
            form, fields={"to_user": "to_user"}, concurrent_message=(
            "Someone else changed one of these actions at the same moment. Nothing was moved: try again."))
        if outcome.concurrent:
            return redirect(url_for("plans.reassign", plan_id=plan.id))
        if not outcome.ok:
            return render_template("plans/reassign.html", form=form, plan=plan), outcome.status
        moved = outcome.value
        flash(f"Moved {len(moved)} open action{'s' if len(moved) != 1 else ''} from {names[form.from_user.data]} to "
              f"{names[form.to_user.data]} in {where}.", "success")
        return redirect(url_for("plans.reassigned", plan_id=plan.id, from_user=form.from_user.data,
                                to_user=form.to_user.data, actions=",".join(str(a.id) for a in moved)))
    return render_template("plans/reassign.html", form=form, plan=plan), 400 if form.errors else 200


@bp.route("/plans/<int:plan_id>/reassign/done")
@login_required
def reassigned(plan_id: int):
    """What a re-assignment moved, with an undo (the ids are hints: the undo checks each action)."""
    plan = manageable_or_403(plan_or_404(plan_id))
    from_user = db.session.get(User, parse_id(request.args.get("from_user")) or 0)
    to_user = db.session.get(User, parse_id(request.args.get("to_user")) or 0)
    ids = _id_list(request.args.get("actions"))
    moved = [] if from_user is None or to_user is None or not ids else db.session.scalars(
        select(Action).where(Action.id.in_(ids), Action.lead_officer_id == to_user.id).order_by(Action.id)).all()
    moved = [a for a in moved if can_manage_plan(current_user, a.plan)]
    return render_template("plans/reassigned.html", plan=plan, moved=moved, from_user=from_user, to_user=to_user)


@bp.route("/plans/<int:plan_id>/reassign/undo", methods=["POST"])
@login_required
def undo_reassign(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    from_id, to_id = parse_id(request.form.get("from_user")), parse_id(request.form.get("to_user"))
    if from_id is None or to_id is None:
        abort(400, "The form was missing information. Reload the page and try again.")
    outcome = commit_or_refuse(lambda: services.undo_reassign(
        action_ids=_id_list(request.form.get("actions")), from_user_id=from_id, to_user_id=to_id,
        actor=current_user), concurrent_message=(
        "Someone else changed one of these actions at the same moment. Nothing was moved back: try again."))
    if outcome.ok:
        count = len(outcome.value)
        flash(f"Undone: {count} action{'s' if count != 1 else ''} moved back." if count
              else "Nothing to undo: those actions have changed since.", "success" if count else "info")
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/audit.xlsx")
@login_required
def audit_export(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    stream = export.audit_workbook(plan)
    name = f"audit-trail-plan-{plan.id}-{today().isoformat()}.xlsx"
    return send_file(stream, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
