"""The covering IJB report (.docx) for the officer to edit before issue, prefilled from the same snapshot.

Laid out as an Integration Joint Board report (report to / on / by / number, then numbered sections:
purpose, recommendations, financial implications, main text, risk assessment, consultations, directions,
background papers). Written on the partnership's own template when the PAPERS_REPORT_TEMPLATE setting
names one (its styles, headers and footers are kept and its body replaced), else on a plain document.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
from docx.shared import Pt

from tracker.rag import Rag
from tracker.timeutil import long_date
from tracker.workbooks.builder import ILLEGAL_CHARACTERS_RE, summary_figures, title_of
from tracker.workbooks.data import WorkbookData

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BIGGEST_SLIPS = 5
#: Section headings a feature's Section.report_heading may fill; any other heading becomes part of the main text.
RISK_HEADING = "Risk assessment"


def _clean(text: object) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", "" if text is None else str(text))


def _document(template: bytes | Path | str | None):
    if template is None:
        return docx.Document()
    source = io.BytesIO(template) if isinstance(template, bytes) else str(template)
    document = docx.Document(source)
    body = document.element.body
    for child in list(body):
        if not child.tag.endswith("}sectPr"):  # keep the page set-up, headers and footers
            body.remove(child)
    return document


def build_report(data: WorkbookData, *, template: bytes | Path | str | None = None, report_by: str = "Chief Officer",
                 report_number: str = "") -> bytes:
    """The covering report as .docx bytes."""
    document = _document(template)
    figures = summary_figures(data)
    committee = data.committee_name or f"{data.partnership_name} Integration Joint Board"
    meeting = f" - {long_date(data.meeting_date).upper()}" if data.meeting_date else ""

    def para(text: str = "", *, bold: bool = False, style: str | None = None):
        paragraph = document.add_paragraph(style=style)
        run = paragraph.add_run(_clean(text))
        run.bold = bold
        return paragraph

    def heading(number: int, text: str):
        return document.add_heading(f"{number}.0 {text.upper()}", level=2)

    counter = {"n": 0, "sub": 0}

    def section(text: str):
        counter["n"] += 1
        counter["sub"] = 0
        heading(counter["n"], text)

    def numbered(text: str):
        counter["sub"] += 1
        para(f"{counter['n']}.{counter['sub']} {text}")

    if data.draft:
        para("DRAFT: for the officer to complete and check before issue.", bold=True)
    para(f"REPORT TO: {committee.upper()}{meeting}", bold=True)
    para(f"REPORT ON: {data.plan_name.upper()}: PROGRESS {data.quarter}", bold=True)
    para(f"REPORT BY: {report_by.upper()}", bold=True)
    para(f"REPORT NO: {report_number or '[report number]'}", bold=True)

    section("Purpose of report")
    numbered(f"To report progress on the {data.plan_name} for {data.quarter}, with figures as at "
             f"{long_date(data.as_at)}.")

    section("Recommendations")
    numbered(f"It is recommended that the {committee}:")
    para(f"Notes the progress made in delivering the {data.plan_name}, as set out in section 4 of this report "
         "and in the progress paper and workbook.", style="List Bullet")
    para("Notes the actions whose timescales have been revised, and the reasons given.", style="List Bullet")

    section("Financial implications")
    numbered("There are no financial implications arising directly from this report.")

    section("Main text")
    numbered(f"The plan has {figures['All actions']:,} actions. As at {long_date(data.as_at)}:")
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Measure", "Number of actions"
    for label, value in figures.items():
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, f"{value:,}"
    slips = sorted((c for c in data.changes if c.kind == "Date slipped"),
                   key=lambda c: (-c.times_date_moved, c.ref))[:BIGGEST_SLIPS]
    if slips:
        numbered("The timescales that moved this quarter, with the reasons given:")
        for change in slips:
            who = ", ".join(p for p in (change.moved_by, long_date(change.moved_on) if change.moved_on else "") if p)
            para(f"{change.ref} {change.text[:200]}: from {change.before} to {change.after}. Reason: "
                 f"{change.reason or 'no reason recorded'}" + (f" ({who})." if who else "."), style="List Bullet")
    else:
        numbered("No timescale moved this quarter.")
    off = [i for i in data.indicators if i.rag in (Rag.RED, Rag.AMBER)]
    if off:
        numbered("Indicators off target:")
        for indicator in off:
            para(f"{indicator.name}: {indicator.rag_text}.", style="List Bullet")
    elif data.indicators:
        numbered("Every indicator is on target.")
    risk_text: list[str] = []
    for extra in data.sections:
        if extra.report_heading.strip().lower() == RISK_HEADING.lower():
            risk_text.extend(extra.report_text)
            continue
        if extra.report_heading or extra.report_text:
            numbered(f"{extra.report_heading or extra.title}:")
            for text in extra.report_text or extra.summary:
                para(text)

    section(RISK_HEADING)
    if risk_text:
        for text in risk_text:
            numbered(text)
    else:
        numbered("[The officer sets out the risks to delivering the plan, their scores and mitigating actions.]")

    section("Consultations")
    numbered("The Chief Finance Officer and the Clerk were consulted in the preparation of this report.")

    section("Directions")
    numbered("None required: this report does not require a direction to be issued to the council or the "
             "health board.")

    section("Background papers")
    numbered(f"The {data.quarter} progress workbook (.xlsx) and paper (PDF) for the {data.plan_name}.")

    for style_name in ("Normal",):
        document.styles[style_name].font.size = Pt(11)
    props = document.core_properties
    props.title = _clean(title_of(data))[:255]
    props.subject = f"Covering report: {data.plan_name}, {data.quarter}"[:255]
    props.author = "Improvement action tracker"
    props.language = "en-GB"
    props.keywords = f"{data.quarter}; committee report" + ("; DRAFT" if data.draft else "")
    props.created = dt.datetime.combine(data.as_at, dt.time(9, 0))
    props.modified = props.created
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
