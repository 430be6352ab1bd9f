"""The JSON API: bearer-token authentication, the same permission rules as the pages, JSON errors."""
from __future__ import annotations

import functools
import math

from flask import Blueprint, abort, g, jsonify, request, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only, selectinload

from tracker import doors
from tracker import text as texts
from tracker.api import serialise, tokens
from tracker.api.openapi import MAX_NARRATIVE, document
from tracker.errors import RuleError
from tracker.extensions import csrf, db
from tracker.frameworks.models import FrameworkItem
from tracker.partnerships.models import Organisation
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, ProgressUpdate, action_items, action_organisations
from tracker.plans.permissions import action_or_404, can_update_action, can_view_plan, plan_or_404, plans_query
from tracker.rag import Rag, Status
from tracker.timeutil import today

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Requests are authenticated by a bearer token only, never by the session cookie, so a forged cross-site
# request carries no credentials and CSRF tokens have nothing to protect here.
csrf.exempt(bp)

MAX_PER_PAGE = 100
PUBLIC_ENDPOINTS = {"api.openapi"}
UPDATE_FIELDS = {"status", "narrative", "revised_timescale", "revision_reason", "version", "superseded_by_id",
                 "no_longer_needed"}


class BadInput(RuleError):
    """A request the API cannot parse; the message says what to fix."""


def error(message: str, status: int, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


@bp.errorhandler(RuleError)
def refused(exc: RuleError):
    """Every refusal, from parsing or from a service: its status, message and field as JSON."""
    db.session.rollback()
    return error(exc.message, exc.status, **({"field": exc.field} if exc.field else {}))


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        db.session.rollback()
        response = error("Send a valid API token in the header 'Authorization: Bearer <token>'.", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
        return response
    if db.session.is_modified(token):
        db.session.commit()  # the token's last-used time, at most once a minute: a read otherwise writes nothing
    g.api_user = token.user
    return None


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/plans")
def list_plans():
    query = plans_query(g.api_user).options(
        joinedload(Plan.partnership), joinedload(Plan.framework), joinedload(Plan.manager)
    ).order_by(Plan.name, Plan.id)
    return jsonify(items=[serialise.plan(p) for p in db.session.scalars(query).unique()])


@bp.get("/plans/<int:plan_id>")
def get_plan(plan_id: int):
    plan = plan_or_404(plan_id, g.api_user)
    return jsonify(serialise.plan(plan))


def _choices(name: str, enum_type) -> set | None:
    """A filter given as ?name=a,b or ?name=a&name=b, checked against the enum's values."""
    raw = [part.strip() for value in request.args.getlist(name) for part in value.split(",") if part.strip()]
    if not raw:
        return None
    allowed = {member.value for member in enum_type}
    unknown = [value for value in raw if value not in allowed]
    if unknown:
        raise BadInput(f"Unknown {name} '{unknown[0]}'. Use one of: {', '.join(sorted(allowed))}.")
    return {enum_type(value) for value in raw}


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise BadInput(f"'{name}' must be a whole number of 1 or more.", name)
    if maximum is not None and int(raw) > maximum:
        raise BadInput(f"'{name}' must be {maximum} or less.", name)
    return int(raw)


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise BadInput(f"'{name}' must be true or false.")


@bp.get("/plans/<int:plan_id>/actions")
def plan_actions(plan_id: int):
    plan = plan_or_404(plan_id, g.api_user)
    statuses = _choices("status", Status)
    rags = _choices("rag", Rag)
    overdue = _flag("overdue")
    page = _positive_int("page", 1)
    per_page = _positive_int("per_page", 25, MAX_PER_PAGE)

    # RAG is derived in Python by tracker.rag (the one place for its rules): filter on the few columns it needs,
    # then load the page's actions in full.
    query = select(Action).where(Action.plan_id == plan.id).order_by(Action.id).options(
        load_only(Action.id, Action.status, Action.due_end, Action.last_update_at, Action.created_at)
    )
    if statuses:
        query = query.where(Action.status.in_(statuses))
    now = today()
    rows = [(action, action.rag(now)) for action in db.session.scalars(query)]
    if rags:
        rows = [(a, r) for a, r in rows if r.rag in rags]
    if overdue is not None:
        rows = [(a, r) for a, r in rows if (r.days_overdue > 0) == overdue]
    total = len(rows)
    pages = max(1, math.ceil(total / per_page))
    page_ids = [a.id for a, _ in rows[(page - 1) * per_page: page * per_page]]
    shown = db.session.scalars(
        select(Action).where(Action.id.in_(page_ids)).order_by(Action.id)
        .options(selectinload(Action.items), selectinload(Action.organisations), joinedload(Action.lead_officer))
        .execution_options(populate_existing=True)
    ).unique().all() if page_ids else []

    def page_link(number: int) -> str | None:
        if number < 1 or number > pages:
            return None
        return url_for("api.plan_actions", plan_id=plan.id, **{**request.args.to_dict(flat=False),
                                                               "page": number, "per_page": per_page})

    return jsonify(items=[serialise.action(a, now) for a in shown], page=page, per_page=per_page, total=total,
                   pages=pages, links={"next": page_link(page + 1), "prev": page_link(page - 1)})


@bp.get("/actions/<int:action_id>")
def get_action(action_id: int):
    action = action_or_404(action_id, g.api_user)
    return jsonify(serialise.action(action, today()))


@bp.get("/actions/<int:action_id>/updates")
def action_updates(action_id: int):
    action = action_or_404(action_id, g.api_user)
    updates = db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.action_id == action.id)
        .options(joinedload(ProgressUpdate.author), selectinload(ProgressUpdate.corrections))
        .order_by(ProgressUpdate.created_at, ProgressUpdate.id)
    )
    return jsonify(items=[serialise.progress_update(u) for u in updates])


