"""Property tests on the services (issue 11): for arbitrary text, numbers and dates, each write is either
stored exactly as the service returned it or refused with a RuleError, never another exception, and the
same on SQLite and PostgreSQL (this module runs on whichever database the suite runs on).

Bounded by example count, not time: each property runs at most `EXAMPLES` examples, derandomised so a
failure repeats.
"""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.committees import services as committees
from tracker.committees.models import CommitteeKind, Meeting
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Plan, ProgressUpdate
from tracker.rag import Status

EXAMPLES = 60
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: Any text at all: control characters, lone surrogates, right-to-left scripts, emoji, long runs.
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),
    st.sampled_from(["\x00", "a\r\nb", "\u202eevil", "שלום עולם", "\ud800", " \t ", "=SUM(A1)", "x" * 25_000,
                     "Jo\u2028Bloggs", "Women’s Aid 👩‍⚕️"]),
)


def _stored_or_refused(write, read_back):
    """Run `write`; if it returns, commit and compare what the database gives back with what it returned."""
    try:
        expected = write()
    except RuleError:
        db.session.rollback()
        return None
    db.session.commit()
    db.session.expire_all()
    assert read_back() == expected
    return expected


@PROPERTY
@given(narrative=ANY_TEXT)
def test_a_narrative_is_stored_exactly_or_refused(world, narrative):
    action = world.officer_action

    def write():
        update = plans.record_progress(action, actor=world.officer, status=Status.AT_RISK, narrative=narrative)
        return update.id, update.narrative

    def read_back():
        update = db.session.get(ProgressUpdate, stored_id[0])
        return update.id, update.narrative

    stored_id = []
    try:
        expected = write()
    except RuleError:
        db.session.rollback()
        return
    stored_id.append(expected[0])
    db.session.commit()
    db.session.expire_all()
    assert read_back() == expected
    assert "\r" not in expected[1] and "\x00" not in expected[1]


@PROPERTY
@given(name=ANY_TEXT)
def test_a_plan_name_is_stored_exactly_or_refused(world, name):
    created = []

    def write():
        plan = plans.create_plan(partnership_id=world.home.id, framework_id=world.plan.framework_id, name=name,
                                 actor=world.manager)
        created.append(plan.id)
        return plan.name

    result = _stored_or_refused(write, lambda: db.session.get(Plan, created[0]).name)
    if result is not None:
        assert result == result.strip() and not any(ord(c) < 32 for c in result)


@PROPERTY
@given(held_on=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)), title=ANY_TEXT)
def test_a_meeting_is_stored_exactly_or_refused(world, held_on, title):
    committee = world.committee if hasattr(world, "committee") else None
    if committee is None:
        committee = committees.save_committee(None, partnership_id=world.home.id, name="PAC",
                                              kind=CommitteeKind.PAC, papers_due_working_days=10, plans=[])
        db.session.commit()
        world.committee = committee
    made = []

    def write():
        meeting = committees.add_meeting(committee, held_on, title, actor=world.manager)
        made.append(meeting.id)
        return meeting.held_on, meeting.title

    def read_back():
        meeting = db.session.get(Meeting, made[0])
        return meeting.held_on, meeting.title

    result = _stored_or_refused(write, read_back)
    if result is not None:
        assert dt.date(1990, 1, 1) <= result[0] <= dt.date(2100, 12, 31)
        db.session.delete(db.session.get(Meeting, made[0]))
        db.session.commit()


@PROPERTY
@given(timescale=ANY_TEXT)
def test_a_revised_timescale_is_a_readable_date_or_refused(world, timescale):
    action = world.officer_action
    due_before = action.due_end
    try:
        plans.record_progress(action, actor=world.officer, status=Status.AT_RISK, narrative="Moved",
                              revised_timescale=timescale, revision_reason="Procurement")
    except RuleError:
        db.session.rollback()
        db.session.expire_all()
        assert action.due_end == due_before  # a refusal never loses the due date
        return
    db.session.commit()
    db.session.expire_all()
    assert action.timescale_kind in ("dated", "ongoing")
    if action.due_end is not None:
        assert dt.date(1990, 1, 1) <= action.due_end <= dt.date(2100, 12, 31)


@PROPERTY
@given(number=st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**70)))
def test_any_id_in_a_url_is_a_page_or_a_404(world, client_as, number):
    client = client_as(world.manager)
    for path in (f"/plans/{abs(number)}", f"/actions/{abs(number)}", f"/plans/{world.plan.id}?lead={number}",
                 f"/committees/{abs(number)}"):
        assert client.get(path).status_code in (200, 404), path
