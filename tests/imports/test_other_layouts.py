"""Plans laid out differently from Dundee's: other header names, a title block, dates, statuses, MSG links."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests import factories
from tests.imports.builders import plan_xlsx
from tracker.extensions import db
from tracker.imports import services, xlsx_plan
from tracker.plans.models import Plan
from tracker.rag import Status

TITLE = ["Anytown Health and Social Care Partnership", "MSG improvement action plan 2023/24", "Version 3"]
HEADERS = ["No.", "Improvement action", "Responsible officer", "Target date", "MSG proposal(s)", "RAG"]
ROWS = [
    ["1", "Agree a joint budget timetable", "Chief Finance Officer/NHS Anytown", dt.datetime(2024, 3, 31), "2.1, 2.2",
     "On track"],
    ["2", "Publish directions policy", "Health & Social Care Partnership", "Q3 2023/24", "4.4", "Complete"],
    ["3", "Refresh engagement strategy", "Third Sector Interface; Carers Centre", "Ongoing", "6.1; 6.2", ""],
    ["4", "Review set aside budget", "NHS Anytown", "Autumn 2023", "Proposal 2.3 & 3.5", "Slippage"],
    ["5", "Joint development session", "Council", "By end of Sept 24", "1.1", "Purple"],
    ["6", "Check the numbers", "Council", "Summer 2024", "9.9", "Not started"],
]


def test_a_differently_laid_out_plan_imports_without_correction(app):
    factories.msg()
    partnership = factories.partnership("Anytown")
    parsed = xlsx_plan.parse(plan_xlsx(HEADERS, ROWS, title=TITLE))
    assert parsed.header_row == 5
    assert parsed.title.startswith("Anytown Health")
    assert parsed.mapping == {"ref": "A", "action": "B", "officer": "C", "timescale": "D", "msg": "E", "status": "F"}
    rows = {row["ref"]: row for row in parsed.rows}
    assert rows["1"]["timescale_read"]["end"] == "2024-03-31"
    assert rows["2"]["timescale_read"]["end"] == "2023-12-31"
    assert rows["3"]["status"] == "ongoing" and rows["3"]["status_from"] == "timescale"
    assert rows["4"]["status"] == "at_risk" and rows["4"]["msg"] == ["2.3", "3.5"]
    assert rows["3"]["msg"] == ["6.1", "6.2"]
    problems = {(p.cell, p.message.split(" ")[1]) for p in parsed.problems}
    assert ("F10", "status") in problems  # "Purple" is reported with its cell
    assert any(p.cell == "E11" and "9.9" in p.message for p in parsed.problems)

    summary = services.apply(parsed, partnership, "Anytown MSG plan", actor_id=None)
    db.session.commit()
    assert summary["create"] == 6
    plan = db.session.scalar(select(Plan))
    assert plan.framework.code == "msg-2019"
    actions = {a.ref: a for a in plan.actions}
    assert [i.number for i in actions["1"].items] == ["2.1", "2.2"]
    assert actions["1"].due_end == dt.date(2024, 3, 31)
    assert actions["2"].status == Status.COMPLETE
    assert actions["5"].status == Status.NOT_STARTED
    # A job title is never an organisation; the organisation beside it in the officer column is.
    assert [o.name for o in actions["1"].organisations] == ["NHS Anytown"]
    assert actions["1"].lead_text == "Chief Finance Officer/NHS Anytown"
    assert [o.name for o in actions["2"].organisations] == ["Health & Social Care Partnership"]
    assert sorted(o.name for o in actions["3"].organisations) == ["Carers Centre", "Third Sector Interface"]

    again = services.apply(xlsx_plan.parse(plan_xlsx(HEADERS, ROWS, title=TITLE)), partnership, "Anytown MSG plan",
                           actor_id=None)
    assert (again["create"], again["update"], again["unchanged"]) == (0, 0, 6)


def test_unknown_headers_need_only_a_column_mapping_correction(app):
    factories.msg()
    partnership = factories.partnership("Anytown")
    headers = ["Theme", "Key deliverable", "Who", "When"]
    rows = [["Theme 1: Finance", "Agree budget timetable", "Council", "March 2024"],
            [None, "Publish a financial plan", "NHS Anytown", "June 2024"],
            ["Theme 2: Engagement", "Hold an event", "TSI", "May 2024"]]
    data = plan_xlsx(headers, rows, title=["Our plan"])  # "same as above" with no merge
    parsed = xlsx_plan.parse(data)
    assert "action" not in parsed.mapping
    assert any("No column is marked as holding the actions" in p.message for p in parsed.problems)
    corrected = xlsx_plan.parse(data, mapping={**parsed.mapping, "action": "B"})
    summary = services.apply(corrected, partnership, "Our plan", actor_id=None)
    db.session.commit()
    assert summary["create"] == 3
    plan = db.session.scalar(select(Plan))
    assert [(t.number, t.title) for t in plan.framework.themes] == [("1", "Finance"), ("2", "Engagement")]
    assert {a.ref: a.items[0].theme.number for a in plan.actions} == {"1.1": "1", "1.2": "1", "2.1": "2"}


def test_blank_cells_inside_a_merged_block_mean_same_as_above():
    headers = ["Outcome", "Priority area", "Action", "Lead", "Timescale"]
    rows = [["Outcome 1: Carers are heard", "Listen better", "Run surveys", "Carers Centre", "2024"],
            [None, None, "Report results", None, "2025"],
            [None, "Act on it", "Change services", None, "2025"]]
    parsed = xlsx_plan.parse(plan_xlsx(headers, rows, merges=["A2:A4", "B2:B3"]))
    leads = [(row["ref"], row["lead"], row["lead_inherited"]) for row in parsed.rows]
    assert leads == [("1.1.1", "Carers Centre", False), ("1.1.2", "Carers Centre", True), ("1.2.1", "", False)]
    assert [t["items"] for t in parsed.themes] == [[{"number": "1.1", "title": "Listen better"},
                                                    {"number": "1.2", "title": "Act on it"}]]


def test_header_names_real_plans_use():
    expected = {
        "Planned actions": "action", "Improvement action": "action", "Action": "action",
        "Lead": "lead", "By who": "lead", "Responsible officer": "officer", "Lead officer": "officer",
        "Partner organisations": "lead", "Lead agency": "lead", "Owner": "officer",
        "Timescale/Status": "timescale", "Target date": "timescale", "Timescale": "timescale",
        "Ref": "ref", "MSG proposal(s)": "msg", "Priority areas": "area", "Outcome": "outcome",
        "Carer Strategic Outcome": "outcome", "RAG": "status", "Status": "status", "Progress": "status",
    }
    assert {header: xlsx_plan.guess_role(header) for header in expected} == expected


def test_a_merged_lead_cell_leads_every_action_it_spans():
    rows = [["Do one", "Council/NHS Anytown", "2024"], ["Do two", None, "2025"], ["Do three", "TSI", "2025"]]
    parsed = xlsx_plan.parse(plan_xlsx(["Action", "Lead", "Timescale"], rows, merges=["B2:B3"]))
    assert [row["lead"] for row in parsed.rows] == ["Council/NHS Anytown", "Council/NHS Anytown", "TSI"]


def test_a_cover_sheet_without_a_header_is_passed_over():
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active.append(["Anytown delivery plan, approved by the IJB on 1 April 2024"])
    plan = workbook.create_sheet("Actions")
    plan.append(["Action", "Lead", "Timescale"])
    plan.append(["Do it", "Council", "March 2025"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = xlsx_plan.parse(buffer.getvalue())
    assert parsed.sheet == "Actions" and [row["text"] for row in parsed.rows] == ["Do it"]
    assert any(p.sheet == "Cover" and "no header row" in p.message for p in parsed.problems)
