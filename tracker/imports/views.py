from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import Role
from tracker.extensions import db
from tracker.partnerships.queries import managed_by
from tracker.imports import services
from tracker.imports.forms import AliasForm, ConfirmForm, UploadForm, mapping_form
from tracker.imports.models import ImportJob
from tracker.imports.problems import Problem, has_errors
from tracker.imports.safety import ImportRefused, Limits
from tracker.imports.xlsx_plan import ROLES
from tracker.partnerships.models import Organisation, OrganisationAlias, Partnership

bp = Blueprint("imports", __name__, url_prefix="/imports")


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
            parsed = services.read(checked, limits=_limits())
        except ImportRefused as refused:
            form.file.errors.append(str(refused))
        else:
            plan_name = form.plan_name.data.strip() or services.default_plan_name(parsed, checked.name)
            job = services.create_job(checked, parsed, partnership, plan_name, current_user.id)
            db.session.commit()
            return redirect(url_for("imports.preview", token=job.token))
    return render_template("imports/upload.html", form=form), 400 if form.errors else 200


@bp.route("/<token>", methods=["GET"])
@login_required
def preview(token: str):
    job = _job_or_404(token)
    parsed = job.preview["parsed"]
    form = mapping_form(parsed.get("headers", {}), job.mapping, job.plan_name, job.kind)
    form.use_suggested.data = job.preview.get("use_suggested", True)
    return _render_preview(job, form)


def _render_preview(job: ImportJob, form, status: int = 200):
    problems = [Problem.from_dict(p) for p in job.preview["problems"]]
    return render_template("imports/preview.html", job=job, preview=job.preview, parsed=job.preview["parsed"],
                           problems=problems, blocked=has_errors(problems), form=form, confirm=ConfirmForm(),
                           roles=ROLES), status


@bp.route("/<token>/mapping", methods=["POST"])
@login_required
def remap(token: str):
    job = _job_or_404(token)
    if job.status == "committed":
        abort(409, "This import was already committed; upload the file again to import it again.")
    form = mapping_form(job.preview["parsed"].get("headers", {}), job.mapping, job.plan_name, job.kind)
    if not form.validate_on_submit():
        return _render_preview(job, form, 400)
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
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form had expired. Go back to the preview and confirm again.")
    try:
        summary = services.commit_job(job, current_user.id)
        db.session.commit()
    except services.ImportBlocked as blocked:
        db.session.rollback()
        flash(str(blocked), "error")
        return redirect(url_for("imports.preview", token=job.token))
    flash(f"Imported into {summary['plan_name']}: {summary['create']} actions created, {summary['update']} updated, "
          f"{summary['unchanged']} unchanged.", "success")
    return redirect(url_for("imports.preview", token=job.token))


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
