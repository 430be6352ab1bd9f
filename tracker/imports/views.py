from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, has_request_context, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import Role
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.partnerships.queries import managed_by
from tracker.imports import services
from tracker import text as texts
from tracker.auth import services as auth_services
from tracker.doors import commit_or_refuse
from tracker.imports.forms import (AliasForm, ConfirmForm, InviteForm, PlanChoiceForm, UploadForm, leads_form,
                                   mapping_form)
from tracker.outbox import services as outbox
from tracker.plans.models import Plan
from tracker.imports.models import ImportJob
from tracker.imports.problems import Problem, has_errors
from tracker.imports.safety import ImportRefused, Limits
from tracker.imports.xlsx_plan import ROLES
from tracker.partnerships.models import Organisation, OrganisationAlias, Partnership

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.app_template_filter("slash_breaks")
def slash_breaks(value) -> Markup:
    """Text with a line-break opportunity after each "/" ("Penumbra/Carseview/Carers Trust"), never inside a word."""
    return escape(value or "").replace("/", Markup("/<wbr>"))


@bp.app_template_filter("iso_long_date")
def iso_long_date(value) -> str:
    """'31 March 2024' from a stored ISO date ('2024-03-31'); anything else as it is."""
    import datetime as dt

    from tracker.timeutil import long_date

    if isinstance(value, dt.date):
        return long_date(value)
    try:
        return long_date(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def page_path(endpoint: str, **values) -> str:
    """A page's path (for a background job's "go on" link, built with or without a request)."""
    if has_request_context():
        return url_for(endpoint, **values)
    parts = urlsplit(current_app.config.get("BASE_URL") or "http://localhost")
    return current_app.url_map.bind(parts.netloc or "localhost", script_name=parts.path or "/").build(endpoint, values)


def _in_background(job: ImportJob, step: str, **options):
    """Start the preview or the commit of a big import as a background job; its progress page comes next."""
    from tracker.jobs.views import start_and_follow

    return start_and_follow("import", params={"import_id": job.id, "step": step, **options},
                            partnership_id=job.partnership_id)


def _reading(job: ImportJob):
    """The background job reading this upload: its progress page, or (if it failed) the upload page again."""
    from tracker.jobs.models import Job, JobState

    started = db.session.scalars(select(Job).where(Job.kind == "import", Job.partnership_id == job.partnership_id)
                                 .order_by(Job.id.desc())).all()
    found = next((j for j in started if json.loads(j.params).get("import_id") == job.id), None)
    if found is None or found.state in (JobState.FAILED, JobState.CANCELLED):
        flash((found.message if found else "") or "The file could not be read. Upload it again.", "error")
        return redirect(url_for("imports.upload"))
    return redirect(url_for("jobs.job", job_id=found.id))


def _managed_partnerships() -> list[Partnership]:
    """The partnerships whose plans the user may import into (plan managers and site administrators)."""
    return managed_by(current_user)


def _limits() -> Limits:
    return Limits(max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def _job_or_404(token: str) -> ImportJob:
    job = db.session.scalar(select(ImportJob).where(ImportJob.token == token))
    if job is None or current_user.role_in(job.partnership_id) is None:
        abort(404)
    if not current_user.has_role(job.partnership_id, Role.PLAN_MANAGER):
        abort(403)
    return job


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload():
    partnerships = _managed_partnerships()
    if not partnerships:
        abort(403, "Only plan managers can import plans and self-evaluations. Ask your partnership's plan manager.")
    form = UploadForm()
    form.partnership.choices = [SelectChoice(str(p.id), p.name) for p in partnerships]
    if form.validate_on_submit():
        partnership = next(p for p in partnerships if p.id == form.partnership.data)
        try:
            checked = services.check(form.file.data, _limits())
            rows = services.rows_in(checked)
            big = services.is_big(rows)  # read in the background, after every safety check has passed
            parsed = None if big else services.read(checked, limits=_limits())
        except ImportRefused as refused:
            form.file.errors.append(str(refused))
        else:
            if big:
                job = services.create_reading_job(checked, partnership, form.plan_name.data.strip(), current_user.id,
                                                  rows)
                return _in_background(job, "preview", max_bytes=_limits().max_bytes)
            plan_name = form.plan_name.data.strip() or services.default_plan_name(parsed, checked.name)
            job = services.create_job(checked, parsed, partnership, plan_name, current_user.id)
            db.session.commit()
            return redirect(url_for("imports.preview", token=job.token))
    return render_template("imports/upload.html", form=form), 400 if form.errors else 200


@bp.route("/<token>", methods=["GET"])
@login_required
def preview(token: str):
    job = _job_or_404(token)
    if job.status == services.READING:
        return _reading(job)
    parsed = job.preview["parsed"]
    form = mapping_form(parsed.get("headers", {}), job.mapping, job.plan_name, job.kind)
    form.use_suggested.data = job.preview.get("use_suggested", True)
    return _render_preview(job, form)


def _confirm_form(job: ImportJob) -> ConfirmForm:
    """The confirm form; for a plan, its manager (the plan's own, else the importing manager) and the new
    organisations, every one ticked to be created until the manager unticks it."""
    form = ConfirmForm()
    if job.kind != "xlsx":
        del form.manager, form.create_organisations
        return form
    managers = services.plan_managers(job.partnership_id)
    if current_user.id not in {u.id for u in managers}:
        managers.insert(0, current_user)  # a site administrator importing for a partnership
    form.manager.choices = [SelectChoice(str(u.id), u.name + (f" ({u.job_title})" if u.job_title else ""))
                            for u in managers] or [SelectChoice("", "Nobody yet")]
    new = job.preview.get("new_organisations", [])
    form.create_organisations.choices = [SelectChoice(name, name) for name in new]
    ids = {u.id for u in managers}
    current = job.preview.get("manager_id")
    default = current if current in ids else (current_user.id if current_user.id in ids else None)
    if request.method == "GET":
        form.manager.data = default
        form.create_organisations.data = list(new)
    else:
        if "manager" not in request.form:
            form.manager.data = default  # a page without the choice: the plan's own manager or the importer
        if "organisations_shown" not in request.form:
            form.create_organisations.data = list(new)  # a page without the choice creates them all
    return form


def _render_preview(job: ImportJob, form, status: int = 200, confirm: ConfirmForm | None = None):
    problems = [Problem.from_dict(p) for p in job.preview["problems"]]
    plan = db.session.get(Plan, job.summary["plan_id"]) if job.summary and job.summary.get("plan_id") else None
    return render_template("imports/preview.html", job=job, preview=job.preview, parsed=job.preview["parsed"],
                           problems=problems, blocked=has_errors(problems), form=form,
                           confirm=confirm or _confirm_form(job), choose_plan=PlanChoiceForm(), roles=ROLES,
                           plan=plan), status


@bp.route("/<token>/mapping", methods=["POST"])
@login_required
def remap(token: str):
    job = _job_or_404(token)
    if job.status == "committed":
        abort(409, "This import was already committed; upload the file again to import it again.")
    if job.status == services.READING:
        return _reading(job)
    form = mapping_form(job.preview["parsed"].get("headers", {}), job.mapping, job.plan_name, job.kind)
    if not form.validate_on_submit():
        return _render_preview(job, form, 400)
    if services.is_big(job.rows_read):  # the preview stays as it is until the job has read the file again
        return _in_background(job, "preview", mapping=form.mapping() if job.kind == "xlsx" else {},
                              plan_name=form.plan.data.strip(), use_suggested=form.use_suggested.data,
                              max_bytes=_limits().max_bytes)
    try:
        services.remap_job(job, form.mapping() if job.kind == "xlsx" else {}, form.plan.data.strip(),
                           use_suggested=form.use_suggested.data, limits=_limits())
    except ImportRefused as refused:
        abort(400, str(refused))
    db.session.commit()
    flash("The preview was read again with your changes.", "success")
    return redirect(url_for("imports.preview", token=job.token))


@bp.route("/<token>/confirm", methods=["POST"])
@login_required
def confirm(token: str):
    job = _job_or_404(token)
    if job.status == services.READING:
        return _reading(job)
    form = _confirm_form(job)
    if not form.validate_on_submit():
        if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
            abort(400, "The form had expired. Go back to the preview and confirm again.")
        mapping = mapping_form(job.preview["parsed"].get("headers", {}), job.mapping, job.plan_name, job.kind)
        return _render_preview(job, mapping, 400, confirm=form)
    options = {}
    if job.kind == "xlsx":
        chosen = set(form.create_organisations.data or [])
        options = {"manager_id": form.manager.data,
                   "skip_organisations": [n for n in job.preview.get("new_organisations", []) if n not in chosen]}
    if services.is_big(job.rows_read) and job.status != "committed":
        return _in_background(job, "commit", **options)
    try:
        summary = services.commit_job(job, current_user.id, **options)
        db.session.commit()
    except services.ImportBlocked as blocked:
        db.session.rollback()
        flash(str(blocked), "error")
        return redirect(url_for("imports.preview", token=job.token))
    except RuleError as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("imports.preview", token=job.token))
    flash(f"Imported into {summary['plan_name']}: {summary['create']} actions created, {summary['update']} updated, "
          f"{summary['unchanged']} unchanged.", "success")
    if job.kind == "xlsx":
        return redirect(url_for("imports.assign_leads", token=job.token))
    return redirect(url_for("imports.preview", token=job.token))


@bp.route("/<token>/plan", methods=["POST"])
@login_required
def choose_plan(token: str):
    """Update the existing plan with a similar name instead of creating another."""
    job = _job_or_404(token)
    form = PlanChoiceForm()
    if not form.validate_on_submit():
        abort(400, "The form had expired. Go back to the preview and try again.")
    plan_id = texts.parse_id(form.plan_id.data)
    if services.is_big(job.rows_read):
        saved, plan = commit_or_refuse(lambda: services.retarget_plan(job, plan_id if plan_id is not None else -1))
        if saved:
            return _in_background(job, "preview", mapping=job.mapping or {}, plan_name=plan.name,
                                  use_suggested=job.preview.get("use_suggested", True), max_bytes=_limits().max_bytes)
        return redirect(url_for("imports.preview", token=job.token))
    saved, _ = commit_or_refuse(lambda: services.retarget_job(job, plan_id if plan_id is not None else -1,
                                                              limits=_limits()))
    if saved:
        flash(f"The preview now updates {job.plan_name}.", "success")
    return redirect(url_for("imports.preview", token=job.token))


def _committed_plan(job: ImportJob) -> Plan | None:
    """The plan a committed import went into; None (the caller goes back to the preview) before confirming."""
    if job.status != "committed" or job.kind != "xlsx":
        flash("Confirm the import first; then assign its lead officers.", "info")
        return None
    plan_id = (job.summary or {}).get("plan_id")
    plan = db.session.get(Plan, plan_id) if job.status == "committed" and job.kind == "xlsx" and plan_id else None
    if plan is None or plan.partnership_id != job.partnership_id:
        abort(404)
    return plan


@bp.route("/<token>/leads", methods=["GET", "POST"])
@login_required
def assign_leads(token: str):
    """After an import: each distinct lead as written, with a suggested person; one choice assigns all its actions."""
    job = _job_or_404(token)
    plan = _committed_plan(job)
    if plan is None:
        return redirect(url_for("imports.preview", token=job.token))
    candidates = services.lead_candidates(job.partnership_id)
    unassigned = services.unassigned_leads(plan, candidates)
    form = leads_form(unassigned, candidates)
    if form.validate_on_submit():
        chosen = [(entry["text"], field.data) for entry, field in form.pairs() if field.data]

        def assign():
            return sum(len(services.assign_lead(plan, text, user_id, actor=current_user)) for text, user_id in chosen)

        saved, moved = commit_or_refuse(assign, form)
        if saved:
            flash(f"Assigned lead officers to {moved} {'action' if moved == 1 else 'actions'}."
                  if moved else "No lead officers were chosen.", "success" if moved else "info")
            return redirect(url_for("imports.assign_leads", token=job.token))
    invite = InviteForm()
    can_invite = _can_invite(job.partnership_id)
    return render_template("imports/leads.html", job=job, plan=plan, unassigned=unassigned, form=form,
                           invite=invite, can_invite=can_invite,
                           people={u.id: u for u in candidates}), 400 if form.errors or form.form_errors else 200


def _can_invite(partnership_id: int) -> bool:
    from tracker.auth.permissions import administered_partnership_ids

    administered = administered_partnership_ids(current_user)
    return administered is None or partnership_id in administered


@bp.route("/<token>/leads/invite", methods=["POST"])
@login_required
def invite_lead(token: str):
    """Make an account for a lead nobody matches, assign it that lead's actions, and queue its welcome e-mail."""
    job = _job_or_404(token)
    plan = _committed_plan(job)
    if plan is None:
        return redirect(url_for("imports.preview", token=job.token))
    form = InviteForm()
    if not form.validate_on_submit():
        flash("Enter the new lead officer's name and email address.", "error")
        return redirect(url_for("imports.assign_leads", token=job.token))

    def invite():
        user = services.invite_lead(job.partnership_id, name=form.name.data, email=form.email.data,
                                    job_title=form.job_title.data or None, actor=current_user)
        moved = services.assign_lead(plan, form.lead_text.data, user.id, actor=current_user)
        started = auth_services.start_password_reset(user.email)
        if started is not None:
            link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=started[1])
            outbox.enqueue(kind="welcome", key=f"user:{user.id}:{auth_services.token_hash(started[1])[:24]}",
                           to=user.email, to_name=user.name, user_id=user.id,
                           subject="Your account on the improvement action tracker",
                           body=render_template("admin/welcome_email.txt", user=user, link=link,
                                                inviter=current_user.name))
        return user, len(moved)

    saved, result = commit_or_refuse(invite)
    if saved:
        user, moved = result
        flash(f"Made an account for {user.name}, e-mailed them a link to choose a password, and made them the lead "
              f"officer of {moved} {'action' if moved == 1 else 'actions'}.", "success")
    return redirect(url_for("imports.assign_leads", token=job.token))


