"""The two kinds of text the tracker stores, checked the same way behind every door.

`line()` is for names, titles, references and e-mail addresses: one line, trimmed, no control characters
(CR and LF included), with a length limit. `paragraphs()` is for narratives, evidence and notes: line endings
normalised to LF, no control characters but tab and newline. Both refuse lone surrogates, which no database
can store as UTF-8. What passes is stored exactly as returned, so SQLite and PostgreSQL hold the same text and
no e-mail header, CSV or spreadsheet is broken by it.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tracker.errors import RuleError

#: C0 and C1 controls and DEL; lone surrogates; the Unicode line and paragraph separators.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
#: The same, but tab and newline are allowed (CR is normalised away before the check).
_NOT_IN_PARAGRAPHS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

#: The range of an id column on both databases: the id columns are INTEGER, 32 bits on PostgreSQL (SQLite
#: would take 64), so an id beyond 2**31 - 1 names nothing on either and is refused the same way on both.
ID_MIN, ID_MAX = 1, 2**31 - 1
#: The dates a meeting, timescale or indicator period may name.
EARLIEST_DATE, LATEST_DATE = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def _string(value: Any, *, field: str | None, label: str) -> str:
    if not isinstance(value, str):
        raise RuleError(f"{label} must be text.", field)
    return value


def _checked(value: str, forbidden, refusal: str, *, field, label: str, max_length: int,
             required: bool) -> str | None:
    """`value` refused if `forbidden` finds anything in it (before trimming, so nothing is trimmed away
    unseen), then trimmed, checked for emptiness and length."""
    if forbidden.search(value):
        raise RuleError(refusal, field)
    value = value.strip()
    if not value:
        if required:
            raise RuleError(f"Enter {_lower_first(label)}.", field)
        return None
    if len(value) > max_length:
        raise RuleError(f"{label} must be {max_length:,} characters or fewer (it is {len(value):,}).", field)
    return value


def line(value: Any, *, field: str | None = None, label: str = "The text", max_length: int = 300,
         required: bool = False) -> str | None:
    """Single-line text, trimmed; None when empty and not required. Spaces, tabs and line breaks around the
    text are trimmed; any control character (CR and LF included) inside it is refused."""
    value = _string("" if value is None else value, field=field, label=label).strip(" \t\r\n")
    return _checked(value, _NOT_IN_A_LINE, f"{label} must be on one line, without hidden control characters. "
                    "Retype it or paste it as plain text.", field=field, label=label, max_length=max_length,
                    required=required)


def paragraphs(value: Any, *, field: str | None = None, label: str = "The text", max_length: int = 20_000,
               required: bool = False) -> str | None:
    """Multi-line text with LF line endings, trimmed at both ends; None when empty and not required."""
    value = _string("" if value is None else value, field=field, label=label)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _checked(value, _NOT_IN_PARAGRAPHS, f"{label} contains hidden control characters. Retype it or paste "
                    "it as plain text.", field=field, label=label, max_length=max_length, required=required)


def is_clean_line(value: str) -> bool:
    """True when `value` could be stored by `line()` unchanged apart from trimming (for doors that only check)."""
    return not _NOT_IN_A_LINE.search(value)


def record_id(value: Any, *, field: str | None = None, label: str = "The id") -> int:
    """A whole number in the range of the database's id columns."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RuleError(f"{label} must be a whole number.", field)
    if isinstance(value, str):
        value = value.strip(" \t\r\n")
        if not value or len(value) > 19 or not value.isascii() or not value.isdigit():
            raise RuleError(f"{label} must be a whole number.", field)
        value = int(value)
    if not ID_MIN <= value <= ID_MAX:
        raise RuleError(f"{label} does not exist.", field)
    return value


def in_id_range(value: int) -> bool:
    return ID_MIN <= value <= ID_MAX


def date_in_range(value: dt.date | None, *, field: str | None = None, label: str = "The date") -> dt.date | None:
    """A date between 1990 and 2100, the years a partnership's plans can name."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise RuleError(f"{label} must be a date.", field)
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise RuleError(f"{label} must be between 1990 and 2100.", field)
    return value


def parse_id(value: Any) -> int | None:
    """An id from a query string or hidden field: ASCII digits in the id range, else None (never an error)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if in_id_range(value) else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 19 or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if in_id_range(number) else None
