"""Importing a recommendation tracker (preview, idempotent), the `audit list` command and the papers' section."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.conftest import sign_in_client
from tests.scrutiny.helpers import audit_world
from tracker.audit.models import AuditEvent
from tracker import timeutil
from tracker.extensions import db
from tracker.imports.safety import ImportRefused
from tracker.papers.sections import providers, sections_for
from tracker.plans.models import Action, ProgressUpdate
from tracker.scrutiny import importer, services
from tracker.scrutiny.models import Recommendation
from tracker.scrutiny.rules import RecStatus


def tracker_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tracker"
    sheet.append(["Internal audit recommendation tracker 2025/26"])
    sheet.append([])
    sheet.append(["Rec Ref", "Finding", "Recommendation", "Priority", "Management Response", "Responsible Officer",
                  "Agreed Date", "Revised Date", "Status"])
    sheet.append(["IA1", "No reconciliation", "Reconcile quarterly", "1", "Agreed", "Olive Officer",
                  dt.datetime(2025, 6, 30), "30/09/2025; 31/12/2025; 31/03/2026", "In progress"])
    sheet.append(["IA2", "", "Publish the carers budget", "Priority 2", "Agreed", "Someone Else",
                  dt.datetime(2025, 3, 31), None, "Implemented"])
    sheet.append(["IA3", "", "Review the contract", "P3", "", "officer@example.scot", "March 2026",
                  dt.datetime(2026, 9, 30), "Verified"])
    sheet.append(["IA4", "", "Bad grade", "Urgent", "", "", None, None, "Open"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"))
    with app.app_context():
        world = audit_world()
        world["app"] = app
        yield world


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Recommendation, Action, ProgressUpdate, AuditEvent))


def test_import_counts_revisions_and_a_second_import_changes_nothing(w):
    report = w["report"]
    rows = importer.read(tracker_xlsx(), report)
    assert [r.ref for r in rows] == ["IA1", "IA2", "IA3", "IA4"]
    assert rows[0].revised == ["2025-09-30", "2025-12-31", "2026-03-31"]
    assert "not a grade" in rows[3].problem
    db.session.rollback()
    assert importer.apply(report, rows, actor=w["manager"]) == 3
    db.session.commit()
    recs = {r.ref: r for r in report.recommendations}
    found = {row.rec.ref: row for row in services.rows(list(recs.values()), timeutil.today())}
    assert found["IA1"].revisions == 3 and found["IA1"].current == dt.date(2026, 3, 31)
    assert found["IA1"].agreed == dt.date(2025, 6, 30) and found["IA1"].overdue
    assert recs["IA1"].actions[0].lead_officer_id == w["officer"].id
    assert recs["IA2"].actions[0].lead_text == "Someone Else"
    assert found["IA2"].status is RecStatus.AWAITING and found["IA2"].revisions == 0
    assert found["IA3"].status is RecStatus.VERIFIED and found["IA3"].revisions == 1
    assert recs["IA3"].grade.label == "Priority 3"
    before = counts()
    again = importer.read(tracker_xlsx(), report)
    assert all(r.exists or r.problem for r in again)
    assert importer.apply(report, again, actor=w["manager"]) == 0
    db.session.commit()
    assert counts() == before


def test_import_refuses_an_unsafe_or_headless_file(w):
    with pytest.raises(ImportRefused):
        importer.read(b"MZ not a workbook", w["report"])
    book = openpyxl.Workbook()
    book.active.append(["Nothing", "Here"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRefused):
        importer.read(buffer.getvalue(), w["report"])


def test_import_pages_preview_then_confirm(w):
    client = sign_in_client(w["app"], w["manager"])
    url = f"/audit-recommendations/reports/{w['report'].id}/import"
    before = counts()
    preview = client.post(url, data={"file": (io.BytesIO(tracker_xlsx()), "tracker.xlsx")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and b"Import 3 recommendations" in preview.data
    assert counts() == before
    payload = preview.data.split(b'name="payload" type="hidden" value="')[1].split(b'"')[0].decode()
    assert client.post(url + "/confirm", data={"payload": payload + "x"}).status_code == 400
    assert counts() == before
    assert client.post(url + "/confirm", data={"payload": payload}).status_code == 302
    assert len(w["report"].recommendations) == 4
    client.post(url + "/confirm", data={"payload": payload})
    assert len(w["report"].recommendations) == 4
    page = sign_in_client(w["app"], w["auditor"]).get(f"/audit-recommendations/partnerships/{w['home'].id}")
    assert page.status_code == 200 and b"Revised 3 times" in page.data and b"awaiting verification" in page.data


def test_audit_list_command(w):
    importer.apply(w["report"], importer.read(tracker_xlsx(), w["report"]), actor_id=w["manager"].id)
    db.session.commit()
    result = w["app"].test_cli_runner().invoke(args=["audit", "list", "--partnership", "Home IJB"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert len(lines) == 4
    ia1 = next(line.split("\t") for line in lines if "\tIA1\t" in line)
    assert ia1[:3] == ["Carers funding", "IA1", "Priority 1"]
    assert ia1[4:] == ["agreed 30 June 2025", "now 31 March 2026", "3 revisions"]
    assert any("Closed by management, awaiting verification" in line for line in lines)
    missing = w["app"].test_cli_runner().invoke(args=["audit", "list", "--partnership", "Nowhere"])
    assert missing.exit_code == 1 and "no partnership" in missing.output


def test_papers_section_lists_and_flags_recommendations(w):
    assert any(p.__name__ == "audit_section" for p in providers())
    importer.apply(w["report"], importer.read(tracker_xlsx(), w["report"]), actor_id=w["manager"].id)
    db.session.commit()
    [section] = [s for s in sections_for(db.session, w["plan"], timeutil.today()) if s.key == "audit"]
    assert section.title == "Audit recommendations" and len(section.rows) == 4
    assert len(section.columns) == len(section.rows[0]) == len(section.widths)
    refs = [row[1] for row in section.rows]
    flagged = {refs[i] for i in section.flagged_rows}
    assert {"IA1", "IA2"} <= flagged and "IA3" not in flagged
    assert "4 audit recommendations" in section.summary[0]
    assert any("IA1" in text and "overdue" in text for text in section.report_text)
    assert sections_for(db.session, w["plan"], dt.date(2020, 1, 1)) == []
