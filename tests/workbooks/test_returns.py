"""Update returns: download, fill in with openpyxl, upload, preview, confirm."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import ProgressUpdate
from tracker.rag import Status
from tracker.workbooks.models import ReturnUpload
from tracker.workbooks.returns import HEADERS, SHEET


def download(client, plan_id: int) -> openpyxl.Workbook:
    response = client.get(f"/plans/{plan_id}/returns/download")
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))


def upload(client, plan_id: int, content: bytes, filename: str = "return.xlsx"):
    return client.post(f"/plans/{plan_id}/returns", data={"return_file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def column(name: str) -> int:
    return HEADERS.index(name) + 1


def test_the_return_lists_the_officers_open_actions_with_locked_and_hidden_columns(world, client_as):
    wb = download(client_as(world.officer), world.plan.id)
    ws = wb[SHEET]
    assert [c.value for c in ws[1]] == HEADERS
    assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == ["A1"]
    assert ws.cell(row=2, column=column("Action ID")).value == world.officer_action.id
    assert ws.column_dimensions["I"].hidden and ws.column_dimensions["J"].hidden
    assert ws.protection.sheet
    assert ws.cell(row=2, column=column("Status")).protection.locked is False
    assert ws.cell(row=2, column=column("Action")).protection.locked is True
    [validation] = ws.data_validations.dataValidation
    assert "On track" in validation.formula1 and "E2" in str(validation.sqref)
    manager_wb = download(client_as(world.manager), world.plan.id)
    assert manager_wb[SHEET].max_row == 3  # both led actions


def test_filled_in_return_creates_updates_and_reports_a_conflict(world, client_as):
    client = client_as(world.manager)
    wb = download(client, world.plan.id)
    ws = wb[SHEET]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=rows["A1"], column=column("Status")).value = "At risk"
    narrative = ws.cell(row=rows["A1"], column=column("Progress update"))
    narrative.value = '=HYPERLINK("http://x","y") staffing'
    narrative.data_type = "s"  # typed as text, as in a text-formatted cell
    ws.cell(row=rows["A1"], column=column("Revised timescale")).value = "June 2031"
    ws.cell(row=rows["A1"], column=column("Reason for the new timescale")).value = "Recruitment"
    ws.cell(row=rows["A2"], column=column("Progress update")).value = "Going well"
    # Someone updates A2 after the download: its row becomes a conflict.
    plans.record_progress(world.colleague_action, author_id=world.other_officer.id, status=Status.ON_TRACK,
                          narrative="Updated on screen")
    db.session.commit()

    response = upload(client, world.plan.id, save(wb))
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    text = preview.get_data(as_text=True)
    assert "1 update(s) to record, 1 conflict(s)" in text
    assert db.session.scalar(select(func.count(ProgressUpdate.id))) == 1  # nothing applied yet

    upload_id = db.session.scalar(select(ReturnUpload.id))
    response = client.post(f"/returns/{upload_id}/confirm")
    assert response.status_code == 302
    db.session.expire_all()
    officer_action = world.officer_action
    assert officer_action.status == Status.AT_RISK
    assert officer_action.timescale_text == "June 2031"
    latest = officer_action.updates[-1]
    assert latest.author_id == world.manager.id and latest.narrative.startswith("=HYPERLINK")
    assert latest.revision_reason == "Recruitment"
    assert [u.narrative for u in world.colleague_action.updates] == ["Updated on screen"]
    # Confirming twice records nothing more.
    client.post(f"/returns/{upload_id}/confirm")
    assert db.session.scalar(select(func.count(ProgressUpdate.id))) == 2


def test_rows_for_other_officers_actions_are_refused(world, client_as):
    client = client_as(world.officer)
    wb = download(client, world.plan.id)
    ws = wb[SHEET]
    ws.cell(row=2, column=column("Progress update")).value = "Mine"
    ws.append(["A2", "x", "", "On track", "Complete", "Forged", "", "", world.colleague_action.id,
               world.colleague_action.version])
    response = upload(client, world.plan.id, save(wb))
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "not one of your actions" in text
    client.post(f"/returns/{db.session.scalar(select(ReturnUpload.id))}/confirm")
    db.session.expire_all()
    assert world.colleague_action.status == Status.ON_TRACK
    assert [u.narrative for u in world.officer_action.updates] == ["Mine"]


def test_bad_uploads_get_a_clear_message_and_change_nothing(world, client_as):
    client = client_as(world.officer)
    response = upload(client, world.plan.id, b"name,status\n", "return.csv")
    assert response.status_code == 400 and ".xlsx" in response.get_data(as_text=True)
    response = upload(client, world.plan.id, b"not a zip at all", "return.xlsx")
    assert response.status_code == 400 and "is not an Excel .xlsx" in response.get_data(as_text=True)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    response = upload(client, world.plan.id, bomb.getvalue())
    assert response.status_code == 400 and "zip bomb" in response.get_data(as_text=True)
    other = openpyxl.Workbook()
    other.active.append(["Something", "else"])
    response = upload(client, world.plan.id, save(other))
    assert response.status_code == 400 and "no &#39;Update return&#39; sheet" in response.get_data(as_text=True)
    wb = download(client, world.plan.id)
    for _ in range(5001):
        wb[SHEET].append(["A9", "x"])
    response = upload(client, world.plan.id, save(wb))
    assert response.status_code == 400 and "more than 5,000 rows" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ReturnUpload.id))) == 0


def test_returns_are_for_lead_officers_and_uploads_for_their_uploader(world, client_as):
    assert client_as(world.viewer).get(f"/plans/{world.plan.id}/returns").status_code == 403
    assert client_as(world.outsider).get(f"/plans/{world.plan.id}/returns").status_code == 404
    client = client_as(world.officer)
    wb = download(client, world.plan.id)
    wb[SHEET].cell(row=2, column=column("Progress update")).value = "Note"
    upload(client, world.plan.id, save(wb))
    upload_id = db.session.scalar(select(ReturnUpload.id))
    assert client_as(world.manager).get(f"/returns/{upload_id}").status_code == 404
    assert client_as(world.manager).post(f"/returns/{upload_id}/confirm").status_code == 404
    assert client.get(f"/returns/{upload_id}").status_code == 200


def test_junk_in_the_hidden_columns_is_a_problem_row_not_an_error(world, client_as):
    import datetime as dt

    client = client_as(world.officer)
    wb = download(client, world.plan.id)
    ws = wb[SHEET]
    ws.cell(row=2, column=column("Progress update")).value = dt.datetime(2024, 1, 2)
    ws.cell(row=2, column=column("Action ID")).value = dt.datetime(2024, 1, 1)
    response = upload(client, world.plan.id, save(wb))
    assert response.status_code == 302
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "not one of your actions" in text and "0 update(s) to record" in text


def _officer_return(client, plan_id: int, **cells) -> bytes:
    """The officer's return with its one row (A1) filled in: `cells` maps a column to its new value."""
    wb = download(client, plan_id)
    ws = wb[SHEET]
    ws.cell(row=2, column=column("Status")).value = "At risk"
    ws.cell(row=2, column=column("Progress update")).value = "Staffing"
    for name, value in cells.items():
        ws.cell(row=2, column=column(name)).value = value
    return save(wb)


