"""The JSON API: token authentication, plans, actions, progress updates, permissions and the OpenAPI document."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tracker.api import tokens
from tracker.api.openapi import document
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status


def test_requests_without_a_valid_token_are_refused(app, world):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer trk_not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/plans", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert set(response.get_json()) == {"error"}


def test_a_session_cookie_is_not_enough(app, world, client_as):
    assert client_as(world.admin).get("/api/v1/plans").status_code == 401


def test_tokens_of_disabled_users_and_revoked_tokens_stop_working(app, world, api):
    client = api(world.officer)
    assert client.get("/api/v1/plans").status_code == 200
    world.officer.active = False
    db.session.commit()
    assert client.get("/api/v1/plans").status_code == 401
    world.officer.active = True
    tokens.revoke_token(db.session.scalar(select(tokens.ApiToken)), actor_id=None)
    db.session.commit()
    assert client.get("/api/v1/plans").status_code == 401


def test_last_used_time_is_recorded(app, world, api):
    client = api(world.officer)
    token = db.session.scalar(select(tokens.ApiToken))
    assert token.last_used_at is None
    client.get("/api/v1/plans")
    db.session.expire_all()
    assert token.last_used_at is not None


def test_a_read_within_the_minute_writes_and_commits_nothing(app, world, api):
    """Reading the API is a read: only the first request of the minute stamps the token's last use."""
    client = api(world.officer)
    client.get("/api/v1/plans")
    statements = []
    engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement.split()[0].upper())  # noqa: E731
    commits = []
    on_commit = commits.append
    event.listen(engine, "before_cursor_execute", listener)
    event.listen(engine, "commit", on_commit)
    try:
        for _ in range(3):
            assert client.get("/api/v1/plans").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        event.remove(engine, "commit", on_commit)
    assert "UPDATE" not in statements and "INSERT" not in statements
    assert commits == []


def test_the_token_read_takes_only_the_columns_a_request_uses(app, world, api):
    """Not the password hash, session token or the token's own hash (issue 17: each column returned costs
    PostgreSQL's driver per request); what the answer shows of its owner is read with it, no second statement."""
    client = api(world.officer)
    client.get("/api/v1/plans")
    db.session.expunge_all()
    statements = []
    engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/api/v1/plans")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    token_read = statements[0]
    assert "api_tokens" in token_read and "memberships" in token_read
    for column in ("password_hash", "session_token", "last_sign_in_at", "token_hash, "):
        assert column not in token_read.split("FROM")[0], column
    assert not any("FROM users" in s for s in statements[1:])


def test_plans_are_those_of_the_users_partnerships(app, world, api):
    names = [p["name"] for p in api(world.officer).get("/api/v1/plans").get_json()["items"]]
    assert names == ["Home action plan"]
    names = [p["name"] for p in api(world.admin).get("/api/v1/plans").get_json()["items"]]
    assert names == ["Home action plan", "Other action plan"]
    plan = api(world.viewer).get(f"/api/v1/plans/{world.plan.id}").get_json()
    assert plan["partnership"]["name"] == "Home IJB" and plan["manager"]["name"] == world.manager.name
    assert plan["links"]["actions"] == f"/api/v1/plans/{world.plan.id}/actions"


@pytest.mark.parametrize("path", ["/api/v1/plans/{other_plan}", "/api/v1/plans/{other_plan}/actions",
                                  "/api/v1/actions/{outsider_action}", "/api/v1/actions/{outsider_action}/updates",
                                  "/api/v1/plans/999999", "/api/v1/actions/999999"])
def test_other_partnerships_ids_are_not_found(app, world, api, path):
    path = path.format(other_plan=world.other_plan.id, outsider_action=world.outsider_action.id)
    response = api(world.manager).get(path)
    assert response.status_code == 404
    assert response.get_json() == {"error": "The page or record does not exist, or you do not have access to it."}


def test_unknown_routes_and_methods_answer_in_json(app, world, api):
    client = api(world.officer)
    assert client.get("/api/v1/nothing-here").get_json()["error"]
    response = client.delete(f"/api/v1/actions/{world.officer_action.id}")
    assert response.status_code == 405 and "error" in response.get_json()


