"""The API's audit recommendation endpoints, on the API blueprint (tracker.api.views imports this module):
read a partnership's audit reports with their recommendations, and one recommendation. Same bearer tokens and
visibility rules as the pages (tracker.scrutiny.permissions); reading only."""
from __future__ import annotations

from flask import abort, g, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import text as texts
from tracker.api.serialise import person
from tracker.api.views import bp
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action
from tracker.scrutiny import permissions, rules, services
from tracker.scrutiny.models import AuditReport, Recommendation
from tracker.timeutil import today


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def recommendation_json(row: services.Row) -> dict:
    rec = row.rec
    return {
        "id": rec.id, "report_id": rec.report_id, "ref": rec.ref, "finding": rec.finding, "text": rec.text,
        "grade": rec.grade.label if rec.grade else None, "response": rec.response,
        "status": row.status.value, "status_label": row.status.label,
        "agreed_date": _iso(row.agreed), "current_date": _iso(row.current), "revisions": row.revisions,
        "revisions_label": rules.revisions_label(row.revisions), "overdue": row.overdue, "evidence": row.evidence,
        "verified_at": _iso(rec.verified_at), "verified_by": person(rec.verified_by),
        "reopened_at": _iso(rec.reopened_at), "reopen_reason": rec.reopen_reason,
        "actions": [{"id": a.id, "ref": a.ref, "status": a.status.value, "lead": person(a.lead_officer),
                     "links": {"self": url_for("api.get_action", action_id=a.id)}} for a in rec.actions],
        "links": {"self": url_for("api.get_audit_recommendation", recommendation_id=rec.id)},
    }


def report_json(report: AuditReport, recommendations: list[dict]) -> dict:
    return {
        "id": report.id, "title": report.title, "partnership_id": report.partnership_id, "plan_id": report.plan_id,
        "auditor_kind": report.auditor_kind.value, "auditor_name": report.auditor_name,
        "issued_on": _iso(report.issued_on), "assurance": report.assurance.value if report.assurance else None,
        "committee": {"id": report.committee.id, "name": report.committee.name} if report.committee else None,
        "grade_scheme": report.scheme.name, "recommendations": recommendations,
    }


_REC_OPTIONS = (selectinload(Recommendation.grade), selectinload(Recommendation.verified_by),
                selectinload(Recommendation.actions).selectinload(Action.lead_officer),
                selectinload(Recommendation.actions).selectinload(Action.updates))


@bp.get("/partnerships/<int:partnership_id>/audit-reports")
def partnership_audit_reports(partnership_id: int):
    """The partnership's audit reports, newest first, each with its recommendations as the committee sees them."""
    partnership = db.session.get(Partnership, partnership_id) if texts.in_id_range(partnership_id) else None
    if partnership is None or not permissions.can_view(g.api_user, partnership.id):
        abort(404)
    reports = list(db.session.scalars(
        select(AuditReport).where(AuditReport.partnership_id == partnership.id)
        .options(selectinload(AuditReport.committee), selectinload(AuditReport.scheme),
                 selectinload(AuditReport.recommendations).options(*_REC_OPTIONS))
        .order_by(AuditReport.issued_on.desc(), AuditReport.id.desc())))
    found = {row.rec.id: row for row in services.rows([r for rep in reports for r in rep.recommendations], today())}
    return jsonify(items=[report_json(rep, [recommendation_json(found[r.id]) for r in rep.recommendations])
                          for rep in reports])


@bp.get("/audit-recommendations/<int:recommendation_id>")
def get_audit_recommendation(recommendation_id: int):
    rec = permissions.recommendation_or_404(recommendation_id, g.api_user)
    return jsonify(recommendation_json(services.rows([rec], today())[0]))
