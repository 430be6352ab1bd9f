"""The OpenAPI description of the audit recommendation endpoints (tracker.scrutiny.api), added to
tracker.api.openapi."""
from __future__ import annotations

from tracker.scrutiny.models import Assurance, AuditorKind
from tracker.scrutiny.rules import RecStatus


def openapi_parts(_ref, _json, _error, _id, common, not_found) -> tuple[dict, dict]:
    """(paths, schemas) for tracker.api.openapi; built from its helpers so the shapes stay alike."""
    date = {"type": ["string", "null"], "format": "date"}
    moment = {"type": ["string", "null"], "format": "date-time"}
    text = {"type": ["string", "null"]}
    recommendation = {
        "type": "object",
        "required": ["id", "report_id", "ref", "text", "status", "revisions", "actions"],
        "properties": {
            "id": {"type": "integer"}, "report_id": {"type": "integer"}, "ref": {"type": "string"},
            "finding": {"type": "string"}, "text": {"type": "string"},
            "grade": {**text, "description": "In the report's own grade scheme; null when not graded."},
            "response": text,
            "status": {"type": "string", "enum": [s.value for s in RecStatus],
                       "description": "awaiting_verification: closed by management, not yet verified by audit."},
            "status_label": {"type": "string"},
            "agreed_date": date, "current_date": {**date, "description": "The latest revised date, else agreed."},
            "revisions": {"type": "integer", "description": "How many times the date was revised."},
            "revisions_label": {"type": "string", "examples": ["Revised 3 times"]},
            "overdue": {"type": "boolean"}, "evidence": {"type": "integer", "description": "Evidence items."},
            "verified_at": moment, "verified_by": _ref("Person"), "reopened_at": moment, "reopen_reason": text,
            "actions": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "ref": {"type": "string"}, "status": {"type": "string"},
                "lead": _ref("Person"), "links": {"type": "object", "additionalProperties": {"type": "string"}}}}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    report = {
        "type": "object",
        "required": ["id", "title", "partnership_id", "issued_on", "recommendations"],
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"}, "partnership_id": {"type": "integer"},
            "plan_id": {"type": "integer"}, "auditor_kind": {"type": "string", "enum": [k.value for k in AuditorKind]},
            "auditor_name": text, "issued_on": {"type": "string", "format": "date"},
            "assurance": {"type": ["string", "null"], "enum": [a.value for a in Assurance] + [None]},
            "committee": {"type": ["object", "null"], "properties": {"id": {"type": "integer"},
                                                                     "name": {"type": "string"}}},
            "grade_scheme": {"type": "string"},
            "recommendations": {"type": "array", "items": _ref("AuditRecommendation")},
        },
    }
    schemas = {"AuditRecommendation": recommendation, "AuditReport": report}
    paths = {
        "/api/v1/partnerships/{partnership_id}/audit-reports": {
            "get": {"summary": "A partnership's audit reports with their recommendations, newest first",
                    "operationId": "listAuditReports", "parameters": [_id("partnership_id", "partnership")],
                    "responses": {"200": _json({"type": "object", "properties": {
                        "items": {"type": "array", "items": _ref("AuditReport")}}}, "The reports."),
                        **common, **not_found}},
        },
        "/api/v1/audit-recommendations/{recommendation_id}": {
            "get": {"summary": "One audit recommendation: grade, status, dates, revisions and actions",
                    "operationId": "getAuditRecommendation",
                    "parameters": [_id("recommendation_id", "recommendation")],
                    "responses": {"200": _json(_ref("AuditRecommendation"), "The recommendation."),
                                  **common, **not_found}},
        },
    }
    return paths, schemas