@bp.route("/names/<int:partnership_id>", methods=["GET", "POST"])
@login_required
def aliases(partnership_id: int):
    """The names plans use for organisations, which imports match leads against; plan managers correct them."""
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or current_user.role_in(partnership_id) is None:
        abort(404)
    if not current_user.has_role(partnership_id, Role.PLAN_MANAGER):
        abort(403)
    organisations = db.session.scalars(select(Organisation).where(Organisation.partnership_id == partnership_id)
                                       .order_by(Organisation.name)).all()
    form = AliasForm()
    form.organisation.choices = [SelectChoice("0", "Forget this name")] + [
        SelectChoice(str(o.id), o.name) for o in organisations]
    if form.validate_on_submit():
        chosen = next((o for o in organisations if o.id == form.organisation.data), None)
        services.set_alias(partnership, form.alias.data, chosen, current_user.id)
        db.session.commit()
        flash(f"Saved: “{form.alias.data.strip()}” {'now means ' + chosen.name if chosen else 'was forgotten'}.",
              "success")
        return redirect(url_for("imports.aliases", partnership_id=partnership_id))
    names = db.session.execute(select(OrganisationAlias.alias, Organisation.name).join(Organisation)
                               .where(OrganisationAlias.partnership_id == partnership_id)
                               .order_by(OrganisationAlias.alias)).all()
    return render_template("imports/aliases.html", partnership=partnership, names=names, form=form), \
        400 if form.errors else 200
