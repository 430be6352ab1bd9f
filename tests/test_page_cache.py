"""My actions and the plan page are cached per process against stamps of the data (tracker.plans.cache): a
change committed anywhere shows on the next request, in every process, and a cached page costs few queries.

"Another process" is a second app (its own cache and connections, as another gunicorn worker); the writes
are made through the services in the test's app, as the CLI or another worker would make them.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from tests import factories
from tests.conftest import sign_in_client, statements_of
from tests.page_clients import client_as  # noqa: F401  (fixture: each request in its own app context)
from tracker.extensions import db, ping_idle_connections
from tracker.frameworks import services as frameworks
from tracker.plans import services as plans
from tracker.plans.models import Action
from tracker.rag import Status


@pytest.fixture
def worker(make_app):
    """A second app standing in for another gunicorn worker."""
    return make_app()


def without_token(page: str) -> str:
    """The page without the sign-out form's token (signed with the time, so it changes by the second)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_my_actions_shows_each_change_at_once_in_another_process(world, worker):
    client = sign_in_client(worker, world.officer)
    action = world.officer_action
    page = client.get("/my-actions").text
    assert action.text in page and world.plan.name in page
    assert without_token(client.get("/my-actions").text) == without_token(page)  # the second from the cache

    # A progress update closing the action: it leaves My actions.
    plans.record_progress(action, actor=world.officer, status=Status.COMPLETE, narrative="Finished.",
                          expected_version=action.version)
    db.session.commit()
    assert action.text not in client.get("/my-actions").text

    # A new action for the officer, then the plan renamed (a name the list shows, kept elsewhere).
    fresh = factories.action(world.plan, lead=world.officer, text="A brand new action for the officer")
    db.session.commit()
    assert fresh.text in client.get("/my-actions").text
    plans.edit_plan(world.plan, actor=world.manager, name="Renamed home plan")
    db.session.commit()
    assert "Renamed home plan" in client.get("/my-actions").text

    # Re-assigned to a colleague: gone from the officer's list, there in the colleague's at once.
    colleague = sign_in_client(worker, world.other_officer)
    assert fresh.text not in colleague.get("/my-actions").text
    plans.reassign_actions(plans=[world.plan], from_user_id=world.officer.id, to_user_id=world.other_officer.id,
                           actor=world.manager)
    db.session.commit()
    assert fresh.text not in client.get("/my-actions").text
    assert fresh.text in colleague.get("/my-actions").text

    # The plan archived: its actions leave the colleague's list.
    plans.archive_plan(world.plan, actor=world.manager)
    db.session.commit()
    assert fresh.text not in colleague.get("/my-actions").text


def test_my_actions_of_one_person_is_never_shown_to_another(world, worker):
    officer, colleague = sign_in_client(worker, world.officer), sign_in_client(worker, world.other_officer)
    mine = officer.get("/my-actions").text
    theirs = colleague.get("/my-actions").text
    assert world.officer_action.text in mine and world.officer_action.text not in theirs
    assert world.colleague_action.text in theirs and world.colleague_action.text not in mine


def test_a_lost_role_hides_the_actions_at_once(world, worker):
    """The cache is keyed by the person's roles too: a membership removed shows on the next request."""
    client = sign_in_client(worker, world.officer)
    assert world.officer_action.text in client.get("/my-actions").text
    membership = world.officer.memberships[0]
    db.session.delete(membership)
    db.session.commit()
    assert world.officer_action.text not in client.get("/my-actions").text


def test_plan_page_shows_a_relinked_action_and_a_new_framework_at_once(world, worker):
    client = sign_in_client(worker, world.manager)
    url = f"/plans/{world.plan.id}"
    items = frameworks.items_by_number(factories.msg())
    page = client.get(url).text
    assert "(also" not in page
    action = world.officer_action
    plans.edit_action(action, expected_version=action.version, actor=world.manager,
                      items=sorted([items["1.1"], items["2.1"]], key=lambda i: i.id))
    db.session.commit()
    assert "(also 2.1)" in client.get(url).text
    # Actions added in bulk (one statement, as an import adds them) show too.
    plans.create_actions(world.plan, [{"text": "Imported in bulk", "ref": "I1", "status": Status.NOT_STARTED}],
                         actor=world.manager)
    db.session.commit()
    assert "Imported in bulk" in client.get(url).text