@pytest.mark.parametrize("action_id", ["99999999999999999999", 1e20, 2**40, 2**31, 0, -1, "-1", "1e3"],
                         ids=["20-digit-text", "1e20", "2**40", "2**31", "zero", "minus-one", "minus-one-text",
                              "exponent-text"])
def test_an_action_id_no_record_can_have_is_a_problem_row_not_an_error(world, client_as, action_id):
    client = client_as(world.officer)
    response = upload(client, world.plan.id, _officer_return(client, world.plan.id, **{"Action ID": action_id}))
    assert response.status_code == 302
    assert db.session.scalar(select(ReturnUpload.rows))[0]["action_id"] is None
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "not one of your actions" in text and "0 update(s) to record" in text
    upload_id = db.session.scalar(select(ReturnUpload.id))
    assert client.post(f"/returns/{upload_id}/confirm").status_code == 302
    assert db.session.scalar(select(func.count(ProgressUpdate.id))) == 0


def test_a_stored_return_naming_an_id_beyond_the_database_still_previews(world, client_as):
    """Rows kept before ids were checked on upload: the preview and confirm pages still answer."""
    client = client_as(world.officer)
    upload(client, world.plan.id, _officer_return(client, world.plan.id))
    stored = db.session.scalar(select(ReturnUpload))
    stored.rows = [{**stored.rows[0], "action_id": 10**20}]
    db.session.commit()
    text = client.get(f"/returns/{stored.id}").get_data(as_text=True)
    assert "not one of your actions" in text
    assert client.post(f"/returns/{stored.id}/confirm").status_code == 302
    assert db.session.scalar(select(func.count(ProgressUpdate.id))) == 0


@pytest.mark.parametrize("typed", [dt.datetime(2031, 6, 30), dt.datetime(2031, 6, 30, 17, 30),
                                   dt.date(2031, 6, 30), "30/06/2031"],
                         ids=["datetime", "datetime-with-a-time", "date", "text"])
def test_a_revised_timescale_typed_as_a_date_is_read_as_that_day(world, client_as, typed):
    """Excel keeps 30/06/2031 typed into a cell not formatted as text as a date (read back as a datetime)."""
    client = client_as(world.officer)
    content = _officer_return(client, world.plan.id, **{"Revised timescale": typed,
                                                         "Reason for the new timescale": "Recruitment"})
    response = upload(client, world.plan.id, content)
    assert response.status_code == 302
    assert "1 update(s) to record" in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(f"/returns/{db.session.scalar(select(ReturnUpload.id))}/confirm")
    db.session.expire_all()
    action = world.officer_action
    assert action.status == Status.AT_RISK
    assert action.due_end == dt.date(2031, 6, 30) and action.timescale_kind == "dated"


def test_the_revised_timescale_cells_are_formatted_as_text(world, client_as):
    """So Excel keeps "June 2031" as written, rather than turning it into the date 1 June 2031."""
    ws = download(client_as(world.officer), world.plan.id)[SHEET]
    assert ws.cell(row=2, column=column("Revised timescale")).number_format == "@"
