"""Issued as a set (issue 14, point 6), the late start, update requests, and the command line (point 7)."""
from __future__ import annotations

import datetime as dt
import hashlib
import io

import docx
import pypdf

from tests.papers.test_quarter_as_it_stood import past  # noqa: F401  (fixture)
from tests.workbooks.test_services import _committee_with_meeting
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.outbox.services import queued_to
from tracker.workbooks import services


def test_issuing_freezes_the_three_papers_with_checksums_and_one_link(app, world, client_as):
    committee = _committee_with_meeting(world, dt.date(2023, 10, 25))
    [issued] = [w for w in services.issue_due_workbooks(dt.date(2023, 10, 11)) if w.meeting_id]
    assert {p.kind for p in issued.papers} == {"pdf", "docx"}
    for paper in issued.papers:
        assert paper.sha256 == hashlib.sha256(paper.content).hexdigest()
    [(row, body)] = queued_to(world.viewer.email)  # queued in the outbox with the issue, sent by the scheduler
    assert row.kind == "papers_issued"
    assert body.count("http://") == 1 and f"/workbooks/{issued.id}/papers" in body
    client = client_as(world.viewer)
    page = client.get(f"/workbooks/{issued.id}/papers")
    assert page.status_code == 200
    for paper in issued.papers:
        assert paper.sha256.encode() in page.data
    pdf = client.get(f"/workbooks/{issued.id}/papers/pdf")
    assert pdf.headers["X-Checksum-SHA256"] == hashlib.sha256(pdf.data).hexdigest()
    assert pypdf.PdfReader(io.BytesIO(pdf.data)).metadata.title.startswith(world.plan.name)
    report = client.get(f"/workbooks/{issued.id}/papers/docx")
    assert "REPORT TO: PERFORMANCE AND AUDIT COMMITTEE" in "\n".join(
        p.text for p in docx.Document(io.BytesIO(report.data)).paragraphs)
    listing = client.get(f"/committees/{committee.id}")
    assert f"/workbooks/{issued.id}/papers".encode() in listing.data


def test_a_late_start_after_the_meeting_issues_nothing_and_tells_the_manager_once(app, world):
    committee = _committee_with_meeting(world, dt.date(2023, 10, 25))
    meeting = committee.meetings[0]
    assert [w for w in services.issue_due_workbooks(dt.date(2023, 10, 26)) if w.meeting_id] == []
    told = [(row, body) for row, body in queued_to(world.manager.email) if "not issued" in row.subject]
    assert len(told) == 1 and "25 October 2023" in told[0][1] and told[0][0].kind == "papers_missed"
    services.issue_due_workbooks(dt.date(2023, 10, 27))
    again = [row for row, _ in queued_to(world.manager.email) if "not issued" in row.subject]
    assert len(again) == 1
    assert db.session.query(AuditEvent).filter_by(entity_type="missed_papers", entity_id=meeting.id).count() == 1


def test_update_requests_never_name_a_date_that_has_passed(app, world):
    from tracker.reminders.services import update_requests

    _committee_with_meeting(world, dt.date(2023, 10, 25))  # papers due 11 October 2023
    late = update_requests(dt.date(2023, 10, 20))
    assert late and all(reminder.context["papers_due"] is None for reminder in late)
    early = update_requests(dt.date(2023, 10, 5))
    assert early and all(reminder.context["papers_due"] == dt.date(2023, 10, 11) for reminder in early)


def test_the_command_line_builds_each_format(app, past, runner, tmp_path):  # noqa: F811
    for kind, magic in (("xlsx", b"PK"), ("pdf", b"%PDF"), ("docx", b"PK")):
        out = tmp_path / f"paper.{kind}"
        args = ["workbook", "build", "--plan", str(past.plan.id), "--quarter", "Q3 2022/23", "--out", str(out)]
        result = runner.invoke(args=args + (["--format", kind] if kind != "xlsx" else []))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(magic) and "as at 2022-12-31" in result.output
    result = runner.invoke(args=["workbook", "build", "--plan", str(past.plan.id), "--quarter", "Q3 2022/23",
                                 "--format", "odt", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
