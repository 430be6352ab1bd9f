"""Audit recommendations pages: the committee view per partnership, reports, recommendations, closure, import."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from wtforms import SelectChoice

from tracker import text as texts
from tracker.auth.models import Membership, User
from tracker.auth.permissions import visible_partnership_ids
from tracker.committees.models import Committee
from tracker.doors import commit_or_refuse
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Plan
from tracker.scrutiny import importer, permissions, rules, services
from tracker.scrutiny.forms import (
    CompleteForm,
    ConfirmImportForm,
    ImportForm,
    RecommendationForm,
    ReopenForm,
    ReportForm,
    VerifyForm,
)
from tracker.scrutiny.models import AuditReport
from tracker.timeutil import today

bp = Blueprint("scrutiny", __name__, url_prefix="/audit-recommendations")


def partnership_or_404(partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id) if texts.in_id_range(partnership_id) else None
    if partnership is None or not permissions.can_view(current_user, partnership.id):
        abort(404)
    return partnership


def _managed_partnership(partnership_id: int) -> Partnership:
    """The partnership, if the user may see it (404) and manage its audit reports (403)."""
    partnership = partnership_or_404(partnership_id)
    _require(permissions.can_manage(current_user, partnership.id))
    return partnership


def _managed_report(report_id: int) -> AuditReport:
    """The report, if the user may see it (404) and manage its partnership's audit reports (403)."""
    report = permissions.report_or_404(report_id)
    _require(permissions.can_manage(current_user, report.partnership_id))
    return report


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _committees(partnership_id: int) -> list[Committee]:
    return list(db.session.scalars(select(Committee).where(Committee.partnership_id == partnership_id)
                                   .order_by(Committee.name)))


def _form_status() -> int:
    """A form page shown again after a POST is a refusal (400); a GET is 200."""
    return 400 if request.method == "POST" else 200


@bp.route("/")
@login_required
def index():
    ids = visible_partnership_ids(current_user)
    query = select(Partnership).order_by(Partnership.name)
    if ids is not None:
        query = query.where(Partnership.id.in_(ids))
    partnerships = list(db.session.scalars(query))
    counts = {}
    for partnership in partnerships:
        found = services.rows(services.partnership_recommendations(partnership.id), today())
        counts[partnership.id] = (len(found), sum(r.status is rules.RecStatus.AWAITING for r in found),
                                  sum(r.overdue for r in found))
    return render_template("scrutiny/index.html", partnerships=partnerships, counts=counts)


@bp.route("/partnerships/<int:partnership_id>")
@login_required
def partnership(partnership_id: int):
    """The committee view: by grade and status, overdue, revised more than twice, awaiting verification."""
    partnership = partnership_or_404(partnership_id)
    committees = _committees(partnership.id)
    committee_id = texts.parse_id(request.args.get("committee", ""))
    committee = next((c for c in committees if c.id == committee_id), None)
    as_at = today()
    found = services.rows(services.partnership_recommendations(partnership.id, committee.id if committee else None),
                          as_at)
    grades: dict[str, dict] = {}
    for row in sorted(found, key=lambda r: r.grade_position):
        grades.setdefault(row.grade, {s: 0 for s in rules.RecStatus})[row.status] += 1
    reports = list(db.session.scalars(select(AuditReport).where(AuditReport.partnership_id == partnership.id)
                                      .order_by(AuditReport.issued_on.desc())))
    return render_template(
        "scrutiny/partnership.html", partnership=partnership, committees=committees, committee=committee,
        rows=found, grades=grades, statuses=list(rules.RecStatus), reports=reports,
        overdue=[r for r in found if r.overdue], revised=[r for r in found if r.revisions > 2],
        awaiting=[r for r in found if r.status is rules.RecStatus.AWAITING],
        can_manage=permissions.can_manage(current_user, partnership.id), revisions_label=rules.revisions_label)


def _choice_id(value) -> int | None:
    return texts.parse_id(value) if value else None


