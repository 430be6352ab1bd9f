"""Read a self-evaluation return in the national MSG template (.docx); no database.

`parse(file)` gives one row per proposal:
    {number, title, rating (level label or None), rating_suggested (from the evidence text or None),
     evidence (list[str]), actions (list[str]), not_for_local_completion (bool)}
plus the problems found, the partnership and the date of completion from the front table.

Real returns vary, and this copes: the proposal's number and title may be the table's first row, a paragraph
above the table ("Proposal 3.4: ...") or split over two rows; "Indicator 4.2" may stand for "Proposal 4.2";
the mark under a level may be X, x, a look-alike from another alphabet or a tick; bullets may be list
paragraphs, plain paragraphs, or bullet characters inside one paragraph; a bullet broken over two
paragraphs (the second starting in lower case) is joined again.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from tracker.imports.problems import ERROR, WARNING, Problem
from tracker.imports.safety import CheckedFile, ImportRefused, Limits, check
from tracker.timescales import interpret

LEVELS = ("Not yet established", "Partly established", "Established", "Exemplary")
#: X in Latin, Cyrillic and Greek, and the usual ticks and crosses.
MARKS = set("XxХхΧχ✓✔√✗✘☒☑×")
NONE_REQUIRED = re.compile(r"^(none( required| identified| at this time| proposed)?|n/?a|no (further )?actions?"
                           r"( required| proposed)?|nil)\.?$", re.I)
NOT_FOR_LOCAL = re.compile(r"not\s+for\s+local\s+completion", re.I)
HEADING = re.compile(r"^\s*(?:proposal|indicator)\s+(\d{1,2}\s*\.\s*\d{1,2})\s*[:.\-–—]?\s*(.*)$", re.I | re.S)
BULLET_SPLIT = re.compile(r"\s*[•◦▪●■▸►‣⁃]\s*")
LEADING_BULLET = re.compile(r"^\s*(?:[•◦▪●■▸►‣⁃·\-–—*]|\(?[0-9a-z]{1,2}[.)])\s+", re.I)
QUOTE = "['\"‘’“”]?"
SUGGESTED = re.compile(rf"rating\s+of\s+{QUOTE}(" + "|".join(LEVELS) +
                       rf"){QUOTE}\s+(?:was|has been|is)\s+(?:agreed|proposed|given)", re.I)


@dataclass
class ParsedSelfEvaluation:
    rows: list[dict]
    problems: list[Problem]
    partnership: str | None = None
    completed_on: dt.date | None = None
    contact: str | None = None
    levels: tuple[str, ...] = field(default=LEVELS)
    kind: str = "docx"

    def to_dict(self) -> dict:
        return {"rows": self.rows, "problems": [p.to_dict() for p in self.problems], "partnership": self.partnership,
                "completed_on": self.completed_on.isoformat() if self.completed_on else None,
                "contact": self.contact, "levels": list(self.levels), "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict) -> ParsedSelfEvaluation:
        completed = data.get("completed_on")
        return cls(rows=data["rows"], problems=[Problem.from_dict(p) for p in data["problems"]],
                   partnership=data.get("partnership"), contact=data.get("contact"),
                   completed_on=dt.date.fromisoformat(completed) if completed else None,
                   levels=tuple(data.get("levels", LEVELS)))


def parse(file, *, limits: Limits | None = None,
          progress: Callable[[int], None] | None = None) -> ParsedSelfEvaluation:
    """Read a .docx self-evaluation return; refuses unsafe files with ImportRefused."""
    checked = file if isinstance(file, CheckedFile) else check(file, limits, expect="docx")
    try:
        document = docx.Document(io.BytesIO(checked.data))
    except Exception:  # python-docx raises many kinds on a damaged package
        raise ImportRefused("The document is damaged: Word's parts could not be read.") from None
    return _Reader(document, progress).read()


class _Reader:
    def __init__(self, document, progress):
        self.document = document
        self.progress = progress
        self.result = ParsedSelfEvaluation(rows=[], problems=[])
        self.pending_heading: tuple[str, str] | None = None

    def read(self) -> ParsedSelfEvaluation:
        body = self.document.element.body
        for element in body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                self._paragraph(Paragraph(element, self.document))
            elif tag == "tbl":
                self._table(Table(element, self.document))
        if self.progress:
            self.progress(len(self.result.rows))
        if not self.result.rows:
            self.result.problems.append(Problem(
                "No proposal tables were found. Is this a self-evaluation in the national template?", ERROR))
        return self.result

    def _paragraph(self, paragraph: Paragraph) -> None:
        match = HEADING.match(paragraph.text.strip())
        if match:
            self.pending_heading = (_number(match[1]), _clean(match[2]))

    def _table(self, table: Table) -> None:
        rows = [_unique_cells(row) for row in table.rows]
        labels = [_label(cells[0].text) if cells else "" for cells in rows]
        if "rating" not in labels and "our rating" not in labels:
            self._front_table(rows)
            return
        self._proposal(rows, labels)

    def _front_table(self, rows) -> None:
        for cells in rows:
            if len(cells) < 2:
                continue
            label, value = _clean(cells[0].text).lower(), _clean(cells[1].text)
            if not value:
                continue
            if "partnership" in label:
                self.result.partnership = value
            elif "contact" in label:
                self.result.contact = value
            elif "date" in label:
                self.result.completed_on = _date(value)
                if self.result.completed_on is None:
                    self.result.problems.append(Problem(
                        f"The date of completion '{value}' could not be read as a date.", WARNING,
                        sheet="Front table", cell="Date of completion"))

    def _proposal(self, rows, labels) -> None:
        first_labelled = next(i for i, label in enumerate(labels) if label in ("rating", "our rating", "indicator"))
        heading_text = "\n".join(_row_text(cells) for cells in rows[:first_labelled])
        number, title = None, ""
        match = HEADING.match(heading_text.strip())
        if match:
            number, title = _number(match[1]), _clean(match[2])
        elif self.pending_heading:
            number, title = self.pending_heading
            title = title or _clean(heading_text)
        self.pending_heading = None
        where = f"Proposal {number}" if number else f"Table {len(self.result.rows) + 2}"
        if number is None:
            self.result.problems.append(Problem(
                "A rating table has no proposal number above it or in its first row; it was skipped.", ERROR,
                sheet=where))
            return
        if any(row["number"] == number for row in self.result.rows):
            self.result.problems.append(Problem(f"Proposal {number} appears twice; the second was skipped.",
                                                ERROR, sheet=where))
            return
        by_label = {}
        for label, cells in zip(labels, rows):
            if label and label not in by_label:
                by_label[label] = cells
        whole_text = "\n".join(_row_text(cells) for cells in rows)
        not_local = bool(NOT_FOR_LOCAL.search(whole_text))
        evidence = [line for line in _items(_section(by_label, "evidence")) if not NOT_FOR_LOCAL.search(line)]
        actions = [line for line in _items(_section(by_label, "action")) if not NONE_REQUIRED.match(line)]
        actions = [line for line in actions if not NOT_FOR_LOCAL.search(line)]
        rating = self._rating(by_label, where, not_local)
        suggested = next((m[1] for m in map(SUGGESTED.search, evidence) if m), None)
        suggested = _level(suggested) if suggested else None
        if rating is None and not not_local:
            message = "No level is marked under Our Rating."
            if suggested:
                message += f" The evidence says '{suggested}' was agreed; that is offered instead."
            self.result.problems.append(Problem(message, WARNING, sheet=where, cell="Our Rating"))
        self.result.rows.append({
            "number": number,
            "title": title,
            "rating": rating,
            "rating_suggested": suggested,
            "evidence": evidence,
            "actions": actions,
            "not_for_local_completion": not_local,
        })

    def _rating(self, by_label, where, not_local) -> str | None:
        marks = by_label.get("our rating")
        if not marks:
            if not not_local:
                self.result.problems.append(Problem("The table has no Our Rating row.", WARNING, sheet=where))
            return None
        level_cells = by_label.get("rating")
        levels = [_level(c.text) for c in level_cells[1:]] if level_cells else list(LEVELS)
        marked = [i for i, cell in enumerate(marks[1:]) if _is_mark(cell.text)]
        unreadable = [cell.text.strip() for cell in marks[1:] if cell.text.strip() and not _is_mark(cell.text)]
        if unreadable:
            self.result.problems.append(Problem(
                f"Our Rating holds '{unreadable[0][:40]}', which is not a mark (use X or a tick).", WARNING,
                sheet=where, cell="Our Rating"))
        if len(marked) > 1:
            self.result.problems.append(Problem("More than one level is marked; none was taken.", WARNING,
                                                sheet=where, cell="Our Rating"))
            return None
        if not marked:
            return None
        index = marked[0]
        level = levels[index] if index < len(levels) else None
        if level is None:
            self.result.problems.append(Problem("The mark is not under a known level.", WARNING, sheet=where,
                                                cell="Our Rating"))
        return level


def _unique_cells(row):
    """A row's cells once each: python-docx repeats a cell for every grid column it spans."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _row_text(cells) -> str:
    return "\n".join(c.text for c in cells if c.text.strip())