@bp.patch("/updates/<int:update_id>")
def correct_update(update_id: int):
    """The author corrects the narrative of their own latest update within 24 hours (the pages' service)."""
    user = g.api_user
    update = db.session.get(ProgressUpdate, update_id)
    if update is None:
        abort(404)
    action_or_404(update.action_id, user)  # another partnership's update is not found either
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("Send a JSON object with the corrected narrative.")
    unknown = sorted(set(body) - {"narrative"})
    if unknown:
        raise BadInput(f"Unknown field '{unknown[0]}'. Send only: narrative.", unknown[0])
    narrative = _string(body, "narrative")
    if narrative is None:
        raise BadInput("'narrative' is required.", "narrative")
    if len(narrative) > MAX_NARRATIVE:
        raise BadInput(f"'narrative' is longer than {MAX_NARRATIVE:,} characters.", "narrative")
    committed(lambda: plans.correct_update(update, narrative=narrative, actor=user))
    fresh = db.session.scalars(select(ProgressUpdate).where(ProgressUpdate.id == update_id).options(
        joinedload(ProgressUpdate.author), selectinload(ProgressUpdate.corrections))
        .execution_options(populate_existing=True)).one()
    return jsonify(serialise.progress_update(fresh))


def _string(body: dict, name: str) -> str | None:
    """A string field as sent (absent is None; null or another type is refused: the schema says string)."""
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str):
        raise BadInput(f"'{name}' must be a string.", name)
    return value


def progress_input(body: object) -> dict:
    """Parse a progress update's JSON body into the service's arguments; the service checks the rules."""
    if not isinstance(body, dict):
        raise BadInput("Send a JSON object with status, narrative and version.")
    unknown = sorted(set(body) - UPDATE_FIELDS)
    if unknown:
        raise BadInput(f"Unknown field '{unknown[0]}'. Send only: {', '.join(sorted(UPDATE_FIELDS))}.", unknown[0])
    status = _string(body, "status")
    if status is None:
        raise BadInput("'status' is required.", "status")
    if status not in {s.value for s in Status}:
        raise BadInput(f"Unknown status '{status[:40]}'. Use one of: {', '.join(s.value for s in Status)}.",
                       "status")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadInput("'version' is required: the action's version when you read it (a whole number).", "version")
    narrative = _string(body, "narrative")
    if narrative is not None and len(narrative) > MAX_NARRATIVE:
        raise BadInput(f"'narrative' is longer than {MAX_NARRATIVE:,} characters.", "narrative")
    replacement = body.get("superseded_by_id")
    if "superseded_by_id" in body and (not isinstance(replacement, int) or isinstance(replacement, bool)):
        raise BadInput("'superseded_by_id' must be the id of the action that replaces this one.", "superseded_by_id")
    revised = _string(body, "revised_timescale")
    if revised is not None and not revised.strip():  # the schema's contract: present only when the date moves
        raise BadInput("'revised_timescale' is empty: leave it out when the timescale does not change.",
                       "revised_timescale")
    reason = _string(body, "revision_reason")  # needed with a new timescale: the service says so (as at every door)
    no_longer_needed = body.get("no_longer_needed", False)
    if not isinstance(no_longer_needed, bool):
        raise BadInput("'no_longer_needed' must be true or false.", "no_longer_needed")
    return {"status": Status(status), "narrative": narrative, "revised_timescale": revised,
            "revision_reason": reason, "expected_version": version, "superseded_by_id": replacement,
            "no_longer_needed": no_longer_needed}