def test_cached_pages_cost_few_queries_whatever_their_size(world, client_as, app):
    """Served from the cache, My actions needs the user, their roles and one stamp; the plan page its usual
    parts, without rebuilding the table. Neither grows with the number of actions."""
    busy = client_as(world.officer)
    quiet = client_as(world.other_officer)
    for n in range(60):
        factories.action(world.plan, lead=world.officer, text=f"Bulk action {n}")
    db.session.commit()
    for client in (busy, quiet):
        client.get("/my-actions")  # fill the cache
    busy_statements, busy_page = statements_of(app, busy, "/my-actions")
    quiet_statements, _ = statements_of(app, quiet, "/my-actions")
    assert "Bulk action 59" in busy_page
    assert len(busy_statements) == len(quiet_statements) <= 4, busy_statements
    assert not any("JOIN plans" in s for s in busy_statements)  # the list itself was not read again

    manager = client_as(world.manager)
    url = f"/plans/{world.plan.id}"
    cold, _ = statements_of(app, manager, url)
    warm, page = statements_of(app, manager, url)
    assert "Bulk action 59" in page
    assert len(warm) <= len(cold) - 4 and len(warm) <= 12, (len(cold), warm)


def test_api_progress_update_answers_from_one_transaction(world, api, app):
    """The answer is read before the commit: one transaction, no reload of what was just written."""
    client = api(world.officer)
    action = world.officer_action
    assert client.get(f"/api/v1/actions/{action.id}").status_code == 200  # the token's first use is noted
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:80])

    events = {"begin": 0, "commit": 0}
    listeners = [(name, lambda conn, name=name: events.__setitem__(name, events[name] + 1)) for name in events]
    event.listen(db.engine, "before_cursor_execute", note)
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        response = client.post(f"/api/v1/actions/{action.id}/updates", json={
            "status": "at_risk", "version": action.version, "narrative": "Some risk to the timescale."})
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        for name, listener in listeners:
            event.remove(db.engine, name, listener)
    assert response.status_code == 201, response.json
    db.session.expire_all()
    saved = db.session.get(Action, action.id)
    body = response.json
    assert body["action"]["version"] == saved.version and body["action"]["status"] == "at_risk"
    assert body["update"]["narrative"] == "Some risk to the timescale."
    assert body["update"]["author"]["id"] == world.officer.id
    assert response.headers["Location"].endswith(f"/api/v1/actions/{action.id}/updates")
    assert events["commit"] == 1
    assert not any(s.startswith("SELECT") for s in seen[seen.index(next(s for s in seen if s.startswith(
        "INSERT INTO audit_events"))):]), seen  # nothing read back after the write
    assert len(seen) <= 14, seen


def test_pool_pings_only_a_connection_left_idle_and_replaces_a_dead_one(app):
    """No round trip before every checkout: a connection idle past the setting is pinged, and one the
    database closed meanwhile is replaced before the request uses it."""
    from sqlalchemy import create_engine

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    try:
        ping_idle_connections(engine, 0)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            first = connection.connection.dbapi_connection
        first.close()  # the database closed it behind the pool's back (a restart, an idle timeout)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 2")).scalar() == 2
            assert connection.connection.dbapi_connection is not first
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", ["/my-actions", "/plans/{plan}"])
def test_gzipped_page_is_the_same_page_and_never_compresses_the_form_token(world, worker, path):
    """A browser that accepts gzip gets the same page compressed; only the cached list is compressed, the
    page around it (with the sign-out form's token and the echoed search) is sent as stored blocks."""
    import gzip

    client = sign_in_client(worker, world.manager)
    url = path.format(plan=world.plan.id) + ("?q=A" if "plans" in path else "")
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    body = packed.get_data()
    page = gzip.decompress(body).decode()
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    assert token.sub("", page) == token.sub("", plain.text)
    sent_token = token.search(page).group(0)
    assert sent_token.encode() in body  # verbatim: not compressed with anything else
    assert int(packed.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 100_003])
def test_fragment_continues_a_crc_as_zlib_would(size):
    """The gzipped page's CRC is continued over the cached fragment from the fragment's own CRC."""
    import os
    import zlib

    from tracker.plans.cache import Fragment

    fragment = Fragment(os.urandom(size))
    for start in (0, 1, 0xFFFFFFFF, 0x80000000, zlib.crc32(b"<html>")):
        assert fragment.crc_after(start) == zlib.crc32(fragment, start)
