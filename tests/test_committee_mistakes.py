"""Committee mistakes caught before they stick: the chosen partnership is the one saved, committees and
meetings can be changed and removed (audited), meeting dates in the past or on a bank holiday are warned
about and saved only when confirmed, dates are typed and shown the UK way."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.audit.models import AuditEvent
from tracker.auth.models import Membership, Role
from tracker.committees import services as committees
from tracker.committees.models import Committee, CommitteeKind, Meeting
from tracker.dates import parse_date, parse_typed_date
from tracker.errors import Conflict, RuleError
from tracker.extensions import db
from tracker.periods import bank_holiday_name
from tracker.timeutil import today
from tracker.workbooks import services as workbooks


def future(days: int = 90) -> dt.date:
    day = today() + dt.timedelta(days=days)
    # A working day, away from the holidays (a bank holiday asks "are you sure?" before saving).
    while day.weekday() >= 5 or day.month in (1, 12) or bank_holiday_name(day):
        day += dt.timedelta(days=1)
    return day


def date_fields(day: dt.date, name: str = "held_on") -> dict:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


@pytest.fixture
def committee(world):
    committee = committees.save_committee(None, partnership_id=world.home.id, name="PAC", kind=CommitteeKind.PAC,
                                          papers_due_working_days=10, plans=[world.plan])
    db.session.commit()
    return committee


# --------------------------------------------------------------------------- the one date parser
@pytest.mark.parametrize("parts,expected", [
    (("27", "1", "2027"), dt.date(2027, 1, 27)), ((" 3 ", "March", "2026"), dt.date(2026, 3, 3)),
    (("1", "sept", "2030"), dt.date(2030, 9, 1))])
def test_day_month_year_are_read(parts, expected):
    assert parse_date(*parts) == expected


@pytest.mark.parametrize("text,expected", [
    ("27/1/2027", dt.date(2027, 1, 27)), ("27 January 2027", dt.date(2027, 1, 27)),
    ("2027-01-27", dt.date(2027, 1, 27)), ("1.4.2026", dt.date(2026, 4, 1))])
def test_a_date_typed_in_one_box_is_read(text, expected):
    assert parse_typed_date(text) == expected


@pytest.mark.parametrize("parts", [("31", "2", "2027"), ("", "", ""), ("1", "13", "2027"), ("1", "1", "27"),
                                   ("1", "1", "1989"), ("x", "1", "2027"), ("1", "1", "99999")])
def test_impossible_dates_are_refused_plainly(parts):
    with pytest.raises(RuleError) as refused:
        parse_date(*parts, field="held_on", label="The meeting date")
    assert refused.value.field == "held_on" and "meeting date" in refused.value.message


# --------------------------------------------------------------------------- the new-committee form
def test_saving_uses_the_chosen_partnership_without_the_choose_button(world, client_as):
    """Found: choosing a partnership and pressing Save created the committee under another partnership."""
    world.manager.memberships.append(Membership(partnership_id=world.other.id, role=Role.PLAN_MANAGER))
    db.session.commit()
    client = client_as(world.manager)
    page = client.get("/committees/new")
    assert 'name="partnership_id"' in page.text
    chosen = max(world.home.id, world.other.id)  # not the one listed first
    response = client.post("/committees/new", data={"partnership_id": str(chosen), "name": "Audit",
                                                    "kind": "pac", "papers_due_working_days": "10"})
    assert response.status_code == 302
    assert db.session.scalars(select(Committee)).one().partnership_id == chosen


def test_show_its_plans_keeps_what_was_typed_and_saves_nothing(world, client_as):
    client = client_as(world.manager)
    response = client.post("/committees/new", data={"partnership_id": str(world.home.id), "name": "Audit",
                                                    "kind": "pac", "papers_due_working_days": "10",
                                                    "choose": "1"})
    assert response.status_code == 200 and 'value="Audit"' in response.text and world.plan.name in response.text
    assert db.session.scalar(select(func.count(Committee.id))) == 0


def test_another_partnerships_id_is_refused(world, client_as):
    client = client_as(world.manager)
    response = client.post("/committees/new", data={"partnership_id": str(world.other.id), "name": "Audit",
                                                    "kind": "pac", "papers_due_working_days": "10"})
    assert response.status_code == 400 and "Choose the partnership" in response.text
    assert db.session.scalar(select(func.count(Committee.id))) == 0


# --------------------------------------------------------------------------- removing a committee
def test_a_committee_is_removed_after_confirming_and_audited(world, client_as, committee):
    committees.add_meeting(committee, future(), None)
    committees.add_member(committee, world.viewer, "Member")
    db.session.commit()
    client = client_as(world.manager)
    page = client.get(f"/committees/{committee.id}/remove")
    assert page.status_code == 200 and "1 member" in page.text and "1 meeting" in page.text
    assert client.post(f"/committees/{committee.id}/remove").status_code == 302
    assert db.session.scalar(select(func.count(Committee.id))) == 0
    assert db.session.scalar(select(func.count(Meeting.id))) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "remove",
                                                        AuditEvent.entity_type == "committee")).one()
    assert event.after["name"] == "PAC" and event.user_id == world.manager.id


def test_a_committee_with_issued_papers_stays(world, client_as, committee):
    meeting = committees.add_meeting(committee, future(), None)
    workbooks.issue_workbook(world.plan, workbooks.quarter_for_meeting(meeting), committee=committee,
                             meeting=meeting)
    db.session.commit()
    with pytest.raises(Conflict):
        committees.remove_committee(committee, actor=world.manager)
    db.session.rollback()
    client = client_as(world.manager)
    assert "stays on record" in client.get(f"/committees/{committee.id}/remove").text
    client.post(f"/committees/{committee.id}/remove")
    assert db.session.scalar(select(func.count(Committee.id))) == 1
    with pytest.raises(Conflict, match="date stays"):
        committees.edit_meeting(committee, meeting, future(120), None, actor=world.manager)


def test_only_managers_remove_committees(world, client_as, committee):
    assert client_as(world.officer).post(f"/committees/{committee.id}/remove").status_code == 403
    assert db.session.scalar(select(func.count(Committee.id))) == 1


# --------------------------------------------------------------------------- meeting dates
def test_meeting_typed_day_month_year_is_saved_and_shown_the_uk_way(world, client_as, committee):
    day = future()
    client = client_as(world.manager)
    page = client.get(f"/committees/{committee.id}")
    assert 'name="held_on-day"' in page.text and "2027-01-27" not in page.text
    response = client.post(f"/committees/{committee.id}/meetings", data={**date_fields(day), "title": "Q2"})
    assert response.status_code == 302
    assert db.session.scalars(select(Meeting)).one().held_on == day
    assert f"{day.day} {day:%B %Y}" in client.get(f"/committees/{committee.id}").text


@pytest.mark.parametrize("day,warning", [(dt.date(2020, 1, 1), "in the past"),
                                         (dt.date(2030, 12, 25), "bank holiday (Christmas Day)")])
def test_a_meeting_in_the_past_or_on_a_bank_holiday_asks_before_saving(world, client_as, committee, day, warning):
    """Found: a meeting dated 1 January 2020 was accepted without a word, and so were bank holidays."""
    client = client_as(world.manager)
    asked = client.post(f"/committees/{committee.id}/meetings", data=date_fields(day))
    assert asked.status_code == 200 and warning in asked.text and "Save the meeting anyway" in asked.text
    assert db.session.scalar(select(func.count(Meeting.id))) == 0
    confirmed = client.post(f"/committees/{committee.id}/meetings", data={**date_fields(day), "confirmed": "yes"})
    assert confirmed.status_code == 302
    assert db.session.scalars(select(Meeting)).one().held_on == day


def test_the_service_warns_at_every_door_that_asks(world, committee):
    with pytest.raises(committees.NeedsConfirmation) as asked:
        committees.add_meeting(committee, dt.date(2030, 12, 25), None, actor=world.manager, confirmed=False)
    assert "Christmas" in asked.value.message
    assert committees.meeting_warnings(dt.date(2030, 12, 24), dt.date(2030, 1, 1)) == []


def test_a_meeting_is_changed_and_the_change_audited(world, client_as, committee):
    meeting = committees.add_meeting(committee, future(), None)
    db.session.commit()
    client = client_as(world.manager)
    page = client.get(f"/committees/{committee.id}/meetings/{meeting.id}/edit")
    assert page.status_code == 200 and f'value="{meeting.held_on.day}"' in page.text
    new_day = future(150)
    response = client.post(f"/committees/{committee.id}/meetings/{meeting.id}/edit",
                           data={**date_fields(new_day), "title": "Moved"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).held_on == new_day
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "edit_meeting")).one()
    assert event.after["held_on"] == new_day.isoformat()


def test_a_bad_date_is_refused_beside_the_field(world, client_as, committee):
    client = client_as(world.manager)
    response = client.post(f"/committees/{committee.id}/meetings",
                           data={"held_on-day": "31", "held_on-month": "2", "held_on-year": "2030"})
    assert response.status_code == 400 and "must be a real date" in response.text
    assert 'href="#held_on-day"' in response.text
    assert db.session.scalar(select(func.count(Meeting.id))) == 0


def test_issuing_one_workbook_says_one_workbook(world, client_as, committee):
    meeting = committees.add_meeting(committee, future(), None)
    db.session.commit()
    client = client_as(world.manager)
    client.post(f"/committees/{committee.id}/meetings/{meeting.id}/issue")
    page = client.get(f"/committees/{committee.id}")
    assert "Issued 1 workbook for" in page.text and "workbook(s)" not in page.text