def _label(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip().lower().rstrip(":"))
    if text.startswith("our rating"):
        return "our rating"
    if text.startswith("rating"):
        return "rating"
    if text == "indicator" or text == "indicators":
        return "indicator"
    if text.startswith("evidence"):
        return "evidence"
    if "action" in text:
        return "action"
    return ""


def _section(by_label, label) -> list[str]:
    cells = by_label.get(label)
    if not cells:
        return []
    return [p.text for cell in cells[1:] for p in cell.paragraphs]


def _items(paragraphs: list[str]) -> list[str]:
    """Bulleted lines as a list: bullets inside a paragraph split it, broken bullets are joined."""
    pieces: list[str] = []
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            pieces.extend(BULLET_SPLIT.split(line))
    items: list[str] = []
    for piece in pieces:
        text = _clean(LEADING_BULLET.sub("", piece))
        if not text:
            continue
        if items and text[0].islower() and not items[-1].endswith((".", "!", "?", ":")):
            items[-1] = f"{items[-1]} {text}"
        else:
            items.append(text)
    return items


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text.replace("\n", " ")).strip()


def _number(text: str) -> str:
    major, minor = re.split(r"\s*\.\s*", text.strip())
    return f"{int(major)}.{int(minor)}"


def _level(text: str | None) -> str | None:
    key = re.sub(r"\s+", " ", (text or "").strip().lower())
    return next((level for level in LEVELS if level.lower() == key), None)


def _is_mark(text: str) -> bool:
    text = text.strip()
    return len(text) == 1 and text in MARKS


def _date(text: str) -> dt.date | None:
    timescale = interpret(text)
    if timescale.start and timescale.start == timescale.end:
        return timescale.start
    return None
