"""The workbook builder, tested on plain snapshots: no database, no request."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest

from tracker.workbooks.builder import EXCEL_CELL_LIMIT, SHEET_NAMES, build_workbook, safe_text
from tracker.workbooks.data import ActionRow, ChangeRow, RatingRow, WorkbookData

AS_AT = dt.date(2023, 10, 6)


def action(n: int, **overrides) -> ActionRow:
    values = dict(
        action_id=n, ref=f"A{n}", group=f"{1 + n % 3} Key feature {1 + n % 3}", proposals="1.1, 1.2",
        text=f"Action {n}", lead_officer="Owen Officer", organisations="NHS Tayside", timescale_text="March 2024",
        due=dt.date(2024, 3, 31), status=["on_track", "at_risk", "complete", "not_started"][n % 4],
        rag=["green", "amber", "blue", "red"][n % 4], rag_text="Green: due 31 March 2024",
        latest_update="Progressing", latest_update_on=dt.date(2023, 9, 1), days_overdue=[0, 0, 0, 5 * n][n % 4],
        changed_this_quarter=n % 2 == 0,
    )
    values.update(overrides)
    return ActionRow(**values)


def snapshot(actions=None, **overrides) -> WorkbookData:
    values = dict(
        plan_name="Demo plan", partnership_name="Dundee", quarter="Q2 2023/24", as_at=AS_AT,
        committee_name="Performance and Audit Committee", meeting_date=dt.date(2023, 10, 25),
        actions=actions if actions is not None else [action(n) for n in range(1, 13)],
        changes=[ChangeRow(1, "A1", "Action 1", "Date slipped", "31 March 2023", "31 March 2024", 2)],
        self_evaluation=[RatingRow("1.1", "Shared vision", "Established", "Partly established", "Up")],
        current_round="MSG 2023", previous_round="MSG 2019",
    )
    values.update(overrides)
    return WorkbookData(**values)


def load(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_xml(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                if name.startswith("xl/worksheets/sheet")}


def test_sheets_are_named_and_in_order():
    assert load(build_workbook(snapshot())).sheetnames == list(SHEET_NAMES)


def test_summary_counts_equal_the_actions_sheet():
    wb = load(build_workbook(snapshot()))
    actions = list(wb["Actions"].iter_rows(min_row=2, values_only=True))
    header = [c.value for c in wb["Actions"][1]]
    status_col, rag_col = header.index("Status"), header.index("RAG")
    summary = list(wb["Summary"].iter_rows(values_only=True))
    table_header = next(i for i, row in enumerate(summary) if row[0] == "Key feature")
    heads = summary[table_header]
    total_row = next(row for row in summary if row[0] == "All actions")
    for label in ("Not started", "On track", "At risk", "Complete"):
        assert total_row[heads.index(label)] == sum(1 for row in actions if row[status_col] == label)
    for label in ("Red", "Amber", "Green", "Blue"):
        assert total_row[heads.index(f"RAG: {label}")] == sum(1 for row in actions if row[rag_col] == label)
    assert total_row[heads.index("Total")] == len(actions) == 12
    group_rows = summary[table_header + 1: summary.index(total_row)]
    for row in group_rows:
        assert row[heads.index("Total")] == sum(1 for a in actions if a[0] == row[0])


def test_narratives_that_look_like_formulas_stay_text():
    nasty = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "#N/A", "\t=1+1"]
    rows = [action(i + 1, text=value, latest_update=value, ref=value[:5]) for i, value in enumerate(nasty)]
    content = build_workbook(snapshot(rows, plan_name="=cmd|' /C calc'!A0"))
    for name, xml in sheet_xml(content).items():
        assert "<f>" not in xml and "<f " not in xml, name
    actions = load(content)["Actions"]
    texts = [row[3] for row in actions.iter_rows(min_row=2, values_only=True)]
    assert sorted(texts) == sorted(nasty)
    assert all(actions.cell(row=r, column=4).data_type == "s" for r in range(2, 8))
    # The shared rule (tracker.cells): quotePrefix on each formula-like text, so it stays text once edited.
    quoted = {actions.cell(row=r, column=4).value: actions.cell(row=r, column=4).quotePrefix for r in range(2, 8)}
    assert quoted == {value: value != "#N/A" for value in nasty}


def test_illegal_xml_characters_are_removed_and_long_text_is_cut_with_a_note():
    long = "x" * (EXCEL_CELL_LIMIT + 10)
    rows = [action(1, text="bell\x07 and\x1b escape", latest_update=long)]
    wb = load(build_workbook(snapshot(rows)))
    row = next(wb["Actions"].iter_rows(min_row=2, values_only=True))
    assert row[3] == "bell and escape"
    assert len(row[11]) == EXCEL_CELL_LIMIT and row[11].endswith("see the tracker]")
    assert "32,777 characters" in row[11]
    assert safe_text("short") == "short"


def test_rag_is_shown_as_colour_and_as_text():
    wb = load(build_workbook(snapshot()))
    ws = wb["Actions"]
    header = [c.value for c in ws[1]]
    rag = ws.cell(row=2, column=header.index("RAG") + 1)
    assert rag.value in {"Red", "Amber", "Green", "Blue"}
    assert rag.fill.fgColor.rgb.endswith({"Red": "C00000", "Amber": "FFC000", "Green": "00823B",
                                          "Blue": "0065BD"}[rag.value])


def test_overdue_is_sorted_by_days_overdue():
    wb = load(build_workbook(snapshot()))
    days = [row[0] for row in wb["Overdue"].iter_rows(min_row=2, values_only=True)]
    assert days and days == sorted(days, reverse=True) and all(d > 0 for d in days)


def test_formatting_fit_for_committee_papers():
    content = build_workbook(snapshot())
    wb = load(content)
    actions = wb["Actions"]
    assert actions.freeze_panes == "C2"
    assert actions.auto_filter.ref == "A1:P13"
    assert actions.print_title_rows == "$1:$1"
    assert actions.page_setup.orientation == "landscape"
    assert actions.page_setup.fitToWidth in (None, 1) and actions.sheet_properties.pageSetUpPr.fitToPage  # 1 by default
    assert "&P" in actions.oddFooter.center.text
    assert actions.cell(row=1, column=1).font.bold
    assert actions.cell(row=2, column=4).alignment.wrap_text
    assert round(actions.column_dimensions["D"].width) in (45, 46)  # with the padding Excel adds
    assert actions.page_setup.paperSize == 8  # A3: the wide sheet stays readable
    assert actions.row_dimensions[2].height and actions.row_dimensions[2].height >= 15
    assert wb.properties.title == "Demo plan: progress Q2 2023/24"
    assert wb.properties.creator == "Improvement action tracker"


def test_chart_has_a_title_and_alternative_text():
    content = build_workbook(snapshot())
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        drawing = archive.read("xl/drawings/drawing1.xml").decode()
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert re.search(r'descr="Stacked bar chart of the number of actions[^"]+"', drawing)
    assert "Status of actions by key feature" in chart
    assert 'grouping val="stacked"' in chart


def test_snapshot_round_trips_through_json():
    data = snapshot()
    assert WorkbookData.from_json(data.to_json()) == data


def test_empty_plan_still_builds():
    wb = load(build_workbook(snapshot([], changes=[], self_evaluation=[])))
    assert wb["Actions"].max_row == 1


def test_libreoffice_opens_the_workbook(tmp_path, soffice):
    from tests.workbooks.helpers import convert_with_libreoffice

    path = tmp_path / "plan.xlsx"
    path.write_bytes(build_workbook(snapshot()))
    assert convert_with_libreoffice(path, tmp_path).stat().st_size > 1000


def test_summary_lists_headline_changes_and_counts():
    changes = [ChangeRow(n, f"A{n}", f"Action {n}", kind, "On track", "Complete", 0)
               for n, kind in enumerate(["New", "Status moved", "Completed", "Date slipped"] * 3, start=1)]
    wb = load(build_workbook(snapshot(changes=changes)))
    lines = [row[0] for row in wb["Summary"].iter_rows(values_only=True) if row and row[0]]
    first = lines.index(next(line for line in lines if line.startswith("A3 (completed)")))
    assert lines[first:first + 3] == ["A3 (completed): Action 3", "A7 (completed): Action 7",
                                      "A11 (completed): Action 11"]
    assert "... and 4 more on the Changes sheet." in lines
    counts = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True) if row and row[0] in
              ("New", "Completed", "Status moved", "Date slipped")}
    assert counts == {"New": 3, "Completed": 3, "Status moved": 3, "Date slipped": 3}


def test_notes_give_the_rag_rules_from_tracker_rag():
    from tracker import rag

    wb = load(build_workbook(snapshot()))
    notes = dict(row for row in wb["Notes"].iter_rows(min_row=2, values_only=True))
    assert f"{rag.STALE_AFTER_DAYS} days" in notes["Amber"]
    assert f"{rag.AT_RISK_RED_WINDOW_DAYS} days" in notes["Red"]
    assert notes["RAG rules"].startswith("Blue when complete")


def test_self_evaluation_sheet_shows_both_rounds():
    wb = load(build_workbook(snapshot()))
    rows = list(wb["Self-evaluation"].iter_rows(values_only=True))
    assert rows[0][2:4] == ("Latest rating (MSG 2023)", "Previous rating (MSG 2019)")
    assert rows[1] == ("1.1", "Shared vision", "Established", "Partly established", "Up")


def test_long_tables_keep_dates_blanks_and_formula_like_text_in_every_column():
    """The Actions, Overdue and Changes sheets are written by a fast path: the same cells as the other sheets."""
    rows = [action(1, due=None, latest_update="", latest_update_on=None, days_overdue=0),
            action(3, lead_officer="=1+1", organisations="@org", due=dt.date(2024, 2, 29), days_overdue=9,
                   moved_reason="Staff left", moved_by="Pat Manager", moved_on=dt.date(2023, 8, 1))]
    changes = [ChangeRow(3, "A3", "Action 3", "Date slipped", "1 January 2024", "29 February 2024", 1,
                         moved_on=dt.date(2023, 8, 1))]
    wb = load(build_workbook(snapshot(rows, changes=changes)))
    actions = wb["Actions"]
    first, second = (list(row) for row in actions.iter_rows(min_row=2, max_row=3, values_only=True))
    assert first[7] is None and first[11] is None and first[12] is None and first[15] is None
    assert second[7] == dt.datetime(2024, 2, 29) and actions.cell(row=3, column=8).number_format == "d mmm yyyy"
    assert second[12] == dt.datetime(2023, 9, 1) and second[13] == 9
    assert second[15] == "Staff left (Pat Manager, 1 August 2023)"
    assert [second[4], second[5]] == ["=1+1", "@org"]
    assert actions.cell(row=3, column=5).quotePrefix and actions.cell(row=3, column=6).quotePrefix
    assert all(actions.cell(row=2, column=c).border.left.style == "thin" for c in range(1, 17))
    assert next(wb["Overdue"].iter_rows(min_row=2, values_only=True))[4] == dt.datetime(2024, 2, 29)
    assert next(wb["Changes"].iter_rows(min_row=2, values_only=True))[7] == dt.datetime(2023, 8, 1)


def test_long_tables_rows_keep_their_heights_with_the_commonest_as_the_default():
    """The commonest row height of a long table is its sheet's default row height (so XlsxWriter is told only
    about the other rows); every row still gets the height its wrapped text needs, the heading row too."""
    long = "word " * 30  # 150 characters: four lines of the Action column
    rows = ([action(n, text=long) for n in range(1, 6)] + [action(6)]
            + [action(7, rag_text="Green", group="G", days_overdue=3)])
    wb = load(build_workbook(snapshot(rows, changes=[])))
    actions = wb["Actions"]

    def height(ws, row):
        return ws.row_dimensions[row].height or ws.sheet_format.defaultRowHeight

    assert actions.sheet_format.defaultRowHeight == 60
    assert [height(actions, r) for r in range(1, 9)] == [45] + [60] * 5 + [30, 15]
    overdue = wb["Overdue"]
    # A3 (15 days, the long text in the wider column: three lines) and A7: a tie, so the shorter is the default.
    assert [height(overdue, r) for r in range(1, overdue.max_row + 1)] == [30, 45, 15]
    assert overdue.sheet_format.defaultRowHeight == 15