@bp.route("/partnerships/<int:partnership_id>/reports/new", methods=["GET", "POST"])
@login_required
def new_report(partnership_id: int):
    partnership = _managed_partnership(partnership_id)
    form = ReportForm()
    form.plan_id.choices = [SelectChoice(str(p.id), p.name) for p in db.session.scalars(
        select(Plan).where(Plan.partnership_id == partnership.id, Plan.archived_at.is_(None)).order_by(Plan.name))]
    form.committee_id.choices = [SelectChoice("", "Not yet decided")] + [
        SelectChoice(str(c.id), c.name) for c in _committees(partnership.id)]
    form.scheme_id.choices = [SelectChoice(str(s.id), f"{s.name} ({', '.join(g.label for g in s.grades)})")
                              for s in services.schemes(partnership.id, create_defaults=False)] or \
        [SelectChoice(name, f"{name} ({', '.join(grades)})") for name, grades in rules.DEFAULT_SCHEMES.items()]
    if form.validate_on_submit():
        def write():
            scheme_id = _choice_id(form.scheme_id.data)
            if scheme_id is None:  # the partnership's first report: its default schemes are made now
                made = {s.name: s.id for s in services.schemes(partnership.id)}
                scheme_id = made.get(form.scheme_id.data)
            return services.create_report(
                partnership_id=partnership.id, plan_id=_choice_id(form.plan_id.data), title=form.title.data,
                issued_on=form.issued_on.data, scheme_id=scheme_id, auditor_kind=form.auditor_kind.data,
                auditor_name=form.auditor_name.data, assurance=form.assurance.data or None,
                committee_id=_choice_id(form.committee_id.data), actor=current_user)

        saved, report = commit_or_refuse(write, form)
        if saved:
            flash(f"Audit report “{report.title}” recorded.", "success")
            return redirect(url_for("scrutiny.report", report_id=report.id))
    return render_template("scrutiny/report_form.html", form=form, partnership=partnership), _form_status()


@bp.route("/reports/<int:report_id>")
@login_required
def report(report_id: int):
    report = permissions.report_or_404(report_id)
    found = services.rows(list(report.recommendations), today())
    return render_template("scrutiny/report.html", report=report, rows=found,
                           can_manage=permissions.can_manage(current_user, report.partnership_id),
                           revisions_label=rules.revisions_label)


def _people(partnership_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.partnership_id == partnership_id, User.active.is_(True)).order_by(User.name)))


@bp.route("/reports/<int:report_id>/recommendations/new", methods=["GET", "POST"])
@login_required
def new_recommendation(report_id: int):
    report = _managed_report(report_id)
    form = RecommendationForm()
    form.grade.choices = [SelectChoice("", "Not graded")] + [SelectChoice(str(g.id), g.label)
                                                             for g in report.scheme.grades]
    form.lead_officer_id.choices = [SelectChoice("", "Not yet decided")] + [
        SelectChoice(str(u.id), u.name) for u in _people(report.partnership_id)]
    if form.validate_on_submit():
        saved, rec = commit_or_refuse(lambda: services.add_recommendation(
            report, ref=form.ref.data, text=form.text.data, finding=form.finding.data,
            grade=_choice_id(form.grade.data), response=form.response.data, agreed_date=form.agreed_date.data,
            lead_officer_id=_choice_id(form.lead_officer_id.data), actor=current_user), form)
        if saved:
            flash(f"Recommendation {rec.ref} recorded, with its action.", "success")
            return redirect(url_for("scrutiny.recommendation", recommendation_id=rec.id))
    return render_template("scrutiny/recommendation_form.html", form=form, report=report), _form_status()


def _recommendation_page(rec, *, complete_form=None, verify_form=None, reopen_form=None, status: int = 200):
    row = services.rows([rec], today())[0]
    partnership_id = rec.report.partnership_id
    auditor = permissions.is_auditor(current_user, partnership_id)
    can_complete = permissions.can_complete(current_user, rec)
    if can_complete and complete_form is None:
        complete_form = _complete_form(rec)
    revisions = [(a, u) for a in rec.actions for u in a.updates if u.revised_timescale_text]
    return render_template(
        "scrutiny/recommendation.html", rec=rec, row=row, auditor=auditor, can_complete=can_complete,
        complete_form=complete_form, verify_form=verify_form or VerifyForm(), reopen_form=reopen_form or ReopenForm(),
        revisions=revisions, revisions_label=rules.revisions_label, RecStatus=rules.RecStatus), status


def _complete_form(rec) -> CompleteForm:
    form = CompleteForm()
    form.action_id.choices = [SelectChoice(str(a.id), f"{a.ref}: {a.text[:80]}") for a in rec.actions
                              if a.is_open and permissions.plans_can_update(current_user, a)]
    return form


@bp.route("/recommendations/<int:recommendation_id>")
@login_required
def recommendation(recommendation_id: int):
    return _recommendation_page(permissions.recommendation_or_404(recommendation_id))


