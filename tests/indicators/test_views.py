"""Indicator pages: who may read, define and enter; the grid, one period with breakdowns, .xlsx upload."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
import time_machine
from sqlalchemy import func, select

from tests import factories
from tracker.extensions import db
from tracker.indicators import services, spreadsheet
from tracker.indicators.models import Indicator, IndicatorValue
from tracker.timeutil import LONDON

from .conftest import TODAY, quarter


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(dt.datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=LONDON), tick=False):
        yield


def _values():
    return db.session.scalar(select(func.count(IndicatorValue.id)))


def _with_values(world, indicator, *pairs):
    for label, value in pairs:
        services.enter_value(indicator, quarter(label), value=value, actor_id=world.officer.id, today=TODAY)
    db.session.commit()


def test_viewer_sees_chart_table_and_rag_but_cannot_enter(world, indicator, client_as):
    _with_values(world, indicator, ("Q1 2024/25", 400), ("Q2 2024/25", 412))
    client = client_as(world.viewer)
    page = client.get(f"/indicators/{indicator.id}").get_data(as_text=True)
    assert "Red" in page and "412 is 8% below the target of 450 (Q2 2024/25)" in page
    svg = re.search(r"<svg class=\"app-chart\".*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="trend-chart-title trend-chart-desc"' in svg
    assert "<desc id=\"trend-chart-desc\">Line chart of Carers with adult carer support plans" in svg
    assert "Q2 2024/25 412" in svg and "<polyline" in svg and 'stroke-dasharray="8 5"' in svg
    assert " style=" not in page and "<script>" not in page
    table = re.search(r'<table class="app-table--compact[^"]*" id="values-table">.*?</table>', page, re.S).group(0)
    assert re.search(r"Q2 2024/25</th>\s*<td[^>]*>412</td>\s*<td[^>]*>450</td>", table)
    assert "Enter values" not in page
    assert client.get(f"/indicators/{indicator.id}/values").status_code == 403
    assert client.post(f"/indicators/{indicator.id}/values", data={"value-2024-07-01": "1"}).status_code == 403
    assert _values() == 2


def test_other_partnership_gets_404(world, indicator, client_as):
    client = client_as(world.outsider)
    assert client.get(f"/indicators/{indicator.id}").status_code == 404
    assert client.get(f"/indicators/{indicator.id}/values").status_code == 404
    assert client.get(f"/indicators/plans/{world.plan.id}/new").status_code == 404
    assert client.get("/indicators/999999").status_code == 404


def test_only_the_responsible_officer_and_plan_managers_enter_values(world, indicator, client_as):
    assert client_as(world.other_officer).get(f"/indicators/{indicator.id}/values").status_code == 403
    assert client_as(world.officer).get(f"/indicators/{indicator.id}/values").status_code == 200
    assert client_as(world.manager).get(f"/indicators/{indicator.id}/values").status_code == 200


def test_only_plan_managers_define_indicators(world, indicator, client_as):
    assert client_as(world.officer).get(f"/indicators/plans/{world.plan.id}/new").status_code == 403
    assert client_as(world.officer).get(f"/indicators/{indicator.id}/edit").status_code == 403
    response = client_as(world.manager).post(f"/indicators/plans/{world.plan.id}/new", data={
        "name": "Carers accessing short breaks", "unit": "count", "frequency": "quarterly",
        "starts_on": "Q1 2024/25", "direction": "higher", "target": "300", "yearly_targets": "2025/26: 320",
        "responsible_officer_id": str(world.officer.id), "definition": "Carers with a short break",
    })
    assert response.status_code == 302
    created = db.session.scalar(select(Indicator).where(Indicator.name == "Carers accessing short breaks"))
    assert created.target == 300 and [(t.financial_year, t.target) for t in created.targets] == [(2025, 320)]
    assert created.starts_on == dt.date(2024, 4, 1) and created.responsible_officer_id == world.officer.id


def test_manager_edits_an_indicator_leaving_optional_fields_blank(world, indicator, client_as):
    response = client_as(world.manager).post(f"/indicators/{indicator.id}/edit", data={
        "name": "Carers with a support plan", "unit": "count", "frequency": "quarterly", "starts_on": "Q1 2023/24",
        "direction": "lower", "target": "", "yearly_targets": "", "responsible_officer_id": "0",
    })
    assert response.status_code == 302
    db.session.refresh(indicator)
    assert (indicator.name, indicator.target, indicator.higher_is_better, indicator.responsible_officer_id) == (
        "Carers with a support plan", None, False, None)
    page = client_as(world.manager).get(f"/indicators/{indicator.id}/edit").get_data(as_text=True)
    assert 'value="Carers with a support plan"' in page


def test_define_form_explains_bad_input(world, client_as):
    response = client_as(world.manager).post(f"/indicators/plans/{world.plan.id}/new", data={
        "name": "Respite", "unit": "hours", "frequency": "biennial", "starts_on": "2024-26",
        "direction": "higher", "target": "lots", "yearly_targets": "next year: 3",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "two-year periods start in odd-numbered years" in page
    assert "The target &#39;lots&#39; is not a number" in page
    assert "Could not read" in page and "as a financial year" in page
    assert db.session.scalar(select(func.count(Indicator.id))) == 0


def test_officer_enters_and_corrects_values_in_the_grid(world, indicator, client_as):
    client = client_as(world.officer)
    page = client.get(f"/indicators/{indicator.id}/values").get_data(as_text=True)
    assert 'for="value-2024-07-01">Value for Q2 2024/25' in page
    assert "Q3 2024/25" not in page  # the period in progress has not ended: its value waits (issue 11)
    response = client.post(f"/indicators/{indicator.id}/values", data={
        "value-2024-04-01": "400", "value-2024-07-01": "1,412", "note-2024-07-01": "From Mosaic",
        "current-2024-04-01": "", "current-2024-07-01": "",
    })
    assert response.status_code == 302
    current = services.current_values([indicator.id])[indicator.id]
    assert current[dt.date(2024, 7, 1)].value == 1412 and current[dt.date(2024, 7, 1)].note == "From Mosaic"
    entry_id = current[dt.date(2024, 7, 1)].id
    response = client.post(f"/indicators/{indicator.id}/values", data={
        "value-2024-04-01": "400", "current-2024-04-01": str(current[dt.date(2024, 4, 1)].id),
        "value-2024-07-01": "412", "note-2024-07-01": "Typo corrected", "current-2024-07-01": str(entry_id),
    })
    assert response.status_code == 302
    assert _values() == 3
    page = client.get(f"/indicators/{indicator.id}").get_data(as_text=True)
    assert "<h2>Corrections</h2>" in page and "1,412" in page and "Typo corrected" in page


def test_grid_with_a_bad_value_saves_nothing(world, indicator, client_as):
    response = client_as(world.officer).post(f"/indicators/{indicator.id}/values", data={
        "value-2024-04-01": "400", "value-2024-07-01": "about 400",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The value &#39;about 400&#39; is not a number" in page
    assert 'value="about 400"' in page  # what was typed is kept
    assert _values() == 0


def test_grid_refuses_a_value_someone_else_entered_meanwhile(world, indicator, client_as):
    _with_values(world, indicator, ("Q2 2024/25", 400))
    response = client_as(world.manager).post(f"/indicators/{indicator.id}/values", data={
        "value-2024-07-01": "420", "current-2024-07-01": "",
    })
    assert response.status_code == 400
    assert "while you were editing" in response.get_data(as_text=True)
    assert _values() == 1


def test_one_period_with_breakdowns(world, indicator, client_as):
    client = client_as(world.officer)
    url = f"/indicators/{indicator.id}/values/2024-07-01"
    assert client.get(url).status_code == 200
    data = {"value": "", "note": "", "rows": "3",
            "dimension-0": "locality", "category-0": "Coldside", "figure-0": "150",
            "dimension-1": "locality", "category-1": "Lochee", "figure-1": "262",
            "dimension-2": "protected_characteristic", "category-2": "", "figure-2": ""}
    assert client.post(url, data=data).status_code == 302
    entry = services.current_values([indicator.id])[indicator.id][dt.date(2024, 7, 1)]
    assert entry.value == 412 and len(entry.breakdowns) == 2
    response = client.post(url, data={**data, "value": "500", "current": str(entry.id)})
    assert response.status_code == 400
    assert "adds up to 412, not the total of 500" in response.get_data(as_text=True)
    page = client.get(f"/indicators/{indicator.id}").get_data(as_text=True)
    assert "<h2>By locality</h2>" in page and "protected characteristic</h2>" not in page
    assert re.search(r"Coldside</th>\s*<td[^>]*>150</td>", page)
    assert client.get(f"/indicators/{indicator.id}/values/2024-07-02").status_code == 404  # not a period start


def test_grid_post_needs_the_csrf_token(world, indicator, make_app):
    from tests.conftest import sign_in_client

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = sign_in_client(app, db.session.get(type(world.officer), world.officer.id))
        response = client.post(f"/indicators/{indicator.id}/values", data={"value-2024-07-01": "400"})
        assert response.status_code == 400
    assert _values() == 0


def test_index_and_plan_include_list_indicators_with_rag(world, indicator, client_as, app):
    _with_values(world, indicator, ("Q2 2024/25", 430))
    page = client_as(world.viewer).get("/indicators/").get_data(as_text=True)
    assert "Carers with adult carer support plans" in page and "430 is 4% below the target of 450" in page
    assert "Upload values" not in page
    from flask import render_template

    with app.test_request_context():
        from flask_login import login_user

        login_user(world.manager)
        html = render_template("indicators/_plan_indicators.html", plan=world.plan,
                               indicators=services.indicators_for_plan(world.plan))
    assert "Performance indicators" in html and "Amber" in html and "Add an indicator to Home action plan" in html


# -- .xlsx upload -------------------------------------------------------------------


def xlsx(rows) -> bytes:
    """A workbook with these rows; text starting with '=' is stored as text, as a pasted value would be."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, plan_id, data: bytes, name="values.xlsx"):
    return client.post(f"/indicators/plans/{plan_id}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_previews_then_saves_values_and_breakdowns(world, indicator, client_as):
    _with_values(world, indicator, ("Q1 2024/25", 390))
    client = client_as(world.officer)
    response = _upload(client, world.plan.id, xlsx([
        ["Indicator", "Period", "Value", "Note", "Breakdown", "Category"],
        ["Carers with adult carer support plans", "Q1 2024/25", 400, "Late returns", None, None],
        ["carers with adult  carer support plans", "Q2 2024/25", 150, None, "Locality", "Coldside"],
        ["Carers with adult carer support plans", "Q2 2024/25", 262, None, "Locality", "Lochee"],
    ]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "390 corrected to 400" in page and "412 (with 2 breakdown figures)" in page
    assert _values() == 1  # nothing saved by the preview
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post(f"/indicators/plans/{world.plan.id}/import/confirm", data={"token": token})
    assert response.status_code == 302
    current = services.current_values([indicator.id])[indicator.id]
    assert current[dt.date(2024, 4, 1)].value == 400 and current[dt.date(2024, 7, 1)].value == 412


def test_upload_with_problems_cannot_be_confirmed(world, indicator, client_as):
    response = _upload(client_as(world.officer), world.plan.id, xlsx([
        ["Indicator", "Period", "Value", "Note"],
        ["Carers with adult carer support plans", "Q2 2024/25", 400, "=cmd|' /C calc'!A0"],
        ["Unknown indicator", "Q2 2024/25", 3, None],
        ["Carers with adult carer support plans", "Q9 2024/25", 3, None],
    ]))
    page = response.get_data(as_text=True)
    assert "which a spreadsheet would run as a formula" in page
    assert "There is no indicator called &#39;Unknown indicator&#39;" in page
    assert "is not a quarterly period" in page
    assert 'name="token"' not in page
    assert _values() == 0


def test_forged_or_stale_confirmation_saves_nothing(world, indicator, client_as):
    client = client_as(world.officer)
    response = client.post(f"/indicators/plans/{world.plan.id}/import/confirm", data={"token": "forged"})
    assert response.status_code == 302 and _values() == 0
    page = _upload(client, world.plan.id, xlsx([["Indicator", "Period", "Value"],
                                                [indicator.name, "Q2 2024/25", 400]])).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    _with_values(world, indicator, ("Q2 2024/25", 380))  # someone else enters it meanwhile
    response = client.post(f"/indicators/plans/{world.plan.id}/import/confirm", data={"token": token})
    assert response.status_code == 302 and _values() == 1


def test_upload_refuses_other_people_indicators(world, make_indicator, client_as):
    theirs = make_indicator(name="Respite hours", responsible_officer_id=world.other_officer.id)
    make_indicator()
    page = _upload(client_as(world.officer), world.plan.id, xlsx([
        ["Indicator", "Period", "Value"], [theirs.name, "Q2 2024/25", 400]])).get_data(as_text=True)
    assert "You cannot enter values for this indicator" in page and 'name="token"' not in page


def test_upload_refuses_a_file_that_is_not_xlsx_by_content(world, indicator, client_as):
    response = _upload(client_as(world.officer), world.plan.id, b"Indicator,Period,Value\n", name="values.xlsx")
    assert response.status_code == 400
    assert "The file is not an Excel .xlsx" in response.get_data(as_text=True)


def test_upload_refuses_a_zip_bomb_by_declared_sizes(world, indicator, client_as):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (4 * 1024 * 1024))
    response = _upload(client_as(world.officer), world.plan.id, buffer.getvalue())
    assert response.status_code == 400
    assert "zip bomb" in response.get_data(as_text=True)


def test_upload_refuses_too_many_rows(world, indicator, client_as, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    rows = [["Indicator", "Period", "Value"]] + [[indicator.name, f"Q{q} 2023/24", q] for q in range(1, 5)]
    response = _upload(client_as(world.officer), world.plan.id, xlsx(rows))
    assert response.status_code == 400
    assert "more than 3 rows" in response.get_data(as_text=True)
    assert _values() == 0


def test_upload_needs_the_columns(world, indicator, client_as):
    response = _upload(client_as(world.officer), world.plan.id, xlsx([["Name", "When"], ["x", "y"]]))
    assert "missing: Indicator, Period, Value" in response.get_data(as_text=True)


def test_viewer_cannot_upload(world, indicator, client_as):
    """A viewer can neither see the upload page, nor post a file, nor confirm a preview an officer was given.

    Mutations it catches: the permission check in `upload` made GET-only (`request.method == "GET" and ...`),
    and `not can_enter_values(...)` dropped from `confirm_upload`: only the GET used to be tried."""
    viewer = client_as(world.viewer)
    rows = xlsx([["Indicator", "Period", "Value"], [indicator.name, "Q2 2024/25", 400]])
    assert viewer.get(f"/indicators/plans/{world.plan.id}/import").status_code == 403
    assert _upload(viewer, world.plan.id, rows).status_code == 403
    preview = _upload(client_as(world.officer), world.plan.id, rows).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    response = viewer.post(f"/indicators/plans/{world.plan.id}/import/confirm", data={"token": token})
    assert response.status_code == 403
    assert _values() == 0


def test_earlier_period_is_reached_by_its_label(world, indicator, client_as):
    client = client_as(world.officer)
    response = client.get(f"/indicators/{indicator.id}/values/other?period=Q4 2022/23")
    assert response.status_code == 302 and response.location.endswith(f"/indicators/{indicator.id}/values/2023-01-01")
    response = client.get(f"/indicators/{indicator.id}/values/other?period=spring")
    assert response.status_code == 302 and "#other-period" in response.location
    # Back at the field, with what was typed and the reason beside it (it was a banner at the top, field empty).
    page = client.get(response.location).get_data(as_text=True)
    field = page[page.index('id="other-period-hint"'):page.index("Go to that period")]
    assert 'id="other-period-error"' in field and 'value="spring"' in field and 'aria-invalid="true"' in field
    assert client_as(world.viewer).get(f"/indicators/{indicator.id}/values/other?period=Q4 2022/23").status_code == 403


def test_indicator_page_lists_the_actions_on_the_same_proposals(world, make_indicator, client_as):
    items = factories.frameworks.items_by_number(factories.msg())
    indicator = make_indicator(items=[items["1.1"]])
    page = client_as(world.viewer).get(f"/indicators/{indicator.id}").get_data(as_text=True)
    assert "Actions that should move this number" in page
    assert world.officer_action.text in page and world.colleague_action.text in page  # both on proposal 1.1
    assert world.outsider_action.text not in page


def test_simultaneous_correction_of_the_same_value_is_refused_plainly(world, indicator, client_as, monkeypatch):
    _with_values(world, indicator, ("Q2 2024/25", 400))
    stale = services.current_values([indicator.id])
    services.enter_value(indicator, quarter("Q2 2024/25"), value=405, actor_id=world.manager.id, today=TODAY)
    db.session.commit()
    # The officer's request read the values just before the manager's correction was committed.
    monkeypatch.setattr(services, "current_values", lambda ids: stale)
    old_id = stale[indicator.id][dt.date(2024, 7, 1)].id
    response = client_as(world.officer).post(f"/indicators/{indicator.id}/values", data={
        "value-2024-07-01": "410", "current-2024-07-01": str(old_id)})
    assert response.status_code == 400
    assert "corrected Q2 2024/25 at the same moment" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert [e.value for e in services.value_history(indicator)] == [405, 400]


def test_forged_breakdown_row_count_is_harmless(world, indicator, client_as):
    url = f"/indicators/{indicator.id}/values/2024-07-01"
    response = client_as(world.officer).post(url, data={"value": "5", "rows": "many"})
    assert response.status_code == 302 and _values() == 1
