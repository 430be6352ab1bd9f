"""Risk pages: registers (per partnership and per plan) with a heat map, a risk's page, add, review, status,
and importing a register."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import visible_partnership_ids
from tracker.doors import commit_or_refuse
from tracker.doors import show as show_refusal
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.imports.safety import ImportRefused, check
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan
from tracker.plans.permissions import can_view_plan, plan_or_404
from tracker.risks import importers, queries, scoring, services
from tracker.risks.forms import (ConfirmForm, MatrixForm, ReviewForm, RiskForm, StatusForm, UploadForm,
                                risk_mapping_form)
from tracker.risks.heatmap import heat_map
from tracker.risks.models import RiskStatus
from tracker.risks.permissions import (can_add_risk, can_edit_risk, can_set_matrix, partnership_or_404,
                                      risk_or_404)
from tracker.text import parse_id
from tracker.timeutil import today

bp = Blueprint("risks", __name__, url_prefix="/risks")
PREVIEW_MAX_AGE_SECONDS = 3600
FIELDS = {"inherent_likelihood": "inherent_likelihood", "residual_likelihood": "residual_likelihood",
          "target_likelihood": "target_likelihood", "owner_id": "owner_id", "actions": "actions"}
MATRIX_FIELDS = {"bands": "band_1_name"}


@bp.app_context_processor
def risk_helpers():
    def plan_risks(plan: Plan):
        """The plan page's small risks section: the plan's live risks, flagged first."""
        if not current_user.is_authenticated or not can_view_plan(current_user, plan):
            return []
        return queries.plan_summary(plan, today())

    return {"plan_risks": plan_risks}


def _heat_maps(rows, matrix):
    return (heat_map(matrix, [r.residual for r in rows], "Residual scores"),
            heat_map(matrix, [r.inherent for r in rows], "Inherent scores"))


@bp.route("/")
@login_required
def index():
    ids = visible_partnership_ids(current_user)
    query = select(Partnership).order_by(Partnership.name)
    if ids is not None:
        query = query.where(Partnership.id.in_(ids))
    partnerships = db.session.scalars(query).all()
    flagged = queries.flagged_risks_for(current_user, today())
    return render_template("risks/index.html", partnerships=partnerships, flagged=flagged)


def _register(template_args: dict, *, partnership: Partnership, plan: Plan | None):
    filters = queries.RegisterFilters.from_args(request.args)
    rows, every = queries.register(partnership_id=partnership.id, plan=plan, filters=filters, day=today())
    matrix = services.matrix_for(partnership.id)
    residual_map, inherent_map = _heat_maps(rows, matrix)
    categories = sorted({c for r in every for c in r.risk.category_list}, key=str.lower)
    owners = sorted({r.risk.owner for r in every if r.risk.owner}, key=lambda u: u.name)
    return render_template("risks/register.html", partnership=partnership, plan=plan, rows=rows, filters=filters,
                           matrix=matrix, residual_map=residual_map, inherent_map=inherent_map,
                           categories=categories, owners=owners, statuses=list(RiskStatus),
                           can_add=can_add_risk(current_user, partnership.id),
                           can_set_matrix=can_set_matrix(current_user, partnership.id), **template_args)


@bp.route("/partnerships/<int:partnership_id>")
@login_required
def register(partnership_id: int):
    partnership = partnership_or_404(partnership_id)
    return _register({}, partnership=partnership, plan=None)


@bp.route("/plans/<int:plan_id>")
@login_required
def plan_register(plan_id: int):
    plan = plan_or_404(plan_id)
    return _register({}, partnership=plan.partnership, plan=plan)


def _set_choices(form, partnership_id: int, *, with_plans: bool = True) -> None:
    matrix = services.matrix_for(partnership_id)
    form.set_scale(matrix.size)
    if hasattr(form, "owner_id"):
        form.owner_id.choices = [SelectChoice(0, "No one yet")] + [
            SelectChoice(u.id, u.name) for u in queries.owners(partnership_id)]
    if with_plans and hasattr(form, "plans"):
        plans = db.session.scalars(select(Plan).where(Plan.partnership_id == partnership_id,
                                                      Plan.archived_at.is_(None)).order_by(Plan.name)).all()
        form.plans.choices = [SelectChoice(p.id, p.name) for p in plans]
    form.actions.choices = [SelectChoice(a.id, f"{a.plan.name}: {a.ref} {a.text[:120]}")
                            for a in queries.partnership_actions(partnership_id)]


def _chosen(model, ids, partnership_id: int) -> list:
    """The chosen records (the choices were the partnership's own; the service checks again)."""
    ids = [i for i in (ids or []) if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(ids))))


