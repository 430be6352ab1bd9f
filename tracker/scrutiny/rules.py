"""The pure rules of audit recommendations: grade schemes, status, revisions. No request, no database."""
from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence

from tracker.errors import RuleError
from tracker.rag import Status

#: The schemes every partnership starts with; a partnership may add its own.
DEFAULT_SCHEMES: dict[str, tuple[str, ...]] = {
    "Priority 1-3": ("Priority 1", "Priority 2", "Priority 3"),
    "High / medium / low": ("High", "Medium", "Low"),
}
GRADE_MAX = 60
GRADES_MAX = 10


class RecStatus(enum.StrEnum):
    OPEN = "open"
    AWAITING = "awaiting_verification"
    VERIFIED = "verified"

    @property
    def label(self) -> str:
        return {"open": "Open", "awaiting_verification": "Closed by management, awaiting verification",
                "verified": "Verified by audit"}[self.value]

    @property
    def short(self) -> str:
        return {"open": "Open", "awaiting_verification": "Awaiting verification",
                "verified": "Verified"}[self.value]


def parse_grades(text: str | Sequence[str]) -> tuple[str, ...]:
    """A scheme's grades, most serious first, from "High, Medium, Low" (or one a line, or a list)."""
    parts = re.split(r"[,;\n]", text) if isinstance(text, str) else list(text)
    grades = tuple(p.strip() for p in parts if p and p.strip())
    if not 2 <= len(grades) <= GRADES_MAX:
        raise RuleError(f"A grade scheme needs between 2 and {GRADES_MAX} grades, most serious first.", "grades")
    if len({g.casefold() for g in grades}) != len(grades):
        raise RuleError("Each grade of a scheme must be different.", "grades")
    for grade in grades:
        if len(grade) > GRADE_MAX or re.search(r"[\x00-\x1f\x7f-\x9f]", grade):
            raise RuleError(f"Grades must be short plain text ({GRADE_MAX} characters or fewer).", "grades")
    return grades


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def match_grade(grades: Sequence[str], text: str | int | None) -> int | None:
    """The index of the grade `text` names ("Priority 1", "P1", "1", "high", "H"), or None when it names none.

    A bare number is the grade's position (1 is the most serious); a letter is a grade's initial when only one
    grade starts with it."""
    if text is None:
        return None
    key = _key(str(text))
    if not key:
        return None
    keys = [_key(g) for g in grades]
    if key in keys:
        return keys.index(key)
    digits = re.fullmatch(r"(?:p|priority|grade)?(\d{1,2})", key)
    if digits:
        number = int(digits[1])
        for index, grade in enumerate(keys):
            if re.fullmatch(rf"\D*{number}", grade):
                return index
        return number - 1 if 1 <= number <= len(grades) else None
    initials = [i for i, g in enumerate(keys) if g.startswith(key)]
    return initials[0] if len(initials) == 1 else None


def status(action_statuses: Iterable[Status], verified: bool) -> RecStatus:
    """Open while any implementing action is open (or none is linked); once every action is closed by management
    (complete or superseded, one at least complete) it awaits verification until an auditor verifies it."""
    statuses = [Status(s) for s in action_statuses]
    if not statuses or any(s.is_open for s in statuses) or Status.COMPLETE not in statuses:
        return RecStatus.OPEN
    return RecStatus.VERIFIED if verified else RecStatus.AWAITING


def revisions_label(count: int) -> str:
    if count == 0:
        return "Not revised"
    return "Revised once" if count == 1 else ("Revised twice" if count == 2 else f"Revised {count} times")


def is_overdue(rec_status: RecStatus, current_date: dt.date | None, as_at: dt.date) -> bool:
    return rec_status is RecStatus.OPEN and current_date is not None and current_date < as_at
