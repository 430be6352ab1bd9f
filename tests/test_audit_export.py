"""The plan's audit trail as .xlsx: every change, user text kept as text (never a formula)."""
from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.rag import Status

NASTY = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+44 1382 000000", "-1+2", "@SUM(A1:A2)"]


def download(client, plan):
    response = client.get(f"/plans/{plan.id}/audit.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_audit_trail_lists_every_change_with_before_and_after(world, client_as):
    plans.record_progress(world.officer_action, author_id=world.officer.id, status=Status.AT_RISK,
                          narrative="Slipping", revised_timescale="June 2031", revision_reason="Funding")
    plans.edit_action(world.colleague_action, expected_version=None, actor_id=world.manager.id,
                      lead_officer_id=world.officer.id)
    db.session.commit()
    data = download(client_as(world.manager), world.plan)
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Audit trail"]
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0] == ("When", "Who", "What", "Ref", "Field", "Before", "After")
    assert any(r[1] == world.officer.name and r[3] == "A1" and r[4] == "Status" and r[5] == "On track"
               and r[6] == "At risk" for r in rows)
    assert any(r[3] == "A1" and r[4] == "Timescale" and r[5] == "March 2030" and r[6] == "June 2031" for r in rows)
    assert any(r[1] == world.manager.name and r[3] == "A2" and r[4] == "Lead officer"
               and r[5] == world.other_officer.name and r[6] == world.officer.name for r in rows)
    assert not any(r[3] == "B1" for r in rows)  # another partnership's plan


def test_user_text_that_looks_like_a_formula_is_written_as_text(world, client_as):
    for index, text in enumerate(NASTY):
        plans.create_action(plan=world.plan, text=text, ref=f"N{index}", actor_id=world.manager.id)
    db.session.commit()
    data = download(client_as(world.manager), world.plan)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
        styles_xml = archive.read("xl/styles.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert 'quotePrefix="1"' in styles_xml
    values = {cell.value for row in load_workbook(io.BytesIO(data))["Audit trail"].iter_rows() for cell in row}
    for text in NASTY:
        assert text in values  # shown exactly as written, no apostrophe added