@bp.route("/partnerships/<int:partnership_id>/new", methods=["GET", "POST"])
@login_required
def new(partnership_id: int):
    partnership = partnership_or_404(partnership_id)
    if not can_add_risk(current_user, partnership.id):
        abort(403)
    form = RiskForm()
    _set_choices(form, partnership.id)
    if request.method == "GET":
        chosen_plan = parse_id(request.args.get("plan", ""))
        if chosen_plan:
            form.plans.data = [chosen_plan]
    if form.validate_on_submit():
        saved, risk = commit_or_refuse(lambda: services.create_risk(
            partnership, reference=form.reference.data, title=form.title.data, description=form.description.data,
            categories=form.categories.data, mitigations=form.mitigations.data,
            recommendation=form.recommendation.data, owner_id=form.owner_id.data or None,
            review_date=form.review_date.data, plans=_chosen(Plan, form.plans.data, partnership.id),
            actions=_chosen(Action, form.actions.data, partnership.id), **form.pairs(), actor=current_user),
            form, fields=FIELDS)
        if saved:
            flash(f"Risk {risk.reference} added.", "success")
            return redirect(url_for(".show", risk_id=risk.id))
    return render_template("risks/form.html", form=form, partnership=partnership), 400 if form.errors or \
        form.form_errors else 200


@bp.route("/<int:risk_id>")
@login_required
def show(risk_id: int):
    risk = risk_or_404(risk_id)
    row = queries.rows_for([risk], today())[0]
    reviews = services.history(risk)
    return render_template("risks/show.html", risk=risk, row=row, reviews=reviews,
                           can_edit=can_edit_risk(current_user, risk),
                           heat=heat_map(row.matrix, [row.residual], "This risk's residual score"))


def _version(form) -> int:
    value = parse_id(form.version.data or "")
    if value is None:
        abort(400, "The form was missing information. Reload the page and try again.")
    return value


@bp.route("/<int:risk_id>/review", methods=["GET", "POST"])
@login_required
def review(risk_id: int):
    risk = risk_or_404(risk_id)
    if not can_edit_risk(current_user, risk):
        abort(403)
    form = ReviewForm()
    _set_choices(form, risk.partnership_id, with_plans=False)
    latest = services.latest_reviews([risk.id])[risk.id]
    if request.method == "GET":
        for what in ("inherent", "residual", "target"):
            getattr(form, f"{what}_likelihood").data = getattr(latest, f"{what}_likelihood")
            getattr(form, f"{what}_impact").data = getattr(latest, f"{what}_impact")
        form.review_date.data = risk.review_date
        form.actions.data = [a.id for a in risk.actions]
        form.version.data = str(risk.version)
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.review_risk(
            risk, **form.pairs(), reason=form.reason.data, review_date=form.review_date.data,
            actions=_chosen(Action, form.actions.data, risk.partnership_id), expected_version=_version(form),
            actor=current_user), form, fields=FIELDS)
        if saved:
            flash(f"Review of {risk.reference} recorded.", "success")
            return redirect(url_for(".show", risk_id=risk.id))
    return render_template("risks/review.html", form=form, risk=risk), 400 if form.errors or form.form_errors \
        else 200


@bp.route("/<int:risk_id>/status", methods=["GET", "POST"])
@login_required
def status(risk_id: int):
    risk = risk_or_404(risk_id)
    if not can_edit_risk(current_user, risk):
        abort(403)
    form = StatusForm()
    if request.method == "GET":
        form.version.data = str(risk.version)
        form.status.data = RiskStatus.CLOSED.value if risk.status.is_live else RiskStatus.OPEN.value
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.set_status(
            risk, RiskStatus(form.status.data), reason=form.reason.data, expected_version=_version(form),
            actor=current_user), form)
        if saved:
            flash(f"{risk.reference} is now {risk.status.label.lower()}.", "success")
            return redirect(url_for(".show", risk_id=risk.id))
    return render_template("risks/status.html", form=form, risk=risk), 400 if form.errors or form.form_errors \
        else 200


