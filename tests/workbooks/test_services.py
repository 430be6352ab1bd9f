"""Workbook snapshots from the database, issuing, the scheduled job and the command line."""
from __future__ import annotations

import datetime as dt
import hashlib
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests import factories
from tracker import timeutil
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.demo.services import DUNDEE, load_demo
from tracker.extensions import db
from tracker.periods import FinancialQuarter
from tracker.plans import services as plans
from tracker.rag import Status
from tracker.workbooks import services
from tracker.workbooks.builder import build_workbook
from tracker.workbooks.models import IssuedWorkbook

Q2 = FinancialQuarter(2023, 2)


@pytest.fixture
def world(world):
    """The shared world, created back in January 2023 (before the quarters these tests report on)."""
    long_ago = dt.datetime(2023, 1, 9, 10, tzinfo=dt.timezone.utc)
    for record in (world.plan, world.other_plan, world.officer_action, world.colleague_action,
                   world.outsider_action):
        record.created_at = long_ago
    db.session.commit()
    return world


def rows(content: bytes, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return list(wb[sheet].iter_rows(values_only=True))


def test_demo_dundee_workbook_opens_in_libreoffice_and_summary_matches_actions(app, tmp_path, soffice):
    from tests.workbooks.helpers import convert_with_libreoffice

    ctx = load_demo()
    db.session.commit()
    plan = ctx.plans[DUNDEE]
    content = build_workbook(services.workbook_data(plan, FinancialQuarter(2026, 2), as_at=dt.date(2026, 10, 1)))
    path = tmp_path / "dundee.xlsx"
    path.write_bytes(content)
    convert_with_libreoffice(path, tmp_path)

    actions = rows(content, "Actions")
    header, body = actions[0], actions[1:]
    assert len(body) == len(plan.actions) == 50
    summary = rows(content, "Summary")
    heads = next(row for row in summary if row and row[0] == "Strategic outcome")
    total = next(row for row in summary if row and row[0] == "All actions")
    for status in Status:
        assert total[heads.index(status.label)] == sum(1 for r in body if r[header.index("Status")] == status.label)
    assert total[heads.index("Total")] == 50


def test_snapshot_reads_the_plan(world):
    action = world.officer_action
    plans.record_progress(action, author_id=world.officer.id, status=Status.AT_RISK, narrative="Staff shortage",
                          revised_timescale="June 2031", revision_reason="Recruitment",
                          at=dt.datetime(2023, 8, 1, 12, tzinfo=dt.timezone.utc))
    plans.record_progress(action, author_id=world.officer.id, status=Status.AT_RISK, narrative="Still short",
                          revised_timescale="December 2031", revision_reason="Recruitment again",
                          at=dt.datetime(2023, 9, 1, 12, tzinfo=dt.timezone.utc))
    db.session.commit()
    data = services.workbook_data(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    row = next(r for r in data.actions if r.ref == "A1")
    assert (row.status, row.latest_update, row.due) == ("at_risk", "Still short", dt.date(2031, 12, 31))
    assert row.lead_officer == world.officer.name and row.proposals == "1.1"
    assert row.group.startswith("1 ")
    assert row.changed_this_quarter
    slipped = [c for c in data.changes if c.ref == "A1" and c.kind == "Date slipped"]
    assert slipped and slipped[0].times_date_moved == 2


def test_the_cycle_collector_is_paused_only_while_the_snapshot_is_read(world, monkeypatch):
    import gc

    seen = []
    real = services._read_snapshot

    def spy(*args):
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(services, "_read_snapshot", spy)
    services.workbook_data(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    assert seen == [False] and gc.isenabled()

    def broken(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_read_snapshot", broken)
    with pytest.raises(RuntimeError):
        services.workbook_data(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    assert gc.isenabled()  # back on after a failed read too


def test_changes_compare_with_the_previous_quarters_issued_workbook(world):
    previous, _ = services.issue_workbook(world.plan, Q2.previous(), as_at=dt.date(2023, 7, 5))
    in_q2 = dt.datetime(2023, 9, 1, 12, tzinfo=dt.timezone.utc)
    plans.record_progress(world.officer_action, author_id=world.officer.id, status=Status.COMPLETE,
                          narrative="Done", at=in_q2)
    plans.record_progress(world.colleague_action, author_id=world.other_officer.id, status=Status.ON_TRACK,
                          narrative="Later", revised_timescale="March 2032", revision_reason="Scope grew", at=in_q2)
    added = factories.action(world.plan, ref="A3")
    added.created_at = in_q2
    db.session.commit()
    data = services.workbook_data(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    kinds = {(c.ref, c.kind) for c in data.changes}
    assert kinds == {("A1", "Completed"), ("A2", "Date slipped"), (added.ref, "New")}
    assert "Q1 2023/24 workbook" in data.compared_with
    assert next(c for c in data.changes if c.kind == "Date slipped").times_date_moved == 1


def test_issued_workbook_is_frozen_checksummed_and_rebuilds_the_same(world):
    issued, created = services.issue_workbook(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    db.session.commit()
    assert created and issued.sha256 == hashlib.sha256(issued.content).hexdigest()
    sheets = openpyxl.load_workbook(io.BytesIO(issued.content), read_only=True).sheetnames
    before = {sheet: rows(issued.content, sheet) for sheet in sheets}
    plans.edit_action(world.officer_action, expected_version=None, actor_id=world.manager.id,
                      text="Rewritten later", status=Status.COMPLETE)
    db.session.commit()
    rebuilt = services.rebuild(issued)
    assert {sheet: rows(rebuilt, sheet) for sheet in sheets} == before
    assert "Rewritten later" not in str(before) and "Rewritten later" in str(
        rows(build_workbook(services.workbook_data(world.plan, Q2, as_at=timeutil.today())), "Actions"))
    again, created_again = services.issue_workbook(world.plan, Q2)
    assert again.id == issued.id and not created_again


def test_never_issued_twice_for_the_same_meeting(world):
    """Mutation it catches: dropping UniqueConstraint("plan_id", "meeting_id"). Any exception used to pass
    (a missing NOT NULL column would have done); now only the uniqueness violation on those columns does,
    and the same row for another meeting is accepted."""
    committee = Committee(partnership_id=world.home.id, name="PAC", kind=CommitteeKind.PAC)
    committee.plans.append(world.plan)
    meeting = Meeting(held_on=dt.date(2023, 10, 25))
    committee.meetings.append(meeting)
    db.session.add(committee)
    db.session.flush()
    services.issue_workbook(world.plan, Q2, committee=committee, meeting=meeting)
    db.session.flush()
    duplicate = IssuedWorkbook(plan_id=world.plan.id, meeting_id=meeting.id, issue_key="another key", quarter="x",
                               as_at=dt.date(2023, 10, 6), filename="x.xlsx", snapshot_json="{}", content=b"",
                               size_bytes=0, sha256="0" * 64)
    with pytest.raises(IntegrityError, match=r"(?s)(UNIQUE|unique).*plan_id, (issued_workbooks\.)?meeting_id"):
        with db.session.begin_nested():
            db.session.add(duplicate)
    other_meeting = Meeting(held_on=dt.date(2024, 1, 24))
    committee.meetings.append(other_meeting)
    db.session.flush()
    with db.session.begin_nested():
        db.session.add(IssuedWorkbook(plan_id=world.plan.id, meeting_id=other_meeting.id, issue_key="another key",
                                      quarter="x", as_at=dt.date(2023, 10, 6), filename="x.xlsx", snapshot_json="{}",
                                      content=b"", size_bytes=0, sha256="0" * 64))


def _committee_with_meeting(world, held_on: dt.date) -> Committee:
    committee = Committee(partnership_id=world.home.id, name="Performance and Audit Committee",
                          kind=CommitteeKind.PAC, papers_due_working_days=10)
    committee.plans.append(world.plan)
    committee.members.append(CommitteeMember(user=world.viewer, role_label="Carer representative"))
    committee.meetings.append(Meeting(held_on=held_on, title="October meeting"))
    db.session.add(committee)
    db.session.commit()
    return committee


def test_scheduler_issues_when_papers_are_due_and_emails_members_once(app, world):
    # Meeting Wed 25 Oct 2023: ten working days before is Wed 11 Oct 2023.
    committee = _committee_with_meeting(world, dt.date(2023, 10, 25))

    def for_meetings(issued):
        return [(w.plan_id, w.quarter, w.meeting_id) for w in issued if w.meeting_id]

    def mailed_to_viewer():
        return [m for m in _delivered(app) if world.viewer.email in m["To"]]

    assert for_meetings(services.issue_due_workbooks(dt.date(2023, 10, 10))) == []
    issued = services.issue_due_workbooks(dt.date(2023, 10, 11))
    assert for_meetings(issued) == [(world.plan.id, "Q2 2023/24", committee.meetings[0].id)]
    [mail] = mailed_to_viewer()
    workbook = next(w for w in issued if w.meeting_id)
    assert f"/workbooks/{workbook.id}/papers" in mail.get_content()
    assert services.issue_due_workbooks(dt.date(2023, 10, 12)) == []
    assert len(mailed_to_viewer()) == 1
    per_meeting = select(func.count(IssuedWorkbook.id)).where(IssuedWorkbook.meeting_id.is_not(None))
    assert db.session.scalar(per_meeting) == 1


def test_plans_without_a_meeting_get_a_workbook_at_quarter_end(app, world):
    issued = services.issue_due_workbooks(dt.date(2023, 10, 2))
    assert {(w.plan_id, w.quarter, w.meeting_id) for w in issued} >= {(world.plan.id, "Q2 2023/24", None)}
    assert world.manager.email in [m["To"].addresses[0].addr_spec for m in _delivered(app)]
    assert services.issue_due_workbooks(dt.date(2023, 10, 3)) == []


def test_papers_due_excludes_scottish_bank_holidays(world):
    committee = _committee_with_meeting(world, dt.date(2023, 12, 6))  # St Andrew's Day (Thu 30 Nov) excluded
    assert services.papers_due(committee.meetings[0]) == dt.date(2023, 11, 21)


def test_cli_builds_a_workbook_by_hand(app, world, runner, tmp_path):
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["workbook", "build", "--plan", world.plan.name, "--quarter", "Q2 2023/24",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
    result = runner.invoke(args=["workbook", "build", "--plan", str(world.plan.id), "--quarter", "Q5 2023",
                                 "--out", str(out)])
    assert result.exit_code != 0 and "financial quarter" in result.output
    result = runner.invoke(args=["workbook", "build", "--plan", "No such plan", "--quarter", "Q2 2023/24",
                                 "--out", str(out)])
    assert result.exit_code != 0 and "No plan" in result.output


def test_self_evaluation_rows_pair_the_latest_agreed_round_with_the_previous(world):
    from tracker.frameworks.services import items_by_number
    from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound

    framework = world.plan.framework
    items = items_by_number(framework)
    first = SelfEvaluationRound(partnership_id=world.home.id, framework_id=framework.id, title="MSG 2019",
                                completed_on=dt.date(2019, 5, 1), status=RoundStatus.AGREED)
    first.ratings = [Rating(item=items["1.1"], level=1), Rating(item=items["1.2"], level=2)]
    second = SelfEvaluationRound(partnership_id=world.home.id, framework_id=framework.id, title="MSG 2023",
                                 completed_on=dt.date(2023, 5, 1), status=RoundStatus.AGREED, previous_round=first)
    second.ratings = [Rating(item=items["1.1"], level=2), Rating(item=items["1.2"], level=2),
                      Rating(item=items["1.3"], level=0)]
    draft = SelfEvaluationRound(partnership_id=world.home.id, framework_id=framework.id, title="Draft 2024",
                                completed_on=dt.date(2024, 5, 1), status=RoundStatus.DRAFT)
    draft.ratings = [Rating(item=items["1.1"], level=0)]
    db.session.add_all([first, second, draft])
    db.session.commit()
    data = services.workbook_data(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    assert (data.current_round, data.previous_round) == ("MSG 2023", "MSG 2019")
    by_number = {r.number: r for r in data.self_evaluation}
    assert by_number["1.1"].movement == "Up" and by_number["1.1"].current == framework.levels[2]
    assert by_number["1.2"].movement == "Same"
    assert by_number["1.3"].movement == "New rating" and by_number["1.3"].previous == "Not rated"
    assert len(data.self_evaluation) == 25


def test_cli_issue_due_is_the_scheduled_job(app, world, runner):
    _committee_with_meeting(world, dt.date(2023, 10, 25))
    result = runner.invoke(args=["workbook", "issue-due", "--today", "2023-10-11"])
    assert result.exit_code == 0, result.output
    assert "Issued 2 workbook(s)." in result.output  # the meeting's, and the other plan's quarter-end one
    result = runner.invoke(args=["workbook", "issue-due", "--today", "2023-10-11"])
    assert "Issued 0 workbook(s)." in result.output



def test_the_workbook_has_an_indicators_sheet_frozen_with_the_snapshot(world):
    from tracker.indicators import services as indicator_services
    from tracker.periods import Period

    indicator = indicator_services.create_indicator(
        world.plan, name="Carers with support plans", frequency="quarterly", starts_on=dt.date(2023, 4, 1),
        actor_id=world.manager.id, target=100)
    indicator_services.enter_value(indicator, Period("quarterly", dt.date(2023, 4, 1)), value=90,
                                   actor_id=world.manager.id, today=dt.date(2023, 7, 20))
    db.session.commit()
    issued, _created = services.issue_workbook(world.plan, Q2, as_at=dt.date(2023, 10, 6))
    db.session.commit()
    assert "Indicators" in openpyxl.load_workbook(io.BytesIO(issued.content)).sheetnames
    sheet = rows(issued.content, "Indicators")
    assert "Carers with support plans" in str(sheet)
    indicator_services.enter_value(indicator, Period("quarterly", dt.date(2023, 7, 1)), value=120,
                                   actor_id=world.manager.id, today=dt.date(2023, 10, 20))
    db.session.commit()
    assert rows(services.rebuild(issued), "Indicators") == sheet


def _delivered(app) -> list:
    """What has been e-mailed once the outbox is delivered (the scheduler does it every minute)."""
    from tracker.outbox.services import deliver_pending

    deliver_pending()
    return app.extensions.get("outbox", [])


def test_uk_days_remembered_per_hour_match_local_date_across_the_clock_changes():
    """The snapshot's remembered UK days (per UTC hour) are timeutil.local_date's, around both clock changes,
    for naive UTC (SQLite), aware UTC and aware times in other zones (PostgreSQL)."""
    from zoneinfo import ZoneInfo

    day_of = services._uk_days()
    zones = [None, dt.timezone.utc, ZoneInfo("UTC"), dt.timezone(dt.timedelta(hours=5, minutes=30)),
             timeutil.LONDON]
    for start in (dt.datetime(2024, 3, 30, 20), dt.datetime(2024, 10, 26, 20)):
        for minutes in range(0, 10 * 60, 10):
            utc = (start + dt.timedelta(minutes=minutes)).replace(tzinfo=dt.timezone.utc)
            for zone in zones:
                value = utc.replace(tzinfo=None) if zone is None else utc.astimezone(zone)
                assert day_of(value) == timeutil.local_date(value), value
    assert day_of(None) is None
