"""The PDF paper (issue 14, point 4): text extracts, tagged, titled, in English, figures equal the workbook's."""
from __future__ import annotations

import io
import re

import openpyxl
import pypdf

from tests.workbooks.test_builder import snapshot
from tracker.papers.pdf import build_pdf
from tracker.papers.sections import Chart, Section
from tracker.workbooks.builder import build_workbook

RISKS = Section(key="risks", title="Risks", columns=("Risk", "Score", "Owner"),
                rows=(("Staff shortage", "16", "Chief Officer"), ("Budget gap", "20", "Chief Finance Officer")),
                summary=("Two risks are scored 15 or more.",), report_heading="Risk assessment",
                report_text=("The risk register is reviewed quarterly.",),
                charts=(Chart("Risks by score", ("High", "Low"), (2, 0), ("red", "green"), "Two high risks."),),
                flagged_rows=(1,))


def pdf_of(data) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(build_pdf(data)))


def test_the_pdf_is_tagged_titled_in_english_and_its_figures_equal_the_workbooks(app):
    data = snapshot(sections=[RISKS], draft=True)
    reader = pdf_of(data)
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]).lower() == "en-gb"
    assert reader.metadata.title == "DRAFT: Demo plan: progress Q2 2023/24"
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert all("DRAFT" in page.extract_text() for page in reader.pages)
    assert "Staff shortage" in text and "Two risks are scored 15 or more." in text and "Risks" in text

    summary = list(openpyxl.load_workbook(io.BytesIO(build_workbook(data)), read_only=True)["Summary"]
                   .iter_rows(values_only=True))
    heads = next(row for row in summary if row and row[0] == "Key feature")
    total = next(row for row in summary if row and row[0] == "All actions")
    flat = " ".join(text.split())
    for label, value in zip(heads[1:], total[1:]):
        label = label.removeprefix("RAG: ") if label != "Total" else "All actions"
        assert re.search(rf"{re.escape(label)} {value:,}\b", flat), (label, value)
