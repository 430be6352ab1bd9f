"""Build small .docx and .xlsx files for the import tests."""
from __future__ import annotations

import io

import docx

LEVELS = ["Not yet established", "Partly established", "Established", "Exemplary"]


def selfeval_docx(proposals: list[dict], *, partnership="Test HSCP", completed="08 May 2019") -> bytes:
    """proposals: dicts with number, title, mark (text under the marked level), level (index), evidence
    (list of paragraphs), actions (list of paragraphs), heading ("row", "paragraph", "split", "indicator")."""
    document = docx.Document()
    document.add_heading("Self-evaluation", 1)
    front = document.add_table(rows=3, cols=2)
    for row, (label, value) in zip(front.rows, [("Name of Partnership", partnership), ("Contact", ""),
                                                ("Date of completion", completed)]):
        row.cells[0].text, row.cells[1].text = label, value
    for proposal in proposals:
        style = proposal.get("heading", "row")
        heading = f"Proposal {proposal['number']}"
        if style == "paragraph":
            document.add_paragraph(f"{heading}: {proposal['title']}")
        header_rows = {"row": 1, "indicator": 1, "split": 2, "paragraph": 0}[style]
        table = document.add_table(rows=header_rows + 5, cols=5)
        if style in ("row", "indicator"):
            word = "Indicator" if style == "indicator" else "Proposal"
            merged = table.rows[0].cells[0].merge(table.rows[0].cells[4])
            merged.text = f"{word} {proposal['number']}\n{proposal['title']}"
        elif style == "split":
            table.rows[0].cells[0].merge(table.rows[0].cells[4]).text = heading
            table.rows[1].cells[0].merge(table.rows[1].cells[4]).text = proposal["title"]
        rows = table.rows[header_rows:]
        rows[0].cells[0].text = "Rating"
        for i, level in enumerate(LEVELS):
            rows[0].cells[i + 1].text = level
        rows[1].cells[0].text = "Indicator"
        rows[2].cells[0].text = "Our Rating"
        if proposal.get("level") is not None:
            rows[2].cells[proposal["level"] + 1].text = proposal.get("mark", "X")
        for row, label, key in ((rows[3], "Evidence / Notes", "evidence"), (rows[4], "Proposed improvement actions",
                                                                             "actions")):
            row.cells[0].text = label
            cell = row.cells[1].merge(row.cells[4])
            paragraphs = proposal.get(key, [])
            if paragraphs:
                cell.paragraphs[0].text = paragraphs[0]
                for text in paragraphs[1:]:
                    cell.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def plan_xlsx(headers: list[str], rows: list[list], *, title: list[str] = (), merges: list[str] = (),
              sheet_title: str = "Plan") -> bytes:
    """A workbook with an optional title block, a header row and the rows, with merged ranges."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for line in title:
        sheet.append([line])
    if title:
        sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_part(package: bytes, part: str, change) -> bytes:
    """The same zip with one part's bytes changed by `change(bytes) -> bytes`."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, change(data) if item.filename == part else data)
    return buffer.getvalue()