@bp.route("/recommendations/<int:recommendation_id>/complete", methods=["POST"])
@login_required
def complete(recommendation_id: int):
    """Step one of closure: the lead marks an action complete with evidence."""
    rec = permissions.recommendation_or_404(recommendation_id)
    _require(permissions.can_complete(current_user, rec))
    form = _complete_form(rec)
    if form.validate_on_submit():
        action = next((a for a in rec.actions if str(a.id) == form.action_id.data), None)
        if action is None:
            form.action_id.errors = ["Choose the action"]
        else:
            upload = form.file.data
            data = upload.read(int(current_app.config["EVIDENCE_MAX_BYTES"]) + 1) if upload else None
            saved, _ = commit_or_refuse(lambda: services.complete_with_evidence(
                rec, action, narrative=form.narrative.data, actor=current_user, title=form.title.data,
                url=form.url.data or None, filename=upload.filename if upload else None, data=data), form,
                fields={"narrative": "narrative", "url": "url", "file": "file", "title": "title"})
            if saved:
                flash(f"Action {action.ref} marked complete. The recommendation now awaits verification by audit.",
                      "success")
                return redirect(url_for("scrutiny.recommendation", recommendation_id=rec.id))
    return _recommendation_page(rec, complete_form=form, status=400)


def _auditor_step(recommendation_id: int, form_class, write, message: str, form_arg: str):
    """Verify or re-open: only the partnership's auditors; the service decides, the page shows its refusal."""
    rec = permissions.recommendation_or_404(recommendation_id)
    _require(permissions.is_auditor(current_user, rec.report.partnership_id))
    form = form_class()
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: write(rec, form), form)
        if saved:
            flash(message.format(ref=rec.ref), "success")
            return redirect(url_for("scrutiny.recommendation", recommendation_id=rec.id))
    return _recommendation_page(rec, **{form_arg: form}, status=400)


@bp.route("/recommendations/<int:recommendation_id>/verify", methods=["POST"])
@login_required
def verify(recommendation_id: int):
    return _auditor_step(
        recommendation_id, VerifyForm, lambda rec, form: services.verify(rec, actor=current_user, note=form.note.data),
        "Recommendation {ref} verified.", "verify_form")


@bp.route("/recommendations/<int:recommendation_id>/reopen", methods=["POST"])
@login_required
def reopen(recommendation_id: int):
    return _auditor_step(
        recommendation_id, ReopenForm,
        lambda rec, form: services.reopen(rec, actor=current_user, reason=form.reason.data),
        "Recommendation {ref} re-opened; its lead officer has been asked to act again.", "reopen_form")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="audit-recommendation-import")


@bp.route("/reports/<int:report_id>/import", methods=["GET", "POST"])
@login_required
def import_tracker(report_id: int):
    """Upload a recommendation tracker; the preview shows what a confirmation would add."""
    report = _managed_report(report_id)
    form = ImportForm()
    if form.validate_on_submit():
        try:
            rows = importer.read(form.file.data.read(), report)
        except importer.safety.ImportRefused as refusal:
            form.file.errors = [refusal.message]
        else:
            db.session.rollback()
            payload = _serializer().dumps({"report": report.id, "rows": importer.to_payload(rows)})
            return render_template("scrutiny/import_preview.html", report=report, rows=rows,
                                   form=ConfirmImportForm(payload=payload), from_iso=dt.date.fromisoformat,
                                   new=sum(1 for r in rows if not r.problem and not r.exists))
    return render_template("scrutiny/import_upload.html", report=report, form=form), _form_status()


@bp.route("/reports/<int:report_id>/import/confirm", methods=["POST"])
@login_required
def confirm_import(report_id: int):
    report = _managed_report(report_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, "Upload the tracker again: the preview was lost.")
    try:
        data = _serializer().loads(form.payload.data)
    except BadSignature:
        abort(400, "Upload the tracker again: the preview could not be read.")
    if data.get("report") != report.id:
        abort(400, "Upload the tracker again: the preview was for another report.")
    saved, added = commit_or_refuse(lambda: importer.apply(report, importer.from_payload(data["rows"]),
                                                           actor=current_user))
    if saved:
        flash(f"{added} recommendation{'s' if added != 1 else ''} imported." if added else
              "Nothing imported: every recommendation in the file is already recorded.", "success")
    return redirect(url_for("scrutiny.report", report_id=report.id))
