"""The Indicators sheet of the committee workbook, and the trend chart's geometry."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
from openpyxl import Workbook

from tracker.extensions import db
from tracker.indicators import services
from tracker.indicators.chart import nice_step, trend_chart
from tracker.indicators.workbook import (
    IndicatorPeriod,
    IndicatorSheetRow,
    IndicatorsSheetData,
    add_indicators_sheet,
    indicators_sheet_data,
)
from tracker.rag import Rag

from .conftest import TODAY, quarter


def _row(**changes):
    fields = dict(
        name="Carers with adult carer support plans", plan="Carers delivery plan", unit="count",
        frequency="quarterly", higher_is_better=True, responsible="Dana Lead",
        periods=[IndicatorPeriod(label, value, 450.0) for label, value in zip(
            ["Q3 2022/23", "Q4 2022/23", "Q1 2023/24", "Q2 2023/24", "Q3 2023/24", "Q4 2023/24", "Q1 2024/25",
             "Q2 2024/25"], [360, 371, 379, 388, 395, 401, None, 412])],
        rag=Rag.RED, rag_text="Red: 412 is 8% below the target of 450 (Q2 2024/25)", direction="Improving",
    )
    fields.update(changes)
    return IndicatorSheetRow(**fields)


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_sheet_on_a_write_only_workbook_has_periods_targets_rag_direction_and_a_chart_each():
    workbook = Workbook(write_only=True)
    data = IndicatorsSheetData(as_at=TODAY, indicators=[
        _row(), _row(name="Carers waiting for assessment", higher_is_better=False, rag=Rag.GREEN,
                     rag_text="Green: 99 is 10% below the target of 110", direction="Worsening",
                     periods=[IndicatorPeriod("Q2 2024/25", 99, 110)]),
    ])
    add_indicators_sheet(workbook, data)
    content = _saved(workbook)

    sheet = openpyxl.load_workbook(io.BytesIO(content))["Indicators"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    flat = [c for r in rows for c in r if c is not None]
    assert rows[0][0] == "Performance indicators"
    assert "Values as at 20 November 2024" in rows[1][0]
    assert "amber misses it by no more than 5% of the target" in rows[2][0]
    start = flat.index("Carers with adult carer support plans")
    assert "Count, quarterly, higher is better. Data: Dana Lead" in flat
    header = next(i for i, r in enumerate(rows) if r[:3] == ["Period", "Value", "Target"])
    table = rows[header + 1:header + 9]
    assert [r[0] for r in table] == ["Q3 2022/23", "Q4 2022/23", "Q1 2023/24", "Q2 2023/24", "Q3 2023/24",
                                     "Q4 2023/24", "Q1 2024/25", "Q2 2024/25"]
    assert [r[1] for r in table] == [360, 371, 379, 388, 395, 401, None, 412]
    assert {r[2] for r in table} == {450}
    rag_row = next(r for r in rows if r[0] == "Latest against target")
    assert rag_row[1] == "Red" and rag_row[3] == "Red: 412 is 8% below the target of 450 (Q2 2024/25)"
    assert ["Direction of travel", "Improving"] == [c for c in rows[header - 1] if c is not None]
    assert "Worsening" in flat and "Count, quarterly, lower is better. Data: Dana Lead" in flat
    assert start < flat.index("Carers waiting for assessment")
    rag_cell = sheet.cell(row=next(i for i, r in enumerate(rows, 1) if r[0] == "Latest against target"), column=2)
    assert rag_cell.fill.fgColor.rgb.endswith(Rag.RED.hex)

    archive = zipfile.ZipFile(io.BytesIO(content))
    charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
    assert len(charts) == 2
    chart_xml = archive.read(charts[0]).decode()
    assert "Carers with adult carer support plans" in chart_xml
    assert "'Indicators'!$B$" in chart_xml and "'Indicators'!$C$" in chart_xml  # value and target series
    assert 'prstDash val="dash"' in chart_xml


def test_text_that_looks_like_a_formula_is_written_as_text():
    workbook = Workbook(write_only=True)
    add_indicators_sheet(workbook, IndicatorsSheetData(as_at=TODAY, indicators=[
        _row(responsible="=HYPERLINK(\"http://example.com\")", name="=1+1")]))
    content = _saved(workbook)
    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Indicators"]
    values = [c for r in sheet.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert "=1+1" in values
    quoted = {c.value: c.quotePrefix for r in sheet.iter_rows() for c in r if isinstance(c.value, str)}
    assert quoted["=1+1"] and not any(flag for text, flag in quoted.items() if not text.startswith("="))


def test_chart_alternative_text_summarises_the_figures():
    from tracker.indicators.workbook import chart_description

    assert chart_description(_row()) == (
        "Line chart of Carers with adult carer support plans with its target, Q3 2022/23 to Q2 2024/25: "
        "360 in Q3 2022/23, 412 in Q2 2024/25. Red: 412 is 8% below the target of 450 (Q2 2024/25). "
        "Direction of travel: Improving. The figures are in the table beside the chart.")


def test_sheet_without_indicators_says_so():
    workbook = Workbook(write_only=True)
    add_indicators_sheet(workbook, IndicatorsSheetData(as_at=TODAY, indicators=[]))
    sheet = openpyxl.load_workbook(io.BytesIO(_saved(workbook)))["Indicators"]
    assert "No indicators are recorded for these plans." in [r[0] for r in sheet.iter_rows(values_only=True)]


def test_sheet_data_from_the_database(world, make_indicator):
    indicator = make_indicator(starts_on=dt.date(2022, 4, 1))
    for label, value in [("Q1 2024/25", 400), ("Q2 2024/25", 412)]:
        services.enter_value(indicator, quarter(label), value=value, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    data = indicators_sheet_data([world.plan], TODAY)
    [row] = data.indicators
    assert len(row.periods) == 8 and row.periods[-1] == IndicatorPeriod("Q2 2024/25", 412.0, 450.0)
    assert [p.label for p in row.periods][0] == "Q3 2022/23"
    assert row.rag is Rag.RED and row.direction == "Improving" and row.responsible == world.officer.name


def test_chart_geometry_breaks_the_line_at_gaps_and_draws_the_target(world, indicator):
    for label, value in [("Q3 2023/24", 380), ("Q4 2023/24", 395), ("Q2 2024/25", 412)]:
        services.enter_value(indicator, quarter(label), value=value, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    trend = services.trends([indicator], TODAY)[0]
    chart = trend_chart(trend)
    assert len(chart.markers) == 3
    assert len(chart.value_lines) == 1  # Q3-Q4 2023/24 joined; Q2 2024/25 alone after a gap (marker only)
    assert len(chart.target_lines) == 1
    assert all(chart.top <= m.y <= chart.bottom for m in chart.markers)
    higher, lower = sorted(chart.markers, key=lambda m: m.y)[0], sorted(chart.markers, key=lambda m: m.y)[-1]
    assert higher.label == "Q2 2024/25: 412" and lower.label == "Q3 2023/24: 380"
    assert chart.y_ticks[0][1] == "0" and chart.y_ticks[-1][1] == "600"
    assert "Q1 2024/25 no value" in chart.description
    assert chart.description.endswith("Direction of travel: Improving.")


def test_nice_steps():
    assert nice_step(450) == 200
    assert nice_step(100) == 25
    assert nice_step(0.8) == 0.2


def test_reading_an_upload_silences_only_openpyxl_notes_on_skipped_parts(monkeypatch):
    """Mutation it catches: `warnings.simplefilter("ignore")` around load_workbook, which silenced every
    warning (a DeprecationWarning included) and so defeated `filterwarnings = error` on this path."""
    import warnings

    from tracker.indicators import spreadsheet

    real_load = openpyxl.load_workbook

    def noisy_load(*args, **kwargs):
        warnings.warn_explicit("Workbook contains no default style, apply openpyxl's default", UserWarning,
                               "stylesheet.py", 237, module="openpyxl.styles.stylesheet")
        warnings.warn("a change the project should hear about", DeprecationWarning)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", noisy_load)
    workbook = Workbook()
    workbook.active.append(["Indicator", "Period", "Value"])
    workbook.active.append(["Carers", "Q1 2024/25", 3])
    content = _saved(workbook)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = spreadsheet.read_rows(content)
    assert [str(w.message) for w in caught] == ["a change the project should hear about"]
    assert rows[0]["value"] == 3
