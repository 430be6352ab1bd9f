"""A round as a Word file in the national template's layout, so it can be submitted as before.

The layout follows the MSG self-evaluation template: a front table (partnership, contact, date of
completion), then per key feature a heading and per proposal one table: the proposal, the rating
levels, their indicator descriptors, our rating marked X, the evidence and the proposed improvement
actions. The .docx importer reads the same layout back.
"""
from __future__ import annotations

import io

from docx import Document
from docx.shared import Pt

from tracker.frameworks.models import FrameworkItem
from tracker.frameworks.services import MSG_CODE
from tracker.selfeval.models import Rating, SelfEvaluationRound, split_lines

MSG_HEADING = "Ministerial Strategic Group for Health and Community Care"
MSG_SUBHEADING = "Self-evaluation for the Review of Progress with Integration of Health and Social Care"
NOTHING_PROPOSED = "None required"
RATED = "X"


def _set_text(cell, text: str) -> None:
    cell.paragraphs[0].text = text


#: The style id of "List Bullet": set directly, as python-docx's lookup by name is slow (a scan per paragraph).
BULLET_STYLE_ID = "ListBullet"


def _fill_paragraphs(cell, lines: list[str], *, bullets: bool) -> None:
    """One paragraph per line in a cell, as the template writes evidence (bulleted) and actions."""
    first = cell.paragraphs[0]
    for index, line in enumerate(lines):
        paragraph = first if index == 0 else cell.add_paragraph()
        paragraph.text = line
        if bullets:
            paragraph._p.style = BULLET_STYLE_ID


def _front_table(document, round_: SelfEvaluationRound) -> None:
    table = document.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    rows = [
        ("Name of Partnership", round_.partnership.full_name or round_.partnership.name),
        ("Contact name and email address", round_.contact or ""),
        ("Date of completion", round_.completed_on.strftime("%d %B %Y") if round_.completed_on else ""),
    ]
    for row, (label, value) in zip(table.rows, rows):
        _set_text(row.cells[0], label)
        _set_text(row.cells[1], value)


def _proposal_table(document, item: FrameworkItem, rating: Rating | None, levels: list[str], item_label: str) -> None:
    columns = 1 + len(levels)
    table = document.add_table(rows=6 if not item.local_completion else 7, cols=columns)
    table.style = "Table Grid"
    title = table.rows[0].cells[0].merge(table.rows[0].cells[-1])
    run = title.paragraphs[0].add_run(f"{item_label} {item.number}")
    run.add_break()
    run.add_text(item.title)

    cells = table.rows[1].cells
    _set_text(cells[0], "Rating")
    for cell, level in zip(cells[1:], levels):
        _set_text(cell, level)

    cells = table.rows[2].cells
    _set_text(cells[0], "Indicator")
    descriptors = list(item.descriptors) + [""] * len(levels)
    for cell, descriptor in zip(cells[1:], descriptors):
        _set_text(cell, descriptor)

    cells = table.rows[3].cells
    _set_text(cells[0], "Our Rating")
    if item.local_completion and rating is not None and rating.level is not None:
        _set_text(cells[1 + rating.level], RATED)

    evidence_row, actions_row = table.rows[4], table.rows[5]
    _set_text(evidence_row.cells[0], "Evidence / Notes")
    evidence = evidence_row.cells[1].merge(evidence_row.cells[-1])
    _set_text(actions_row.cells[0], "Proposed improvement actions")
    actions = actions_row.cells[1].merge(actions_row.cells[-1])
    if not item.local_completion:
        _set_text(evidence, item.note or "NOT FOR LOCAL COMPLETION")
        _set_text(actions, NOTHING_PROPOSED)
        return
    _fill_paragraphs(evidence, rating.evidence_paragraphs if rating else [], bullets=True)
    proposed = split_lines(rating.proposed_actions) if rating else []
    if not proposed:
        _set_text(actions, NOTHING_PROPOSED)
    else:
        _fill_paragraphs(actions, proposed, bullets=len(proposed) > 1)


def export_round(round_: SelfEvaluationRound) -> bytes:
    """The round as .docx bytes."""
    framework = round_.framework
    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = round_.title
    document.core_properties.subject = framework.name
    document.core_properties.author = round_.partnership.full_name or round_.partnership.name
    is_msg = framework.code == MSG_CODE
    document.add_heading(MSG_HEADING if is_msg else framework.name, level=1)
    document.add_paragraph(MSG_SUBHEADING if is_msg else round_.title)
    _front_table(document, round_)

    ratings = {r.item_id: r for r in round_.ratings}
    theme_label = framework.theme_label.title()
    for theme in framework.themes:
        document.add_heading(f"{theme_label} {theme.number} {theme.title}", level=2)
        for item in theme.items:
            _proposal_table(document, item, ratings.get(item.id), framework.levels, framework.item_label)
            document.add_paragraph()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
