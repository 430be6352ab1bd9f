"""The Indicators sheet of the quarterly committee workbook.

`indicators_sheet_data(plans, today)` gathers the figures; `add_indicators_sheet(workbook, data)` is a
pure function that writes them to an openpyxl workbook (write-only or not): per indicator, the last
eight periods with their targets, the latest value against target (RAG with its reason), the direction
of travel, and a line chart of value and target.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook import Workbook

from tracker.cells import looks_like_formula
from tracker.indicators import services
from tracker.plans.models import Plan
from tracker.rag import TARGET_TOLERANCE, Rag
from tracker.timeutil import long_date

SHEET_TITLE = "Indicators"
#: Rows each indicator's block takes, so that its chart (anchored beside the block) never overlaps the next.
BLOCK_ROWS = 18
CHART_WIDTH_CM, CHART_HEIGHT_CM = 16.0, 8.0


@dataclass(frozen=True)
class IndicatorPeriod:
    label: str  # "Q1 2024/25"
    value: float | None
    target: float | None


@dataclass(frozen=True)
class IndicatorSheetRow:
    """One indicator as the committee sees it."""

    name: str
    plan: str
    unit: str  # "count", "percentage", "hours", "rate"
    frequency: str  # "quarterly", ...
    higher_is_better: bool
    responsible: str  # the officer responsible for the data, or ""
    periods: list[IndicatorPeriod]  # oldest first, at most eight
    rag: Rag
    rag_text: str  # "Red: 412 is 8% below the target of 450 (Q4 2024/25)"
    direction: str  # "Improving", "Worsening", "No change", "Not enough data"
    note: str = ""  # the latest value's note, e.g. "Provisional" or "Illustrative figure."


@dataclass(frozen=True)
class IndicatorsSheetData:
    as_at: dt.date
    indicators: list[IndicatorSheetRow]


def indicators_sheet_data(plans: Sequence[Plan], today: dt.date) -> IndicatorsSheetData:
    """The figures for the sheet, for the plans a committee oversees (two queries)."""
    from tracker.extensions import db
    from tracker.indicators.models import Indicator

    indicators = db.session.scalars(
        services.indicators_query().where(Indicator.plan_id.in_([p.id for p in plans]))
        .order_by(Indicator.plan_id, Indicator.name)
    ).all()
    names = {p.id: p.name for p in plans}
    rows = []
    for trend in services.trends(indicators, today):
        indicator = trend.indicator
        rows.append(IndicatorSheetRow(
            name=indicator.name, plan=names[indicator.plan_id], unit=indicator.unit.value,
            frequency=indicator.frequency, higher_is_better=indicator.higher_is_better,
            responsible=indicator.responsible_officer.name if indicator.responsible_officer else "",
            periods=[IndicatorPeriod(p.period.label, p.value, p.target) for p in trend.points],
            rag=trend.rag.rag, rag_text=trend.rag.text, direction=trend.direction,
            note=trend.latest.entry.note if trend.latest and trend.latest.entry else "",
        ))
    return IndicatorsSheetData(as_at=today, indicators=rows)


def chart_description(indicator: IndicatorSheetRow) -> str:
    """A chart's alternative text: what it shows, its first and latest values, and the latest against target."""
    known = [p for p in indicator.periods if p.value is not None]
    if not known:
        return f"Line chart of {indicator.name}: no values yet."
    unit = indicator.unit
    first, last = known[0], known[-1]
    return (f"Line chart of {indicator.name} with its target, {indicator.periods[0].label} to "
            f"{indicator.periods[-1].label}: {services.format_value(first.value, unit)} in {first.label}, "
            f"{services.format_value(last.value, unit)} in {last.label}. {indicator.rag_text}. "
            f"Direction of travel: {indicator.direction}. The figures are in the table beside the chart.")


def _number_format(unit: str) -> str:
    return {"percentage": '0.0"%"', "hours": "#,##0", "count": "#,##0"}.get(unit, "#,##0.0")


def add_indicators_sheet(workbook: Workbook, data: IndicatorsSheetData):
    """Append the Indicators sheet to `workbook` and return it. Works on write-only workbooks: rows are
    appended in order and each chart refers to rows already written."""
    ws = workbook.create_sheet(SHEET_TITLE)
    for column, width in zip("ABCD", (34, 14, 14, 60)):
        ws.column_dimensions[column].width = width

    def cell(value, *, bold=False, size=None, fill: Rag | None = None, number_format=None, wrap=False):
        c = WriteOnlyCell(ws, value=value)
        if looks_like_formula(value):
            c.data_type = "s"  # text that looks like a formula stays text, even once edited
            c.quotePrefix = True
        if bold or size or fill:
            c.font = Font(bold=bold or fill is not None, size=size,
                          color=fill.text_hex if fill is not None else None)
        if fill is not None:
            c.fill = PatternFill("solid", fgColor=fill.hex)
        if number_format:
            c.number_format = number_format
        if wrap:
            c.alignment = Alignment(wrap_text=True, vertical="top")
        return c

    row = 0

    def append(*values):
        nonlocal row
        ws.append([v if isinstance(v, Cell) or v is None else cell(v) for v in values])
        row += 1

    tolerance = f"{TARGET_TOLERANCE:.0%}"
    append(cell("Performance indicators", bold=True, size=14))
    append(f"Values as at {long_date(data.as_at)}: the last eight periods of each indicator.")
    append(f"Against target: green meets or beats the target; amber misses it by no more than {tolerance} of "
           f"the target; red misses it by more. Direction of travel compares the latest value with the one before.")
    append()
    if not data.indicators:
        append("No indicators are recorded for these plans.")
        return ws
    for indicator in data.indicators:
        start = row + 1
        fmt = _number_format(indicator.unit)
        better = "higher is better" if indicator.higher_is_better else "lower is better"
        append(cell(indicator.name, bold=True, size=12))
        append(f"{indicator.unit.capitalize()}, {indicator.frequency}, {better}"
               + (f". Data: {indicator.responsible}" if indicator.responsible else "")
               + (f". {indicator.note}" if indicator.note else ""))
        append("Latest against target", cell(indicator.rag.label, fill=indicator.rag),
               None, cell(indicator.rag_text, wrap=True))
        append("Direction of travel", cell(indicator.direction, bold=True))
        append(cell("Period", bold=True), cell("Value", bold=True), cell("Target", bold=True))
        header = row
        for period in indicator.periods:
            append(period.label, cell(period.value, number_format=fmt), cell(period.target, number_format=fmt))
        last = row
        if indicator.periods:
            chart = LineChart()
            chart.title = indicator.name[:120]
            # Alternative text, written by a drawing writer that supports it (the committee workbook's).
            chart.alt_title = f"Trend: {indicator.name}"
            chart.alt_text = chart_description(indicator)
            chart.y_axis.title = indicator.unit.capitalize()
            chart.x_axis.title = "Period"
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
            chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=header, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
            value_series, target_series = chart.series
            value_series.marker.symbol = "circle"
            target_series.graphicalProperties.line.dashStyle = "dash"
            target_series.marker.symbol = "none"
            ws.add_chart(chart, f"E{start}")
        while row < start + BLOCK_ROWS - 1:
            append()
    return ws