# --------------------------------------------------------------------------- the scoring matrix
@bp.route("/partnerships/<int:partnership_id>/matrix", methods=["GET", "POST"])
@login_required
def matrix_settings(partnership_id: int):
    """The partnership's scoring matrix: choose a scheme, edit the bands, see which risks would change band,
    then save. Works without JavaScript: each button posts the whole form (its `action` says what to do)."""
    partnership = partnership_or_404(partnership_id)
    if not can_set_matrix(current_user, partnership.id):
        abort(403)
    form = MatrixForm()
    current = services.matrix_for(partnership.id)
    args = {"partnership": partnership, "current": current, "preview": None}
    if request.method == "GET":
        form.fill(current)
        return render_template("risks/matrix.html", form=form, **args)
    if not form.validate_on_submit():
        return render_template("risks/matrix.html", form=form, **args), 400
    action = request.form.get("action", "check")
    if action == "defaults":
        form.fill(scoring.SCHEMES[form.size.data][1])
        return render_template("risks/matrix.html", form=form, **args)
    if action == "edit":
        return render_template("risks/matrix.html", form=form, **args)
    if action == "save":
        outcome = commit_or_refuse(lambda: services.set_matrix(partnership, form.size.data, form.bands(),
                                                               expected=request.form.get("before"),
                                                               actor=current_user), form, fields=MATRIX_FIELDS)
        if outcome.ok:
            flash(f"Saved the scoring matrix: {services.matrix_for(partnership.id).describe()}.", "success")
            return redirect(url_for(".register", partnership_id=partnership.id))
        args["current"] = services.matrix_for(partnership.id)
        return render_template("risks/matrix.html", form=form, **args), outcome.status
    try:
        args["preview"] = services.preview_matrix(partnership, form.size.data, form.bands())
    except RuleError as error:
        show_refusal(form, error, MATRIX_FIELDS)
        return render_template("risks/matrix.html", form=form, **args), 400
    return render_template("risks/matrix.html", form=form, **args)


# --------------------------------------------------------------------------- import
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="risk-register-import")


def _plans(partnership: Partnership) -> list[Plan]:
    return list(db.session.scalars(select(Plan).where(Plan.partnership_id == partnership.id,
                                                      Plan.archived_at.is_(None)).order_by(Plan.name)))


def _upload_form(plans: list[Plan], *, posted: bool = True) -> UploadForm:
    """The upload form; `posted=False` for a page that shows it afresh (not the request's form)."""
    form = UploadForm() if posted else UploadForm(formdata=None)
    form.plan_id.choices = [SelectChoice(0, "None: the partnership's register only")] + [
        SelectChoice(p.id, p.name) for p in plans]
    return form


def _keep(partnership: Partnership, plan: Plan | None, parsed: importers.Parsed, filename: str) -> str:
    """The signed token the preview keeps: a register's sheet and its column mapping (to read again with another
    mapping, and to import), or a report's rows."""
    payload = {"partnership_id": partnership.id, "plan_id": plan.id if plan else None, "kind": parsed.kind,
               "filename": filename[:200]}
    if parsed.sheet is not None:
        payload.update(sheet=parsed.sheet.to_dict(), mapping=parsed.mapping)
    else:
        payload["rows"] = parsed.rows
    return _serializer().dumps(payload)


