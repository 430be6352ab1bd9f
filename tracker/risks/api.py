"""The API's risk endpoints, on the API blueprint (tracker.api.views imports this module): read a plan's risks
and a risk's scores and history; record a review. Same bearer tokens and permission rules as the pages."""
from __future__ import annotations

import datetime as dt
import re

from flask import g, jsonify, request, url_for

from tracker.api.serialise import person
from tracker.api.views import BadInput, bp, committed, error
from tracker.plans.permissions import plan_or_404
from tracker.risks import queries, services
from tracker.risks.permissions import can_edit_risk, risk_or_404
from tracker.timeutil import today

REVIEW_FIELDS = {"inherent", "residual", "target", "reason", "review_date"}
from tracker.risks.openapi import MAX_REASON


def _score(score, matrix) -> dict:
    return {"likelihood": score.likelihood, "impact": score.impact, "score": score.value,
            "band": matrix.band(score.value).name}


def _review(review, matrix) -> dict:
    return {"id": review.id, "reviewed_at": review.reviewed_at.isoformat(), "reviewed_by": person(review.reviewed_by),
            "reason": review.reason, "status": review.status.value,
            "inherent": _score(review.inherent, matrix), "residual": _score(review.residual, matrix),
            "target": _score(review.target, matrix)}


def risk_json(row: queries.RiskRow) -> dict:
    risk, m = row.risk, row.matrix
    return {
        "id": risk.id, "reference": risk.reference, "title": risk.title, "description": risk.description,
        "categories": risk.category_list, "status": risk.status.value, "owner": person(risk.owner),
        "review_date": risk.review_date.isoformat() if risk.review_date else None,
        "partnership_id": risk.partnership_id, "plan_ids": [p.id for p in risk.plans],
        "matrix": {"size": m.size, "bands": [{"name": b.name, "from": b.low} for b in m.bands]},
        "inherent": _score(row.inherent, m), "residual": _score(row.residual, m), "target": _score(row.target, m),
        "flag": row.flag,
        "actions": [{"id": a.id, "ref": a.ref, "status": a.status.value, "rag": r.rag.value, "reason": r.reason}
                    for a, r in row.action_rags],
        "version": risk.version,
        "links": {"self": url_for("api.get_risk", risk_id=risk.id),
                  "reviews": url_for("api.add_risk_review", risk_id=risk.id)},
    }


@bp.get("/plans/<int:plan_id>/risks")
def plan_risks(plan_id: int):
    plan = plan_or_404(plan_id, g.api_user)
    rows, _ = queries.register(plan=plan, filters=queries.RegisterFilters(status="all"), day=today())
    return jsonify(items=[risk_json(r) for r in rows])


@bp.get("/risks/<int:risk_id>")
def get_risk(risk_id: int):
    risk = risk_or_404(risk_id, g.api_user)
    row = queries.rows_for([risk], today())[0]
    body = risk_json(row)
    body["history"] = [_review(r, row.matrix) for r in services.history(risk)]
    return jsonify(body)


def _pair(body: dict, name: str) -> tuple[int, int]:
    value = body.get(name)
    if not isinstance(value, dict) or set(value) != {"likelihood", "impact"}:
        raise BadInput(f"'{name}' must be an object with likelihood and impact.", name)
    for part in ("likelihood", "impact"):
        number = value[part]
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10:
            raise BadInput(f"'{name}.{part}' must be a whole number from 1 to 10.", name)
    return value["likelihood"], value["impact"]


def review_input(body: object) -> dict:
    if not isinstance(body, dict):
        raise BadInput("Send a JSON object with inherent, residual, target and reason.")
    unknown = sorted(set(body) - REVIEW_FIELDS)
    if unknown:
        raise BadInput(f"Unknown field '{unknown[0]}'. Send only: {', '.join(sorted(REVIEW_FIELDS))}.", unknown[0])
    values = {name: _pair(body, name) for name in ("inherent", "residual", "target")}
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise BadInput(f"'reason' is required: why the risk was reviewed (up to {MAX_REASON:,} characters).",
                       "reason")
    values["reason"] = reason
    if "review_date" in body:
        raw = body["review_date"]
        if raw is None:
            values["review_date"] = None
        elif isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                values["review_date"] = dt.date.fromisoformat(raw)
            except ValueError:
                raise BadInput("'review_date' must be a date like 2027-03-31, or null.", "review_date") from None
        else:
            raise BadInput("'review_date' must be a date like 2027-03-31, or null.", "review_date")
    return values


@bp.post("/risks/<int:risk_id>/reviews")
def add_risk_review(risk_id: int):
    user = g.api_user
    risk = risk_or_404(risk_id, user)
    if not can_edit_risk(user, risk):
        return error("You cannot review this risk: only the plan's managers and the risk's owner can.", 403)
    values = review_input(request.get_json(silent=True))
    review = committed(lambda: services.review_risk(risk, actor=user, **values))
    row = queries.rows_for([risk], today())[0]
    response = jsonify(review=_review(review, row.matrix), risk=risk_json(row))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_risk", risk_id=risk.id)
    return response