def committed(write):
    """The API's one commit point: run a service write and commit, or roll back and raise its refusal
    (a RuleError, with the database's own refusals translated as the web's doors do)."""
    try:
        value = write()
        db.session.commit()
        return value
    except Exception as exc:
        refusal = doors.refusal(exc)
        if refusal is None:
            raise
        db.session.rollback()
        raise refusal from exc


@functools.cache
def _to_update_query():
    """action_to_update's statement, built once (its cache key too): the action, its plan, items,
    organisations and latest update, for the action id bound as `action_id`."""
    latest = aliased(ProgressUpdate)
    newest = (select(ProgressUpdate.id).where(ProgressUpdate.action_id == Action.id)
              .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(1)
              .correlate(Action).scalar_subquery())
    # Joined flat, not as joinedload's nested "LEFT JOIN (action_items JOIN framework_items)", which SQLite
    # answers by scanning every action's items; ordered as the relationships order them.
    return (
        select(Action, latest).join(Action.plan).outerjoin(latest, latest.id == newest)
        .outerjoin(action_items, action_items.c.action_id == Action.id)
        .outerjoin(FrameworkItem, FrameworkItem.id == action_items.c.item_id)
        .outerjoin(action_organisations, action_organisations.c.action_id == Action.id)
        .outerjoin(Organisation, Organisation.id == action_organisations.c.organisation_id)
        .where(Action.id == bindparam("action_id"))
        # Only the columns the update reads (not the items' descriptors, JSON decoded per row, nor the plan's
        # description); anything else a later read needs is loaded then.
        .options(contains_eager(Action.plan).load_only(Plan.partnership_id, Plan.archived_at),
                 contains_eager(Action.items).load_only(FrameworkItem.number, FrameworkItem.title),
                 contains_eager(Action.organisations).load_only(Organisation.name, Organisation.kind))
        .order_by(FrameworkItem.id, Organisation.name)
    )


def action_to_update(action_id: int, user) -> tuple[Action, ProgressUpdate | None]:
    """The action (or 404, as action_or_404) with everything an update reads: its plan (the permission
    check), items and organisations (the audit snapshot and the answer) and its latest update (the repeat
    check), in one round trip instead of four."""
    if not texts.in_id_range(action_id):
        abort(404)
    row = db.session.execute(_to_update_query(), {"action_id": action_id}).unique().first()
    if row is None or not can_view_plan(user, row[0].plan):
        abort(404)
    return row[0], row[1]


@bp.post("/actions/<int:action_id>/updates")
def add_update(action_id: int):
    user = g.api_user
    action, latest = action_to_update(action_id, user)
    if not can_update_action(user, action):  # before reading the body: the service checks again
        return error("You cannot update this action: only its lead officer and the plan's managers can.", 403)
    values = progress_input(request.get_json(silent=True))

    def write() -> dict:
        # The answer is read from what the write flushed, before the commit: after it every object would be
        # expired and reloaded (six more round trips and a second transaction, on PostgreSQL a real cost).
        update = plans.record_progress(action, actor=user, latest=latest, **values)
        return {"update": serialise.progress_update(update), "action": serialise.action(action, today())}

    try:
        answer = committed(write)
    except RuleError as refusal:
        if refusal.status == 409 and refusal.field == "version":
            current = db.session.get(Action, action_id)
            return error("The action changed since you read it. Read it again and resend your update.", 409,
                         field="version", current_version=current.version)
        raise
    response = jsonify(answer)
    response.status_code = 201
    response.headers["Location"] = url_for("api.action_updates", action_id=action_id)
    return response


from tracker.risks import api as _risks_api  # noqa: E402,F401  (the risk endpoints, on this blueprint)
from tracker.scrutiny import api as _scrutiny_api  # noqa: E402,F401  (the audit recommendation endpoints)