def test_action_carries_rag_reason_items_lead_and_organisations(app, world, api):
    action = world.officer_action
    org = factories.organisation(world.home, "Dundee Carers Centre")
    plans.edit_action(action, expected_version=None, actor_id=None, organisations=[org], timescale="March 2020")
    db.session.commit()
    body = api(world.viewer).get(f"/api/v1/actions/{action.id}").get_json()
    assert body["ref"] == "A1" and body["status"] == "on_track"
    assert body["rag"]["colour"] == "red" and "past due 31 March 2020" in body["rag"]["reason"]
    assert body["rag"]["text"].startswith("Red: ") and body["rag"]["days_overdue"] > 0
    assert body["items"][0]["number"] == "1.1"
    assert body["lead"]["email"] == "officer@example.scot"
    assert body["organisations"] == [{"id": org.id, "name": "Dundee Carers Centre", "kind": "other"}]
    assert body["version"] == action.version
    assert body["timescale"]["end"] == "2020-03-31"


def _add_actions(world, n):
    for i in range(n):
        factories.action(world.plan, ref=f"X{i}", status=Status.NOT_STARTED if i % 2 else Status.COMPLETE,
                         timescale="March 2020" if i % 3 == 0 else "March 2030")
    db.session.commit()


def test_actions_are_paginated(app, world, api):
    _add_actions(world, 28)  # 30 actions in all
    client = api(world.viewer)
    first = client.get(f"/api/v1/plans/{world.plan.id}/actions?per_page=12").get_json()
    assert (first["total"], first["pages"], first["page"], len(first["items"])) == (30, 3, 1, 12)
    assert first["links"]["prev"] is None
    last = client.get(first["links"]["next"].replace("page=2", "page=3")).get_json()
    assert len(last["items"]) == 6 and last["links"]["next"] is None
    ids = [a["id"] for a in first["items"]] + [a["id"] for a in client.get(first["links"]["next"]).get_json()["items"]]
    assert len(set(ids)) == 24
    # Beyond the maximum is refused, not silently capped (issue 11).
    assert client.get(f"/api/v1/plans/{world.plan.id}/actions?per_page=1000").status_code == 400


def test_actions_are_filtered_by_status_rag_and_overdue(app, world, api):
    _add_actions(world, 6)
    client = api(world.viewer)
    base = f"/api/v1/plans/{world.plan.id}/actions"

    def refs(query):
        return sorted(a["ref"] for a in client.get(f"{base}?{query}").get_json()["items"])

    assert refs("status=complete") == ["X0", "X2", "X4"]
    assert refs("status=not_started,on_track") == ["A1", "A2", "X1", "X3", "X5"]
    assert refs("rag=blue") == ["X0", "X2", "X4"]
    assert refs("rag=red") == ["X3"]
    assert refs("overdue=true") == ["X3"]
    assert refs("overdue=false&status=not_started") == ["X1", "X5"]
    for bad in ("status=finished", "rag=purple", "overdue=maybe", "page=0", "per_page=-1"):
        response = client.get(f"{base}?{bad}")
        assert response.status_code == 400 and response.get_json()["error"], bad


def _count_queries(app, fn) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    db.session.commit()  # start from the same, expired, session state each time
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_the_number_of_queries_does_not_grow_with_the_actions(app, world, api):
    client = api(world.viewer)
    path = f"/api/v1/plans/{world.plan.id}/actions?per_page=100"
    client.get(path)  # the token's last-used time is written on first use
    few = _count_queries(app, lambda: client.get(path))
    _add_actions(world, 20)
    many = _count_queries(app, lambda: client.get(path))
    assert many == few


def test_updates_are_listed_oldest_first(app, world, api):
    action = world.officer_action
    plans.record_progress(action, author_id=world.officer.id, status=Status.AT_RISK, narrative="Recruiting",
                          at=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc))
    plans.record_progress(action, author_id=world.officer.id, status=Status.ON_TRACK, narrative="Recruited",
                          revised_timescale="June 2031", revision_reason="New post",
                          at=dt.datetime(2026, 2, 5, tzinfo=dt.timezone.utc))
    db.session.commit()
    items = api(world.viewer).get(f"/api/v1/actions/{action.id}/updates").get_json()["items"]
    assert [u["narrative"] for u in items] == ["Recruiting", "Recruited"]
    assert items[1]["revised_due_end"] == "2031-06-30" and items[1]["author"]["name"] == world.officer.name


