"""Each role's home at "/", its queries (a constant number whatever the size), and the What changed pages."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tracker.auth.models import Membership, Role
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.extensions import db
from tracker.home import queries
from tracker.plans import services as plans
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status
from tracker.timeutil import today


def count_statements(client, url: str) -> tuple[int, str]:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with client.application.app_context():
            response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text[:500]
    return len(statements), response.text


def committee(world, *, members=(), days_ahead=20, days_back=40):
    c = Committee(partnership_id=world.home.id, name="Home Performance Committee", kind=CommitteeKind.PAC)
    c.plans.append(world.plan)
    for user in members:
        c.members.append(CommitteeMember(user=user, role_label="Member"))
    c.meetings.append(Meeting(held_on=today() + dt.timedelta(days=days_ahead), title="Next meeting"))
    c.meetings.append(Meeting(held_on=today() - dt.timedelta(days=days_back), title="Last meeting"))
    db.session.add(c)
    db.session.commit()
    return c


def test_parts_for_each_role(world):
    assert queries.parts(world.officer, on_committee=False) == [queries.OFFICER]
    assert queries.parts(world.manager, on_committee=False) == [queries.OFFICER, queries.MANAGER]
    assert queries.parts(world.viewer, on_committee=True) == [queries.COMMITTEE]
    assert queries.parts(world.admin, on_committee=False) == [queries.NATIONAL, queries.ADMIN]
    national = factories.user(world.home, Role.VIEWER, email="national@example.scot")
    db.session.add(Membership(user=national, partnership_id=world.other.id, role=Role.VIEWER))
    db.session.commit()
    assert queries.parts(national, on_committee=False) == [queries.NATIONAL]
    # Several roles: a lead officer who also sits on a committee sees both parts.
    assert queries.parts(world.officer, on_committee=True) == [queries.OFFICER, queries.COMMITTEE]
    auditor = factories.user(world.home, Role.AUDITOR, email="auditor@example.scot")
    db.session.commit()
    assert queries.parts(auditor, on_committee=False) == [queries.AUDIT, queries.COMMITTEE]


def test_home_needs_sign_in_and_lands_each_role(world, client_as):
    committee(world, members=[world.viewer])
    officer = client_as(world.officer).get("/").text
    assert "Your actions" in officer and "Before the next meeting: Home Performance Committee" in officer
    assert world.officer_action.text[:30] in officer and "Plans you manage" not in officer
    manager = client_as(world.manager).get("/").text
    assert "Plans you manage" in manager and "being escalated" in manager and "Papers due" in manager
    assert world.other_plan.name not in manager
    viewer = client_as(world.viewer).get("/").text
    assert "Your committees" in viewer and "Next meeting:" in viewer and "What changed" in viewer
    assert "You do not lead any open actions" not in viewer
    admin = client_as(world.admin).get("/").text
    assert "Partnerships side by side" in admin and "<svg" in admin and "Scheduler" in admin
    assert "Home IJB" in admin and "Other IJB" in admin


def test_manager_counts_overdue_escalated_and_leadless(world, client_as, app):
    factories.action(world.plan, ref="OLD", timescale="March 2020", lead=world.officer)
    factories.action(world.plan, ref="NEW", timescale=today() - dt.timedelta(days=3), lead=world.officer)
    factories.action(world.plan, ref="NOLEAD", timescale="March 2030")
    db.session.commit()
    part = queries.manager_part(world.manager, today())
    [plan] = part.plans
    assert (plan.tally.overdue, plan.tally.escalated, plan.tally.no_lead) == (2, 1, 1)


def test_home_queries_do_not_grow_with_the_data(world, client_as):
    committee(world, members=[world.viewer, world.officer, world.manager])
    auditor = factories.user(world.home, Role.AUDITOR, email="auditor@example.scot")
    db.session.commit()
    clients = {who: client_as(getattr(world, who)) for who in ("officer", "manager", "viewer", "admin")}
    clients["auditor"] = client_as(auditor)
    before = {who: count_statements(c, "/")[0] for who, c in clients.items()}
    for n in range(40):
        action = factories.action(world.plan, ref=f"X{n}", lead=world.officer, timescale="March 2020")
        db.session.flush()
        plans.record_progress(action, author_id=world.officer.id, status=Status.AT_RISK, narrative="Late",
                              revised_timescale="March 2031", revision_reason="Staff")
    more = factories.plan(world.home, "Second plan", manager=world.manager)
    factories.action(more, ref="S1", lead=world.officer)
    db.session.commit()
    after = {who: count_statements(c, "/")[0] for who, c in clients.items()}
    assert after == before


def test_committee_changes_page_lists_slips_with_reasons(world, client_as):
    c = committee(world, members=[world.viewer], days_back=40)
    world.officer_action.created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=200)
    plans.record_progress(world.officer_action, author_id=world.officer.id, status=Status.AT_RISK,
                          narrative="Short of staff", revised_timescale="June 2031",
                          revision_reason="Recruitment to the post failed")
    db.session.commit()
    html = client_as(world.viewer).get(f"/committees/{c.id}/changes").text
    assert "Slipped <span class=\"app-count\">(1)</span>" in html
    assert "Recruitment to the post failed" in html and "June 2031" in html
    plan_page = client_as(world.viewer).get(f"/plans/{world.plan.id}/changes?since=2000-01-01").text
    assert "Since 1 January 2000" in plan_page


@pytest.mark.parametrize("since", ["31/02/2026", "2026-02-31", "1999-12-31", "9999-01-01", "x" * 500, "2026-1-1\x00"])
def test_changes_page_refuses_a_bad_date_clearly(world, client_as, since):
    response = client_as(world.viewer).get(f"/plans/{world.plan.id}/changes", query_string={"since": since})
    assert response.status_code == 400
    assert "There is a problem" in response.text and "Enter" in response.text


def test_changes_pages_hide_other_partnerships(world, client_as):
    other = Committee(partnership_id=world.other.id, name="Theirs", kind=CommitteeKind.PAC)
    db.session.add(other)
    db.session.commit()
    client = client_as(world.viewer)
    assert client.get(f"/plans/{world.other_plan.id}/changes").status_code == 404
    assert client.get(f"/committees/{other.id}/changes").status_code == 404
    assert client.get(f"/committees/{2**63}/changes").status_code == 404


def test_account_page_offers_api_tokens_only_to_those_who_can_use_them(world, client_as):
    assert "API tokens" in client_as(world.officer).get("/auth/account").text
    assert "API tokens" in client_as(world.admin).get("/auth/account").text
    assert "API tokens" not in client_as(world.viewer).get("/auth/account").text
