"""Every sheet print-ready (issue 14, point 3), checked by printing the workbook to PDF with LibreOffice."""
from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pypdf

from tests.papers.test_pdf import RISKS
from tests.workbooks.helpers import convert_with_libreoffice
from tests.workbooks.test_builder import snapshot
from tracker.indicators.workbook import IndicatorPeriod, IndicatorSheetRow
from tracker.papers import palette
from tracker.rag import Rag, Status
from tracker.workbooks.builder import build_workbook

INDICATORS = [IndicatorSheetRow(name=f"Indicator {n}", plan="Demo plan", unit="count", frequency="quarterly",
                                higher_is_better=True, responsible="", rag=Rag.GREEN, rag_text="Green: on target",
                                direction="Improving",
                                periods=[IndicatorPeriod(f"Q{q} 2023/24", 10.0 + q, 12.0) for q in (1, 2, 3, 4)])
              for n in range(3)]


def test_a_draft_prints_landscape_with_footers_draft_on_every_page_and_no_empty_sheet(tmp_path, soffice):
    data = snapshot(self_evaluation=[], current_round="", previous_round="", draft=True, indicators=INDICATORS,
                    sections=[RISKS])
    content = build_workbook(data)
    names = openpyxl.load_workbook(io.BytesIO(content), read_only=True).sheetnames
    assert "Self-evaluation" not in names and "Risks" in names and "Indicators" in names
    notes = [row for row in openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Notes"]
             .iter_rows(values_only=True)]
    assert any(row[0] == "Self-evaluation left out" for row in notes)
    props = openpyxl.load_workbook(io.BytesIO(content), read_only=True).properties
    assert props.title.startswith("DRAFT") and "DRAFT" in props.keywords

    path = tmp_path / "draft.xlsx"
    path.write_bytes(content)
    reader = pypdf.PdfReader(convert_with_libreoffice(path, tmp_path))
    assert len(reader.pages) >= len(names)
    for page in reader.pages:
        text = page.extract_text()
        assert page.mediabox.width > page.mediabox.height  # landscape
        assert "DRAFT" in text and re.search(r"Page \d+ of \d+", text) and "Demo plan, Q2 2023/24" in text

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = {n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")}
        drawings = {n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/drawings/drawing")}
    # Every chart starts where a page starts, or fits within a block that does (no chart over a page break).
    summary, indicators = sheets["xl/worksheets/sheet1.xml"], sheets[f"xl/worksheets/sheet{names.index('Indicators') + 1}.xml"]
    breaks = [int(b) for b in re.findall(r'<brk id="(\d+)"', summary)]
    chart_rows = [int(r) for r in re.findall(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                                              r"<xdr:row>(\d+)</xdr:row>", drawings["xl/drawings/drawing1.xml"])]
    assert chart_rows and chart_rows[0] == breaks[0] + 1  # a page starts with the chart's caption, then the chart
    assert re.findall(r'<brk id="(\d+)"', indicators)  # two indicators to a page


def test_status_colours_match_the_rag_palette_in_the_chart():
    content = build_workbook(snapshot())
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    fills = re.findall(r'<c:spPr><a:solidFill><a:srgbClr val="([0-9A-F]{6})"', chart)
    assert fills[:2] == [palette.status_fill(Status.NOT_STARTED), palette.status_fill(Status.ON_TRACK)]
    assert palette.status_fill(Status.ON_TRACK) == Rag.GREEN.hex and palette.status_fill(Status.AT_RISK) == Rag.AMBER.hex


def test_the_web_pages_rag_colours_are_the_papers_palette():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "selfeval.css").read_text()
    for rag in Rag:
        found = re.search(rf"\.app-rag--{rag.value} {{ background-color: #([0-9a-fA-F]{{6}}); color: #(\w+);", css)
        assert found and found.group(1).upper() == palette.rag_fill(rag), rag
    assert "--app-colour-green: #00823B" in palette.css()
