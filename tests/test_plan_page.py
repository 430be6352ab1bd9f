"""The plan page: grouping, filters, counts, and a query count that does not grow with the actions shown."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import event

from tests import factories
from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.rag import Status

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc), tick=False):
        yield


@pytest.fixture
def items(app):
    return frameworks.items_by_number(factories.msg())


def section(html: str, heading_start: str) -> str:
    """The HTML from one heading to the next of the same level or higher."""
    start = html.index(heading_start)
    level = html[start + 2]
    following = re.search(rf"<h[1-{level}][ >]", html[start + 4:])
    return html[start: start + 4 + following.start()] if following else html[start:]


def test_actions_grouped_by_key_feature_then_proposal_with_also_note(world, client_as, items, frozen):
    factories.action(world.plan, ref="M1", text="Shared action", items=[items["2.2"], items["1.2"]])
    factories.action(world.plan, ref="M2", text="Second feature action", items=[items["2.1"]])
    factories.action(world.plan, ref="M3", text="Unlinked action", items=[])
    db.session.commit()
    # factories.action links unlinked actions to 1.1 by default; unlink M3 by hand.
    m3 = [a for a in world.plan.actions if a.ref == "M3"][0]
    m3.items = []
    db.session.commit()
    html = client_as(world.viewer).get(f"/plans/{world.plan.id}").text
    feature1 = section(html, "<h2>Key feature 1:")
    assert "Proposal 1.2:" in feature1 and "Shared action" in feature1 and "(also 2.2)" in feature1
    feature2 = section(html, "<h2>Key feature 2:")
    assert "Second feature action" in feature2 and "Shared action" not in feature2
    assert "Proposal 2.2" not in feature2  # empty groups are not shown
    assert "Not linked to a proposal" in html and "Unlinked action" in html
    assert html.index("Key feature 1:") < html.index("Key feature 2:")


def test_counts_per_group_by_rag(world, client_as, items, frozen):
    factories.action(world.plan, ref="R1", timescale="March 2020", items=[items["2.1"]])  # red
    factories.action(world.plan, ref="R2", timescale="March 2021", items=[items["2.1"]])  # red
    factories.action(world.plan, ref="C1", status=Status.COMPLETE, items=[items["2.1"]])  # blue
    db.session.commit()
    html = client_as(world.viewer).get(f"/plans/{world.plan.id}").text
    proposal = section(html, "<h3>Proposal 2.1:")
    assert re.search(r'class="rag rag--red">2 Red<', proposal)
    assert re.search(r'class="rag rag--blue">1 Blue<', proposal)
    assert "Showing 5 of 5 actions" in html


@pytest.mark.parametrize("query, shown, hidden", [
    ("status=at_risk", ["Risky"], ["Late one", "Calm one"]),
    ("rag=red", ["Late one"], ["Calm one"]),
    ("overdue=1", ["Late one"], ["Calm one", "Risky"]),
    ("due_before=2025-01-01", ["Late one"], ["Calm one"]),
    ("q=CALM", ["Calm one"], ["Late one", "Risky"]),
    ("q=x9", ["Late one"], ["Calm one"]),
    ("q=100%25", [], ["Late one", "Calm one"]),  # % is matched literally, not as a wildcard
])
def test_filters(world, client_as, frozen, query, shown, hidden):
    factories.action(world.plan, ref="X9", text="Late one", timescale="March 2020")
    factories.action(world.plan, ref="Y1", text="Calm one", timescale="March 2030")
    factories.action(world.plan, ref="Y2", text="Risky", timescale="March 2029", status=Status.AT_RISK)
    db.session.commit()
    html = client_as(world.viewer).get(f"/plans/{world.plan.id}?{query}").text
    for text in shown:
        assert text in html
    for text in hidden:
        assert text not in html
    assert "(filtered)" in html


def test_filter_by_lead_officer_and_organisation(world, client_as, frozen):
    org = factories.organisation(world.home, "Carers Centre")
    from tracker.plans import services as plans

    plans.create_action(plan=world.plan, text="Centre action", ref="O1", organisations=[org])
    db.session.commit()
    client = client_as(world.viewer)
    by_lead = client.get(f"/plans/{world.plan.id}?lead={world.officer.id}").text
    assert ">A1<" in by_lead and ">A2<" not in by_lead
    by_org = client.get(f"/plans/{world.plan.id}?organisation={org.id}").text
    assert "Centre action" in by_org and ">A1<" not in by_org


def test_bad_filter_values_are_ignored_not_errors(world, client_as):
    response = client_as(world.viewer).get(
        f"/plans/{world.plan.id}?status=nope&rag=purple&lead=abc&due_before=31/02/2024&organisation=-1")
    assert response.status_code == 200
    assert ">A1<" in response.text and ">A2<" in response.text and "(filtered)" not in response.text


def test_rag_is_shown_as_colour_and_text_with_the_reason(world, client_as, frozen):
    factories.action(world.plan, ref="L1", timescale=dt.date(2026, 10, 1))
    db.session.commit()
    html = client_as(world.viewer).get(f"/plans/{world.plan.id}").text
    assert '<span class="rag rag--red">Red</span> overdue since 1 October 2026 (50 days)' in html


def test_another_partnerships_plan_is_not_found(world, client_as):
    client = client_as(world.officer)
    assert client.get(f"/plans/{world.other_plan.id}").status_code == 404
    assert client.get("/plans/424242").status_code == 404
    plans_list = client.get("/plans").text
    assert world.plan.name in plans_list and world.other_plan.name not in plans_list


def count_queries(client, url: str) -> list[str]:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:120])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        # A fresh app context: its own session and `g`, as in a real request (the test's context caches both).
        with client.application.app_context():
            response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return statements


def add_actions(plan, n: int, items, lead, org) -> None:
    from tracker.plans import services as plans

    numbers = list(items)
    for index in range(n):
        plans.create_action(plan=plan, text=f"Bulk action {index}", ref=f"B{index}",
                            timescale="March 2020" if index % 3 == 0 else "March 2030", lead_officer_id=lead.id,
                            items=[items[numbers[index % len(numbers)]], items[numbers[(index + 5) % len(numbers)]]],
                            organisations=[org])


def test_query_count_does_not_grow_with_the_number_of_actions(world, client_as, items):
    org = factories.organisation(world.home)
    small = factories.plan(world.home, "Small plan")
    large = factories.plan(world.home, "Large plan")
    add_actions(small, 5, items, world.officer, org)
    add_actions(large, 200, items, world.officer, org)
    db.session.commit()
    client, colleague = client_as(world.officer), client_as(world.other_officer)
    small_id, large_id = small.id, large.id
    for url_template in ("/plans/{}", "/plans/{}?q=bulk&rag=red"):
        small_count = count_queries(client, url_template.format(small_id))
        large_count = count_queries(client, url_template.format(large_id))
        assert len(small_count) == len(large_count), (url_template, small_count, large_count)
    # My actions: the officer leads 205 + 1 actions now; compare with a colleague leading one.
    assert len(count_queries(client, "/my-actions")) == len(count_queries(colleague, "/my-actions"))


def test_plan_page_shows_each_change_at_once_despite_its_cache(world, client_as):
    client = client_as(world.manager)
    url = f"/plans/{world.plan.id}"

    def row_of(ref: str) -> str:
        html = client.get(url).text
        start = html.index(f">{ref}</a>")
        return html[start: html.index("</tr>", start)]

    assert "On track" in row_of("A1") and "Green" in row_of("A1")
    assert row_of("A1") == row_of("A1")  # served twice (the second from the cache)
    action = world.officer_action
    assert client.post(f"/actions/{action.id}", data={
        "version": str(action.version), "status": "complete", "narrative": "Done"}).status_code == 302
    assert "Complete" in row_of("A1") and "Blue" in row_of("A1")
    db.session.expire_all()
    assert client.post(f"/actions/{action.id}/edit", data={
        "version": str(db.session.get(type(action), action.id).version), "ref": "A1", "text": "Renamed action",
        "timescale": action.timescale_text, "status": "complete",
        "items": [str(i.id) for i in action.items]}).status_code == 302
    assert "Renamed action" in row_of("A1")
    assert client.post(f"{url}/actions/new", data={"text": "Brand new", "ref": "N1"}).status_code == 302
    assert "Brand new" in row_of("N1")


def test_a_renamed_lead_or_proposal_shows_at_once_in_every_process(world, make_app):
    """Each process keeps its own cache of the plan's table; a name changed by another process (another
    gunicorn worker, the CLI) must show at once there too, not after a time-based expiry."""
    from tests.conftest import sign_in_client
    from tracker.auth.models import User
    from tracker.plans.stamps import NameStamp

    other_worker = make_app()  # a second app: its own cache, its own connections
    client = sign_in_client(other_worker, world.manager)
    url = f"/plans/{world.plan.id}"
    officer = world.officer
    assert officer.name in client.get(url).text  # cached there now
    officer.name = "Renamed Officer"
    db.session.commit()
    assert "Renamed Officer" in client.get(url).text
    item = next(iter(world.officer_action.items), None)
    if item is not None:
        item.title = "A proposal with a new title"
        db.session.commit()
        assert "A proposal with a new title" in client.get(url).text
    # A sign-in or any other change to a user that is not a name leaves the cache alone.
    stamp = db.session.scalar(db.select(NameStamp.counter))
    db.session.get(User, officer.id).active = True
    officer.email = "officer.new@example.scot"
    db.session.commit()
    assert db.session.scalar(db.select(NameStamp.counter)) == stamp