def _post_update(client, action, **overrides):
    body = {"status": "at_risk", "narrative": "Waiting for funding", "version": action.version, **overrides}
    return client.post(f"/api/v1/actions/{action.id}/updates", json=body)


def test_lead_officer_records_progress(app, world, api):
    action = world.officer_action
    response = _post_update(api(world.officer), action, revised_timescale="Q3 2031/32",
                            revision_reason="Funding delayed")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["update"]["status"] == "at_risk" and body["update"]["author"]["id"] == world.officer.id
    assert body["action"]["timescale"]["end"] == "2031-12-31" and body["action"]["version"] == action.version
    update = db.session.scalar(select(ProgressUpdate))
    assert update.narrative == "Waiting for funding" and update.revision_reason == "Funding delayed"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "progress")).user_id == world.officer.id


def test_an_update_is_five_statements_and_one_commit_with_the_answer_of_a_read(app, world, api):
    """The token; the action with its plan, items, organisations and latest update; the version-checked UPDATE;
    the update's and the audit event's INSERTs (issue 17: PostgreSQL pays per round trip)."""
    action = world.officer_action
    orgs = [factories.organisation(world.home, name) for name in ("Zeta Trust", "Alpha Carers")]
    item = factories.msg().themes[0].items[1]
    plans.edit_action(action, expected_version=None, actor_id=None, organisations=orgs, items=[*action.items, item])
    db.session.commit()
    client = api(world.officer)
    assert client.get("/api/v1/plans").status_code == 200  # the token's last use stamped
    action_id, version = action.id, action.version
    db.session.expunge_all()  # nothing known in advance, as in a fresh request of a web worker
    statements, commits = [], []
    engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement.split()[0].upper())  # noqa: E731
    on_commit = commits.append
    event.listen(engine, "before_cursor_execute", listener)
    event.listen(engine, "commit", on_commit)
    try:
        response = client.post(f"/api/v1/actions/{action_id}/updates",
                               json={"status": "at_risk", "narrative": "Waiting for funding", "version": version})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        event.remove(engine, "commit", on_commit)
    assert response.status_code == 201, response.get_json()
    assert statements == ["SELECT", "SELECT", "UPDATE", "INSERT", "INSERT"] and len(commits) == 1
    answer = response.get_json()["action"]
    db.session.expunge_all()
    read = client.get(f"/api/v1/actions/{action_id}").get_json()
    assert answer == read
    assert [o["name"] for o in answer["organisations"]] == ["Alpha Carers", "Zeta Trust"]
    assert len(answer["items"]) == 2 and answer["items"][0]["id"] < answer["items"][1]["id"]
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "progress"))
    update_id = response.get_json()["update"]["id"]
    assert event_.after == {"status": "at_risk", "progress_update_id": update_id}
    assert event_.before == {"status": "on_track"}


def test_the_same_update_sent_twice_is_a_repeat_and_records_nothing(app, world, api):
    """The repeat check reads the latest update with the action; a different update still saves."""
    action = world.officer_action
    client = api(world.officer)
    action_id = action.id
    first = _post_update(client, action, version=action.version)
    assert first.status_code == 201
    version = first.get_json()["action"]["version"]
    db.session.expunge_all()
    before = _state(action_id)
    again = client.post(f"/api/v1/actions/{action_id}/updates",
                        json={"status": "at_risk", "narrative": "Waiting for funding", "version": version})
    assert again.status_code == 409 and "already saved" in again.get_json()["error"]
    assert _state(action_id) == before
    other = client.post(f"/api/v1/actions/{action_id}/updates",
                        json={"status": "at_risk", "narrative": "Funding agreed", "version": version})
    assert other.status_code == 201