def _kept(partnership: Partnership, token: str) -> dict | None:
    """The token's payload; None when it expired or was changed. Another partnership's token is refused (400)."""
    try:
        payload = _serializer().loads(token, max_age=PREVIEW_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if payload.get("partnership_id") != partnership.id:
        abort(400)
    return payload


def _kept_plan(payload: dict, partnership: Partnership) -> Plan | None:
    plan = db.session.get(Plan, payload["plan_id"]) if payload.get("plan_id") else None
    if plan is not None and plan.partnership_id != partnership.id:
        abort(400)
    return plan


def _kept_rows(payload: dict, mapping: dict | None = None) -> importers.Parsed:
    if "sheet" in payload:
        return importers.rows_from_sheet(importers.Sheet.from_dict(payload["sheet"]),
                                         payload.get("mapping") if mapping is None else mapping)
    return importers.Parsed(rows=payload["rows"], kind=payload.get("kind", "docx"))


def _preview(form: UploadForm, partnership: Partnership, plan: Plan | None, parsed: importers.Parsed,
             filename: str, *, mapping=None, status: int = 200):
    """The upload page with the preview: what each row would do, the column mapping (a register's), and the
    confirm button when nothing stops the import."""
    items = importers.preview(parsed, partnership, plan)
    kept = _keep(partnership, plan, parsed, filename)
    if parsed.sheet is not None and mapping is None:
        mapping = risk_mapping_form(parsed.headers, parsed.mapping)  # preset to the mapping read with
    if mapping is not None:
        mapping.token.data = kept
    token = kept if not parsed.problems and not any(i.errors for i in items) else None
    return render_template("risks/upload.html", form=form, partnership=partnership, parsed=parsed, items=items,
                           token=token, plan=plan, confirm_form=ConfirmForm(), mapping=mapping), status


@bp.route("/partnerships/<int:partnership_id>/import", methods=["GET", "POST"])
@login_required
def upload(partnership_id: int):
    partnership = partnership_or_404(partnership_id)
    if not can_add_risk(current_user, partnership.id):
        abort(403)
    plans = _plans(partnership)
    form = _upload_form(plans)
    if form.validate_on_submit():
        plan = next((p for p in plans if p.id == form.plan_id.data), None)
        try:
            checked = check(form.file.data)
            parsed = importers.read(checked)
        except (ImportRefused, RuleError) as error:
            form.file.errors.append(error.message)
        else:
            return _preview(form, partnership, plan, parsed, checked.name)
    return render_template("risks/upload.html", form=form, partnership=partnership, parsed=None, items=None,
                           token=None, plan=None, confirm_form=ConfirmForm(), mapping=None), \
        400 if form.errors else 200


@bp.route("/partnerships/<int:partnership_id>/import/mapping", methods=["POST"])
@login_required
def remap_upload(partnership_id: int):
    """Read the kept sheet again with the columns the manager chose."""
    partnership = partnership_or_404(partnership_id)
    if not can_add_risk(current_user, partnership.id):
        abort(403)
    token = request.form.get("token", "")
    if not token:
        abort(400)
    payload = _kept(partnership, token)
    if payload is None:
        flash("The preview had expired or was changed. Upload the file again.", "error")
        return redirect(url_for(".upload", partnership_id=partnership.id))
    if "sheet" not in payload:
        abort(400)
    plan = _kept_plan(payload, partnership)
    form = _upload_form(_plans(partnership), posted=False)
    form.plan_id.data = plan.id if plan else 0
    sheet = importers.Sheet.from_dict(payload["sheet"])
    mapping = risk_mapping_form(sheet.headers, payload.get("mapping") or {})
    filename = payload.get("filename") or "an upload"
    if mapping.validate_on_submit():
        try:
            importers.check_mapping(mapping.mapping())
        except RuleError as error:
            mapping.form_errors.append(error.message)
        else:
            flash("The file was read again with the columns you chose. Nothing has been saved yet.", "success")
            return _preview(form, partnership, plan, _kept_rows(payload, mapping.mapping()), filename,
                            mapping=mapping)
    return _preview(form, partnership, plan, _kept_rows(payload), filename, mapping=mapping, status=400)


@bp.route("/partnerships/<int:partnership_id>/import/confirm", methods=["POST"])
@login_required
def confirm_upload(partnership_id: int):
    partnership = partnership_or_404(partnership_id)
    if not can_add_risk(current_user, partnership.id):
        abort(403)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    payload = _kept(partnership, form.token.data)
    if payload is None:
        flash("The preview had expired or was changed. Upload the file again.", "error")
        return redirect(url_for(".upload", partnership_id=partnership.id))
    plan = _kept_plan(payload, partnership)
    parsed = _kept_rows(payload)
    saved, counts = commit_or_refuse(lambda: importers.apply(parsed, partnership, plan,
                                                             filename=payload.get("filename") or "an upload",
                                                             actor=current_user))
    if not saved:
        return redirect(url_for(".upload", partnership_id=partnership.id))
    flash(f"Imported: {counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged.", "success")
    return redirect(url_for(".plan_register", plan_id=plan.id) if plan else
                    url_for(".register", partnership_id=partnership.id))
