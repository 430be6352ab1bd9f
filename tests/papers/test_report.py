"""The covering report (issue 14, point 5): opens in python-docx, IJB layout, headline figures and reasons."""
from __future__ import annotations

import io

import docx

from tests.papers.test_pdf import RISKS
from tests.workbooks.test_builder import snapshot
from tracker.papers.report import build_report
from tracker.workbooks.builder import summary_figures
from tracker.workbooks.data import ChangeRow


def text_of(content: bytes) -> tuple[str, list[list[str]]]:
    document = docx.Document(io.BytesIO(content))
    tables = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    return "\n".join(p.text for p in document.paragraphs), tables


def test_the_report_carries_the_layout_figures_slips_and_sections():
    change = ChangeRow(1, "A1", "Action 1", "Date slipped", "31 March 2023", "31 March 2024", 2,
                       reason="Procurement timetable moved by the council", moved_by="Owen Officer")
    data = snapshot(sections=[RISKS], changes=[change])
    text, tables = text_of(build_report(data, report_number="DIJB72-2022"))
    for part in ("REPORT TO: PERFORMANCE AND AUDIT COMMITTEE - 25 OCTOBER 2023", "REPORT ON:", "REPORT BY:",
                 "REPORT NO: DIJB72-2022", "PURPOSE OF REPORT", "RECOMMENDATIONS", "MAIN TEXT",
                 "RISK ASSESSMENT", "DIRECTIONS", "None required", "BACKGROUND PAPERS"):
        assert part in text, part
    assert "Procurement timetable moved by the council" in text
    assert "The risk register is reviewed quarterly." in text
    for label, value in summary_figures(data).items():
        assert [label, f"{value:,}"] in tables


def test_the_partnerships_template_is_used(tmp_path):
    template = docx.Document()
    template.add_paragraph("Old body text")
    template.sections[0].header.paragraphs[0].text = "Our IJB letterhead"
    buffer = io.BytesIO()
    template.save(buffer)
    document = docx.Document(io.BytesIO(build_report(snapshot(), template=buffer.getvalue())))
    assert document.sections[0].header.paragraphs[0].text == "Our IJB letterhead"
    assert "Old body text" not in "\n".join(p.text for p in document.paragraphs)