def _state(action_id):
    db.session.expire_all()
    action = db.session.get(Action, action_id)
    return (action.version, action.status, action.due_end,
            db.session.scalar(select(func.count(ProgressUpdate.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


@pytest.mark.parametrize("overrides,message", [
    ({"version": None}, "version"),
    ({"version": "3"}, "version"),
    ({"status": "finished"}, "Unknown status"),
    ({"status": None}, "status"),
    ({"narrative": 12}, "narrative"),
    ({"narrative": "x" * 20_001}, "longer than"),
    ({"revised_timescale": "June 2031"}, "Give the reason the timescale has changed"),  # the service's words
    ({"revised_timescale": "when pigs fly", "revision_reason": "hope"}, "could not read a date"),
])
def test_bad_progress_updates_are_refused_and_change_nothing(app, world, api, overrides, message):
    action = world.officer_action
    client = api(world.officer)
    before = _state(action.id)
    response = _post_update(client, action, **overrides)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _state(action.id) == before


def test_a_body_that_is_not_json_is_refused(app, world, api):
    response = api(world.officer).post(f"/api/v1/actions/{world.officer_action.id}/updates", data="status=x")
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]


def test_a_stale_version_is_refused_with_409(app, world, api):
    action = world.officer_action
    seen = action.version
    plans.edit_action(action, expected_version=seen, actor_id=world.manager.id, text="Edited meanwhile")
    db.session.commit()
    client = api(world.officer)
    before = _state(action.id)
    response = _post_update(client, action, version=seen)
    assert response.status_code == 409
    assert response.get_json()["current_version"] == action.version != seen
    assert _state(action.id) == before


def test_token_requests_need_no_csrf_token_but_cookie_requests_get_nothing(make_app, world):
    app = make_app(WTF_CSRF_ENABLED=True)
    _, secret = tokens.create_token(world.officer, "script")
    db.session.commit()
    action = world.officer_action
    body = {"status": "at_risk", "narrative": "Recruitment delayed", "version": action.version}
    before = _state(action.id)
    from tests.conftest import sign_in_client

    cookie_client = sign_in_client(app, world.officer)
    assert cookie_client.post(f"/api/v1/actions/{action.id}/updates", json=body).status_code == 401
    assert _state(action.id) == before
    response = app.test_client().post(f"/api/v1/actions/{action.id}/updates", json=body,
                                      headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201


# Permissions: every role against the write endpoint ---------------------------------------------------------

WRITE_CASES = [
    # (who, which action, expected status)
    ("viewer", "officer_action", 403),
    ("officer", "officer_action", 201),
    ("other_officer", "officer_action", 403),
    ("officer", "colleague_action", 403),
    ("manager", "officer_action", 201),
    ("partnership_admin", "officer_action", 201),
    ("admin", "officer_action", 201),
    ("outsider", "officer_action", 404),
    ("outsider", "outsider_action", 201),
    ("viewer", "outsider_action", 404),
    ("nobody", "officer_action", 401),
]


@pytest.mark.parametrize("who,which,expected", WRITE_CASES, ids=[f"{w}-{a}-{e}" for w, a, e in WRITE_CASES])
def test_post_update_permissions(app, world, api, who, which, expected):
    if who == "partnership_admin":
        user = factories.user(world.home, Role.ADMIN)
    else:
        user = getattr(world, who, None)
    client = api(user) if user is not None else app.test_client()
    action = getattr(world, which)
    before = _state(action.id)
    response = _post_update(client, action)
    assert response.status_code == expected, response.get_json()
    if expected == 201:
        assert _state(action.id)[3] == before[3] + 1
    else:
        assert _state(action.id) == before
        assert set(response.get_json()) == {"error"}


# OpenAPI ---------------------------------------------------------------------------------------------------


def _openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_openapi_document_is_valid_and_lists_every_route(app, client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = json.loads(response.get_data(as_text=True))
    assert spec == json.loads(json.dumps(document()))
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            routes.setdefault(_openapi_path(rule), set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes == {path: set(ops) for path, ops in spec["paths"].items()}
    assert set(routes) == {"/api/v1/openapi.json", "/api/v1/plans", "/api/v1/plans/{plan_id}",
                           "/api/v1/plans/{plan_id}/actions", "/api/v1/actions/{action_id}",
                           "/api/v1/actions/{action_id}/updates",
                           "/api/v1/plans/{plan_id}/risks", "/api/v1/risks/{risk_id}",
                           "/api/v1/risks/{risk_id}/reviews",
                           "/api/v1/updates/{update_id}", "/api/v1/partnerships/{partnership_id}/audit-reports",
                           "/api/v1/audit-recommendations/{recommendation_id}"}
