"""The OpenAPI description of the risk endpoints (tracker.risks.api), added to tracker.api.openapi."""
from __future__ import annotations

MAX_REASON = 5_000


def openapi_parts(_ref, _json, _error, _id, common, not_found) -> tuple[dict, dict]:
    """(paths, schemas) for tracker.api.openapi; built from its helpers so the shapes stay alike."""
    score = {"type": "object", "required": ["likelihood", "impact", "score", "band"],
             "properties": {"likelihood": {"type": "integer"}, "impact": {"type": "integer"},
                            "score": {"type": "integer"}, "band": {"type": "string"}}}
    pair = {"type": "object", "required": ["likelihood", "impact"], "additionalProperties": False,
            "properties": {"likelihood": {"type": "integer", "minimum": 1, "maximum": 10},
                           "impact": {"type": "integer", "minimum": 1, "maximum": 10}}}
    review = {"type": "object", "properties": {
        "id": {"type": "integer"}, "reviewed_at": {"type": "string", "format": "date-time"},
        "reviewed_by": _ref("Person"), "reason": {"type": "string"}, "status": {"type": "string"},
        "inherent": _ref("RiskScore"), "residual": _ref("RiskScore"), "target": _ref("RiskScore")}}
    risk = {"type": "object", "required": ["id", "reference", "title", "status", "inherent", "residual", "target"],
            "properties": {
                "id": {"type": "integer"}, "reference": {"type": "string"}, "title": {"type": "string"},
                "description": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}},
                "status": {"type": "string", "enum": ["open", "tolerated", "closed"]}, "owner": _ref("Person"),
                "review_date": {"type": ["string", "null"], "format": "date"},
                "partnership_id": {"type": "integer"}, "plan_ids": {"type": "array", "items": {"type": "integer"}},
                "matrix": {"type": "object"}, "inherent": _ref("RiskScore"), "residual": _ref("RiskScore"),
                "target": _ref("RiskScore"),
                "flag": {"type": ["string", "null"], "examples": ["residual 4 assumes 2 actions, 1 overdue"]},
                "actions": {"type": "array", "items": {"type": "object"}}, "version": {"type": "integer"},
                "history": {"type": "array", "items": _ref("RiskReview")},
                "links": {"type": "object", "additionalProperties": {"type": "string"}}}}
    new_review = {"type": "object", "required": ["inherent", "residual", "target", "reason"],
                  "additionalProperties": False,
                  "properties": {"inherent": pair, "residual": pair, "target": pair,
                                 "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                                            "pattern": r"\S"},
                                 "review_date": {"type": ["string", "null"], "format": "date"}}}
    schemas = {"RiskScore": score, "RiskReview": review, "Risk": risk, "NewRiskReview": new_review}
    paths = {
        "/api/v1/plans/{plan_id}/risks": {
            "get": {"summary": "A plan's risks with their scores, flagged first", "operationId": "listPlanRisks",
                    "parameters": [_id("plan_id", "plan")],
                    "responses": {"200": _json({"type": "object", "properties": {
                        "items": {"type": "array", "items": _ref("Risk")}}}, "The plan's risks."),
                        **common, **not_found}}},
        "/api/v1/risks/{risk_id}": {
            "get": {"summary": "One risk, its scores and its history", "operationId": "getRisk",
                    "parameters": [_id("risk_id", "risk")],
                    "responses": {"200": _json(_ref("Risk"), "The risk, with every review newest first."),
                                  **common, **not_found}}},
        "/api/v1/risks/{risk_id}/reviews": {
            "post": {
                "summary": "Record a review of a risk",
                "description": "Plan managers and the risk's owner. Appends a scored review; earlier ones are "
                               "kept. Likelihood and impact run from 1 to the partnership's matrix size.",
                "operationId": "addRiskReview", "parameters": [_id("risk_id", "risk")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewRiskReview")}}},
                "responses": {
                    "201": _json({"type": "object", "properties": {"review": _ref("RiskReview"),
                                                                   "risk": _ref("Risk")}}, "Recorded."),
                    "400": _error("A missing or wrong field, a score beyond the matrix, or a residual score above "
                                  "the inherent one; the message says which."),
                    **common, "403": _error("You can see this risk but may not review it."), **not_found,
                    "409": _error("The risk is closed, or changed at the same moment."),
                }}},
    }
    return paths, schemas
