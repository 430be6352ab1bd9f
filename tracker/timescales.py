"""Interpret the free-text "timescale" column of an improvement action plan.

``interpret(value)`` turns what people actually write ("Autumn 2022",
"Q3 2023/24", "By end of Sept 24", "Ongoing", "TBC" ...) into a
:class:`Timescale`: the text as written, the window of dates it names
(``start``..``end``; the action is due by ``end``), a ``kind`` and, where the
words imply one, a ``status_hint``.

Kinds
-----
``"dated"``
    The text names a window; ``start`` and ``end`` are both set and
    ``start <= end``.
``"ongoing"``
    Continuous or open-ended work with no due date ("Ongoing", "Annually",
    "In development", "From April 2024").  ``end`` is None; ``start`` is set
    only when the text gives one ("From April 2024", "April 2024 onwards").
``"unknown"``
    Nothing usable: blank, "TBC", "N/A", impossible dates ("31/02/2024"),
    ambiguous or unrecognised phrases.  Ambiguous text is never guessed.

Conventions and documented choices
----------------------------------
* UK conventions throughout: numeric dates are **day first** ("31/03/2024",
  "31.3.24"); the financial year runs 1 April - 31 March; seasons are
  meteorological: spring Mar-May, summer Jun-Aug, autumn Sep-Nov, winter
  Dec-Feb.  "Winter 2022" and "Winter 2022/23" both mean Dec 2022 - Feb 2023.
  In a financial-year form, summer and autumn fall in the first year;
  "Spring 2022/23" is ambiguous and so unknown.
* Two-digit years always mean 20YY ("Mar 23" = March 2023).
* Single words the window does not depend on are ignored: "by", "before",
  "end of", "end", "no later than", "due", "deadline", "target", "w/c",
  "week commencing", "revised to", "approx" and the like.  "By end of
  December 2023" is therefore the window December 2023 (due 31 Dec 2023),
  and "before March 2024" is treated like "by March 2024" (due 31 Mar).
  Trailing punctuation, brackets and "at the latest", "(revised)", "TBC"
  after a date are ignored ("March 2024 TBC" is March 2024).
* "Q1 2024" (a quarter with a single calendar year) is the **calendar**
  quarter Jan-Mar 2024; "Q1 2024/25" (a financial year) is Apr-Jun 2024.
  Likewise "H1 2024" is Jan-Jun 2024 and "H1 2024/25" is Apr-Sep 2024.
* Year pairs: "2022/23", "2024-25", "2022-2023", "2022/2023", "FY 2023/24"
  are financial years.  A two-digit pair further apart ("2023-25") spans
  financial years: 1 Apr 2023 - 31 Mar 2025 (the biennial label used by
  :mod:`tracker.periods`).  A four-digit pair further apart ("2023-2025"),
  or two years joined by a word ("2023 to 2025", even "2022 to 2023"), spans
  calendar years: 1 Jan 2023 - 31 Dec 2025.  A bare
  two-digit pair ("23/24") is a financial year only when it cannot be read
  as a day/month (so "11/12" is unknown, "23/24" is 2023/24).
  "FY2024" alone is ambiguous and unknown.
* "2023" is the calendar year.  "early 2024" = Jan-Apr, "mid 2024" = May-Aug,
  "late 2024" = Sep-Dec ("beginning of"/"start of" = early).  Within a month,
  "early March 2024" = 1-10, "mid" = 11-20, "late" = 21-end.
* Ranges "April 2023 - March 2024", "Jan-Mar 2024", "between X and Y",
  "from X to Y" run from the start of the first part to the end of the
  second; a yearless first part takes its year from the second part.
* "From April 2024" / "April 2024 onwards" is ``ongoing`` with that start.
* Excel cells: a ``datetime``/``date`` is that day (``text`` is its ISO
  form).  Numbers are not Excel serials to be guessed: an int or integral
  float between 1900 and 2099 is that calendar year, anything else unknown.
* Relative phrases ("next month", "this financial year", "within 6 months",
  "immediately", or a yearless "by March") are resolved against the
  ``today=`` argument, which should be the date the plan was written or
  approved.  Without ``today`` they are unknown: this module never reads the
  clock, so a 2022 plan's "within 6 months" is not silently moved to now.
  A yearless month or season means the next one ending on or after today.

Status hints (the tracker's status codes)
-----------------------------------------
* ``"ongoing"``: "Ongoing ...", "Annually", "Continuous", "Business as usual".
* ``"on_track"``: "In development", "Development work", "Development
  activity", "Development/improvement activity", "In progress", "Underway";
  also "On track"/"On target" (kind ``unknown`` unless a date follows).
  These say work is under way but give no end date, so their kind is
  ``ongoing``; "on_track" (work in progress) rather than "ongoing" keeps
  them distinguishable from business-as-usual.  Trailing words that are
  not a date are ignored, so "Development work/ Scottish Government funding
  2022" is ongoing/on_track: the year is the funding year, not a deadline.
* ``"complete"``: "Complete", "Completed", "Achieved", "Done" (but not
  "complete by ...", which is a target).
* ``"not_started"``: "Not started", "Not yet started", "Yet to start".
* ``"at_risk"``: "Delayed", "At risk", "Behind schedule", "Slipped".
* ``"superseded"``: "Superseded", "No longer required", "Withdrawn".

A status word followed by a date ("Completed - March 2023", "Ongoing until
March 2025", "Delayed - revised to June 2024") gives a ``dated`` result with
the hint.  Otherwise status-only words without a timescale (complete,
not started, at risk, superseded) are kind ``unknown``.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import numbers
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from .periods import FinancialQuarter

__all__ = [
    "DATED",
    "ONGOING",
    "UNKNOWN",
    "KINDS",
    "STATUS_CODES",
    "Timescale",
    "due_date",
    "interpret",
]

DATED = "dated"
ONGOING = "ongoing"
UNKNOWN = "unknown"
KINDS = (DATED, ONGOING, UNKNOWN)
STATUS_CODES = ("not_started", "on_track", "at_risk", "complete", "ongoing", "superseded")

date = _dt.date
Window = tuple[_dt.date, _dt.date]


@dataclass(frozen=True, slots=True)
class Timescale:
    """An interpreted timescale.  See the module docstring."""

    text: str
    start: _dt.date | None = None
    end: _dt.date | None = None
    kind: str = UNKNOWN
    status_hint: str | None = None

    @property
    def is_dated(self) -> bool:
        return self.kind == DATED

    @property
    def due(self) -> _dt.date | None:
        """The date the action is due by, or None."""
        return self.end if self.kind == DATED else None


def due_date(ts: Timescale) -> _dt.date | None:
    """``ts.end`` if ``ts`` is dated, else None."""
    return ts.end if ts.kind == DATED else None


# ---------------------------------------------------------------------------
# Date helpers
# ---------------------------------------------------------------------------


class _Invalid(Exception):
    """A pattern matched but names no real date (or is ambiguous)."""


_INVALID = object()  # result of _single() when a pattern matched but failed


def _make_date(y: int, m: int, d: int) -> _dt.date:
    try:
        return date(y, m, d)
    except ValueError:
        raise _Invalid from None


def _month_end(y: int, m: int) -> _dt.date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _shift_month(y: int, m: int, n: int) -> tuple[int, int]:
    index = y * 12 + m - 1 + n
    return index // 12, index % 12 + 1


def _months(y: int, m: int, count: int = 1) -> Window:
    """``count`` whole months starting with month ``m`` of year ``y``."""
    if not 1900 <= y <= 2099 or not 1 <= m <= 12:
        raise _Invalid
    ey, em = _shift_month(y, m, count - 1)
    return date(y, m, 1), _month_end(ey, em)


def _year(text: str) -> int:
    """A written year: 4 digits (1900-2099) or 2 digits meaning 20YY."""
    text = text.lstrip("'")
    y = int(text) if len(text) == 4 else 2000 + int(text)
    if not 1900 <= y <= 2099:
        raise _Invalid
    return y


def _fy_start(y1: str, y2: str) -> int | None:
    """Start year of the financial year ``y1/y2`` or None if not consecutive."""
    first = _year(y1)
    second = int(y2)
    if len(y2) == 4:
        return first if second == first + 1 else None
    return first if second == (first + 1) % 100 else None


_MONTH_NUMBERS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}


def _month_number(word: str) -> int:
    return _MONTH_NUMBERS[word[:3]]


_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(word: str, y: int) -> Window:
    return _months(y, _SEASON_START[word], 3)


_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "eighteen": 18, "twenty four": 24, "twenty-four": 24,
}


# ---------------------------------------------------------------------------
# Regex building blocks
# ---------------------------------------------------------------------------

_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?P<year>(?:19|20)\d{2}|'?\d{2})"
_YEAR4 = r"(?P<year>\d{4})"
_ORD = r"(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?\s+)?"
_FY_WORD = r"(?:fy|f/y|fin(?:ancial)?\.?\s*y(?:ea)?r)"
# A financial year with a 4-digit first half: 2023/24, 2023-24, 2023/2024.
_FY4 = r"(?P<y1>\d{4})\s*[/\-]\s*(?P<y2>\d{4}|\d{2})"
# Any financial year form, including 23/24.
_FYANY = r"(?P<y1>\d{4}|\d{2})\s*[/\-]\s*(?P<y2>\d{4}|\d{2})"
_QWORD = r"(?:q|qtr|quarter\s*)"
_SEASONS = r"(?P<season>spring|summer|autumn|fall|winter)"
_PART = r"(?P<part>early|mid|late|beginning\s+of|start\s+of)"
_HALF = r"(?:h(?P<h>[12])|(?P<hw>first|1st|second|2nd)\s+half(?:\s+of)?)"


# ---------------------------------------------------------------------------
# Handlers: each takes the match (and today) and returns a window, None to
# let later patterns try, or raises _Invalid.
# ---------------------------------------------------------------------------

Handler = Callable[[re.Match, "_dt.date | None"], "Window | None"]


def _h_ymd(m: re.Match, today) -> Window:
    d = _make_date(int(m["y"]), int(m["m"]), int(m["d"]))
    if not 1900 <= d.year <= 2099:
        raise _Invalid
    return d, d


def _h_dmy_numeric(m: re.Match, today) -> Window:
    d = _make_date(_year(m["y"]), int(m["m"]), int(m["d"]))
    return d, d


def _h_day_month_year(m: re.Match, today) -> Window:
    d = _make_date(_year(m["year"]), _month_number(m["mon"]), int(m["d"]))
    return d, d


def _h_month_year(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), _month_number(m["mon"]))


def _h_numeric_month_year(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), int(m["m"]))


def _h_iso_month(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), int(m["m"]))


def _h_fy4(m: re.Match, today) -> Window | None:
    """2023/24, 2023-2024, FY 2023/24; 2023-25 (FY span); 2023-2025 (calendar span)."""
    first = _year(m["y1"])
    y2 = m["y2"]
    if len(y2) == 4:
        second = _year(y2)
        if second == first + 1:
            return date(first, 4, 1), date(second, 3, 31)
        if second > first + 1 and not m["fy"]:
            return date(first, 1, 1), date(second, 12, 31)
        raise _Invalid
    if _fy_start(m["y1"], y2) is not None:
        return date(first, 4, 1), date(first + 1, 3, 31)
    second = first // 100 * 100 + int(y2)
    if second > first + 1:
        return date(first, 4, 1), date(second, 3, 31)
    if m["fy"] or m["sep"] == "/":
        raise _Invalid
    return None  # maybe an ISO month such as 2024-03


def _h_fy2(m: re.Match, today) -> Window | None:
    """23/24: a financial year only if it cannot be a day/month (or says FY)."""
    fy = _fy_start(m["y1"], m["y2"])
    if fy is None or (not m["fy"] and int(m["y2"]) <= 12):
        raise _Invalid
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def _h_fy_quarter(m: re.Match, today) -> Window:
    fy = _fy_start(m["y1"], m["y2"])
    if fy is None:
        raise _Invalid
    q = FinancialQuarter(fy, int(m["q"]))
    return q.start, q.end


def _h_calendar_quarter(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), 3 * int(m["q"]) - 2, 3)


def _half_number(m: re.Match) -> int:
    if m["h"]:
        return int(m["h"])
    return 1 if m["hw"] in ("first", "1st") else 2


def _h_fy_half(m: re.Match, today) -> Window:
    fy = _fy_start(m["y1"], m["y2"])
    if fy is None:
        raise _Invalid
    return _months(fy, 4 if _half_number(m) == 1 else 10, 6)


def _h_calendar_half(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), 1 if _half_number(m) == 1 else 7, 6)


def _h_season_year(m: re.Match, today) -> Window:
    return _season(m["season"], _year(m["year"]))


def _h_season_fy(m: re.Match, today) -> Window:
    fy = _fy_start(m["y1"], m["y2"])
    if fy is None or m["season"] == "spring":
        raise _Invalid  # spring straddles the financial year boundary
    return _season(m["season"], fy)


def _part_index(word: str) -> int:
    if word in ("early", "mid"):
        return 0 if word == "early" else 1
    if word == "late":
        return 2
    return 0  # beginning of / start of


def _h_part_of_year(m: re.Match, today) -> Window:
    return _months(_year(m["year"]), 1 + 4 * _part_index(m["part"].split()[0]), 4)


def _h_part_of_month(m: re.Match, today) -> Window:
    first, last = _months(_year(m["year"]), _month_number(m["mon"]))
    i = _part_index(m["part"].split()[0])
    if i == 0:
        return first, first.replace(day=10)
    if i == 1:
        return first.replace(day=11), first.replace(day=20)
    return first.replace(day=21), last


def _h_year(m: re.Match, today) -> Window:
    y = _year(m["year"])
    return date(y, 1, 1), date(y, 12, 31)


# -- relative to today -------------------------------------------------------


def _need_today(today) -> _dt.date:
    if today is None:
        raise _Invalid
    return today


def _h_this_month(m: re.Match, today) -> Window:
    t = _need_today(today)
    return _months(t.year, t.month)


def _h_next_month(m: re.Match, today) -> Window:
    t = _need_today(today)
    return _months(*_shift_month(t.year, t.month, 1))


def _h_this_quarter(m: re.Match, today) -> Window:
    q = FinancialQuarter.containing(_need_today(today))
    return q.start, q.end


def _h_next_quarter(m: re.Match, today) -> Window:
    q = FinancialQuarter.containing(_need_today(today)).next()
    return q.start, q.end


def _h_this_fy(m: re.Match, today) -> Window:
    t = _need_today(today)
    fy = t.year if t.month >= 4 else t.year - 1
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def _h_next_fy(m: re.Match, today) -> Window:
    start, end = _h_this_fy(m, today)
    return start.replace(year=start.year + 1), end.replace(year=end.year + 1)


def _h_this_year(m: re.Match, today) -> Window:
    t = _need_today(today)
    return date(t.year, 1, 1), date(t.year, 12, 31)


def _h_next_year(m: re.Match, today) -> Window:
    t = _need_today(today)
    return date(t.year + 1, 1, 1), date(t.year + 1, 12, 31)


def _h_within(m: re.Match, today) -> Window:
    t = _need_today(today)
    raw = m["n"]
    n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = m["unit"]
    if n <= 0 or n > 120:
        raise _Invalid
    if unit.startswith("day"):
        return t, t + _dt.timedelta(days=n)
    if unit.startswith("week"):
        return t, t + _dt.timedelta(weeks=n)
    months = n if unit.startswith("month") else 12 * n
    y, mo = _shift_month(t.year, t.month, months)
    return t, date(y, mo, min(t.day, calendar.monthrange(y, mo)[1]))


def _h_immediately(m: re.Match, today) -> Window:
    t = _need_today(today)
    return t, t


def _next_occurrence(make: Callable[[int], Window], today) -> Window:
    """The first of make(year), for successive years, that ends on/after today
    (years where make() names no real date, e.g. 29 Feb, are skipped)."""
    t = _need_today(today)
    for y in range(t.year - 1, t.year + 5):
        try:
            window = make(y)
        except _Invalid:
            continue
        if window[1] >= t:
            return window
    raise _Invalid  # pragma: no cover - some year ahead always qualifies


_NUM = r"(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty[\s\-]four)"

# Yearless pieces ("31 March", "March", "Autumn"): used on their own
# (relative to today) and as one half of a range ("Jan - Mar 2024").
_YEARLESS_PATTERNS = [
    re.compile(rf"{_WEEKDAY}(?P<d>\d{{1,2}}){_ORD}\s*(?:of\s+)?{_MON}"),
    re.compile(rf"{_WEEKDAY}{_MON}(?:\s*(?P<d>\d{{1,2}}){_ORD})?"),
    re.compile(_SEASONS),
]


def _yearless(s: str) -> Callable[[int], Window] | None:
    """A function year -> window for a yearless phrase, or None.
    Raises _Invalid for a day no month has (e.g. "31 April")."""
    for regex in _YEARLESS_PATTERNS:
        m = regex.fullmatch(s)
        if m is None:
            continue
        groups = m.groupdict()
        season = groups.get("season")
        if season:
            return lambda y: _season(season, y)
        month = _month_number(groups["mon"])
        if groups.get("d"):
            day = int(groups["d"])
            if not 1 <= day <= calendar.monthrange(2024, month)[1]:  # 29 Feb allowed
                raise _Invalid

            def day_window(y: int) -> Window:
                d = _make_date(y, month, day)
                return d, d

            return day_window
        return lambda y: _months(y, month)
    return None


# ---------------------------------------------------------------------------
# The table: (pattern, handler).  Every pattern must match the whole
# normalised phrase.  Order matters only where patterns overlap.
# ---------------------------------------------------------------------------

_TABLE_SOURCE: list[tuple[str, Handler]] = [
    # 2024-03-31, 2024/03/31
    (r"(?P<y>\d{4})[\-/.](?P<m>\d{1,2})[\-/.](?P<d>\d{1,2})", _h_ymd),
    # 31/03/2024, 31.3.24, 31-03-2024 (day first)
    (r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})", _h_dmy_numeric),
    # 31st March 2024, 1 April 2024, 1-Apr-24, Friday 31 March 2024
    (rf"{_WEEKDAY}(?P<d>\d{{1,2}}){_ORD}[\s\-/]*(?:of\s+)?{_MON}[\s\-/]*{_YEAR}", _h_day_month_year),
    # March 31st 2024, March 31 2024 (month named, so unambiguous)
    (rf"{_WEEKDAY}{_MON}\s*(?P<d>\d{{1,2}}){_ORD}\s+(?P<year>\d{{4}})", _h_day_month_year),
    # March 2023, Mar 23, Sept 2024, Mar-24, march of 2024
    (rf"{_MON}[\s\-/]*(?:of\s+)?{_YEAR}", _h_month_year),
    # 03/2024
    (r"(?P<m>\d{1,2})\s*[/.\-]\s*(?P<year>\d{4})", _h_numeric_month_year),
    # Q3 2023/24, quarter 3 of 2023-24, Q3 FY23/24
    (rf"{_QWORD}(?P<q>[1-4])\s*(?:of\s+)?(?:{_FY_WORD}\s*)?{_FYANY}", _h_fy_quarter),
    (rf"(?P<q>[1-4]){_ORD}\s+quarter\s+(?:of\s+)?(?:{_FY_WORD}\s*)?{_FYANY}", _h_fy_quarter),
    # 2023/24 Q3
    (rf"(?:{_FY_WORD}\s*)?{_FYANY}\s*{_QWORD}(?P<q>[1-4])", _h_fy_quarter),
    # Q1 2024 (calendar quarter), 2024 Q1
    (rf"{_QWORD}(?P<q>[1-4])\s*(?:of\s+)?(?:cy\s*|calendar\s+year\s+)?{_YEAR}", _h_calendar_quarter),
    (rf"(?P<q>[1-4]){_ORD}\s+quarter\s+(?:of\s+)?{_YEAR4}", _h_calendar_quarter),
    (rf"{_YEAR4}\s*{_QWORD}(?P<q>[1-4])", _h_calendar_quarter),
    # H1 2024/25 (financial), H1 2024 (calendar), first half of 2024
    (rf"{_HALF}\s*(?:{_FY_WORD}\s*)?{_FYANY}", _h_fy_half),
    (rf"{_HALF}\s*{_YEAR4}", _h_calendar_half),
    # Autumn 2022, Winter 2022/23
    (rf"{_SEASONS}\s*(?:of\s+)?{_YEAR}", _h_season_year),
    (rf"{_SEASONS}\s*(?:of\s+)?{_FYANY}", _h_season_fy),
    # early/mid/late March 2024, early 2024
    (rf"{_PART}[\s\-]*(?:of\s+)?{_MON}\s*{_YEAR}", _h_part_of_month),
    (rf"{_PART}[\s\-]*(?:of\s+)?{_YEAR4}", _h_part_of_year),
    # 2022/23, 2024-25, 2022-2023, FY 2023/24, 2023-25, 2023-2025
    (rf"(?:(?P<fy>{_FY_WORD})\s*)?(?P<y1>\d{{4}})\s*(?P<sep>[/\-])\s*(?P<y2>\d{{4}}|\d{{2}})", _h_fy4),
    # 2024-03 (ISO month)
    (r"(?P<year>\d{4})-(?P<m>\d{2})", _h_iso_month),
    # 23/24, FY 23-24
    (rf"(?:(?P<fy>{_FY_WORD})\s*)?(?P<y1>\d{{2}})\s*[/\-]\s*(?P<y2>\d{{2}})", _h_fy2),
    # 2023, calendar year 2023
    (rf"(?:cy\s*|calendar\s+year\s+)?{_YEAR4}", _h_year),
    # -- relative to today= ---------------------------------------------------
    (r"(?:(?:this|current|the)\s+)?month|month[\s\-]end", _h_this_month),
    (r"next\s+month", _h_next_month),
    (r"(?:(?:this|current|the)\s+)?quarter|quarter[\s\-]end", _h_this_quarter),
    (r"next\s+quarter", _h_next_quarter),
    (rf"(?:(?:this|current|the)\s+)?(?:{_FY_WORD}|financial\s+year)(?:[\s\-]end)?|fye", _h_this_fy),
    (rf"next\s+(?:{_FY_WORD}|financial\s+year)", _h_next_fy),
    (r"(?:(?:this|current|the)\s+)?(?:calendar\s+)?year", _h_this_year),
    (r"next\s+(?:calendar\s+)?year", _h_next_year),
    (rf"(?:the\s+)?(?:next\s+)?{_NUM}\s*(?P<unit>days?|weeks?|months?|years?|yrs?)(?:'s?)?(?:\s+time)?", _h_within),
    (r"immediate(?:ly)?|with\s+immediate\s+effect", _h_immediately),
]

_TABLE: list[tuple[re.Pattern, Handler]] = [
    (re.compile(pattern), handler) for pattern, handler in _TABLE_SOURCE
]


def _table_match(s: str, today) -> Window | None | object:
    """Match the table.  Returns a window, None if no pattern matched, or
    _INVALID if a pattern matched but names no usable date."""
    try:
        for regex, handler in _TABLE:
            m = regex.fullmatch(s)
            if m is not None:
                window = handler(m, today)
                if window is not None:
                    return window
    except _Invalid:
        return _INVALID
    return None


def _single(s: str, today) -> Window | None | object:
    """One date phrase (no range): the table, then yearless phrases resolved
    against today.  Same results as _table_match."""
    found = _table_match(s, today)
    if found is not None:
        return found
    try:
        make = _yearless(s)
        if make is not None:
            return _next_occurrence(make, today)
    except _Invalid:
        return _INVALID
    return None


# ---------------------------------------------------------------------------
# Normalising and filler words
# ---------------------------------------------------------------------------

_TRANSLATE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u00a0": " ",
    "(": " ", ")": " ", "[": " ", "]": " ", ",": " ", "\t": " ", "\n": " ", "\r": " ",
})
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\s\-*\u2022.;:!?/]+|[\s\-*\u2022.;:!?/]+$")

_LEAD_FILLER = re.compile(
    r"""(?:(?:
        by\s+the\s+end\s+of|by\s+end\s+of|by\s+end|at\s+the\s+end\s+of|at\s+end\s+of
      | the\s+end\s+of|end\s+of|end|by|before|no\s+later\s+than|not\s+later\s+than|nlt
      | until|till|up\s+to|due\s+date|due|deadline|target\s+date|target|timescales?
      | date|(?:to\s+be\s+)?completed?\s+(?:by|before|within|in|on|during)
      | to\s+be\s+completed|completion\s+date|completion\s+by|completion
      | revised\s+(?:date|timescale|target)|revised\s+to|revised|now|new\s+date
      | w/c|w\.c\.|wc|w/b|wb|week\s+commencing|week\s+beginning|between
      | approx\.?|approximately|circa|c\.|around|about
      | within|in|during|throughout|on|for|of|the|over|across|at
    )(?![a-z])[\s:\-]*)+""",
    re.VERBOSE,
)
_TRAIL_FILLER = re.compile(
    r"(?:[\s\-:]*(?:at\s+the\s+latest|at\s+latest|latest|or\s+earlier|or\s+sooner"
    r"|or\s+before|deadline|target|approx\.?|approximately|provisional|tbc|estimated?|revised))+$"
)

_FROM = re.compile(
    r"(?:from|since|start(?:s|ed|ing)?(?:\s+(?:from|in|on))?|commenc(?:ed|ing)(?:\s+(?:from|in|on))?)\s+"
)
_ONWARDS = re.compile(r"(?P<what>.+?)[\s\-]*(?:(?P<onwards>onwards?|and\s+beyond)|(?:and\s+)?ongoing)")
_RANGE_SEP = re.compile(r"\s*(?:-|&|/|\b(?:to|until|till|through|thru|and)\b)\s*")


def _normalise(text: str) -> str:
    s = text.lower().translate(_TRANSLATE)
    s = _SPACES.sub(" ", s)
    return _EDGE_PUNCT.sub("", s)


def _strip_fillers(s: str) -> str:
    m = _LEAD_FILLER.match(s)
    if m:
        s = s[m.end():]
    m = _TRAIL_FILLER.search(s)
    if m and m.start() > 0:
        s = s[: m.start()]
    return s.strip(" -:/")


def _side(s: str, today) -> tuple[Window | None, Callable[[int], Window] | None]:
    """Parse one side of a range: a window, or a yearless maker."""
    s = _strip_fillers(s)
    if not s:
        return None, None
    window = _table_match(s, today)
    if isinstance(window, tuple):
        return window, None
    if window is None:
        try:
            return None, _yearless(s)
        except _Invalid:
            pass
    return None, None


def _range(s: str, today) -> Window | None:
    for sep in _RANGE_SEP.finditer(s):
        left_text, right_text = s[: sep.start()], s[sep.end():]
        if not left_text or not right_text:
            continue
        left, left_yl = _side(left_text, today)
        if left is None and left_yl is None:
            continue
        right, right_yl = _side(right_text, today)
        try:
            if left is not None and right is not None:
                window = left[0], right[1]
            elif right is not None and left_yl is not None:
                make = left_yl
                y = right[0].year
                first = make(y)
                if first[0] > right[0]:
                    first = make(y - 1)
                window = first[0], right[1]
            elif left is not None and right_yl is not None:
                make = right_yl
                y = left[1].year
                last = make(y)
                if last[1] < left[1]:
                    last = make(y + 1)
                window = left[0], last[1]
            else:
                continue
        except _Invalid:
            continue
        if window[0] <= window[1]:
            return window
    return None


def _window(s: str, today) -> tuple[str, Window | tuple[_dt.date, None]] | None:
    """Kind and dates for a phrase with no status words, or None."""
    s = _strip_fillers(s)
    if not s:
        return None
    single = _single(s, today)
    if isinstance(single, tuple):
        return DATED, single
    if single is _INVALID:
        return None
    m = _FROM.match(s)
    if m:
        rest = s[m.end():]
        window = _range(rest, today)
        if window is not None:
            return DATED, window
        start = _single(_strip_fillers(rest), today)
        if isinstance(start, tuple):
            return ONGOING, (start[0], None)
        return None
    m = _ONWARDS.fullmatch(s)
    if m:
        start = _single(_strip_fillers(m["what"]), today)
        if isinstance(start, tuple):
            return ONGOING, (start[0], None)
        return None
    window = _range(s, today)
    if window is not None:
        return DATED, window
    return None


# ---------------------------------------------------------------------------
# Status words
# ---------------------------------------------------------------------------

_NOT_A_TARGET = r"(?!\s+(?:by|before|within|no\s+later|not\s+later|until|during|in|on)\b)"
_STATUS_TABLE_SOURCE: list[tuple[str, str, str]] = [
    # (pattern at the start of the text, status hint, kind when no date follows)
    (r"ongoing|on-going|on\s+going", "ongoing", ONGOING),
    (r"(?:in\s+)?development(?:\s*(?:/|and|&)\s*improvement)?(?:\s+(?:work|activity|activities|phase|stage|underway))?",
     "on_track", ONGOING),
    (r"in\s+progress|under\s*way|work\s+underway|progressing", "on_track", ONGOING),
    (r"annual(?:ly)?|yearly|quarterly|monthly|weekly|bi-?annual(?:ly)?|every\s+(?:year|quarter|month|week)"
     r"|continuous(?:ly)?|continual|business\s+as\s+usual|bau|rolling(?:\s+programme)?|recurring|regular(?:ly)?",
     "ongoing", ONGOING),
    (r"completed(?!\s+(?:by|before|within|no\s+later|not\s+later|until)\b)", "complete", UNKNOWN),
    (rf"(?:complete|achieved|done|closed\s*-?\s*complete){_NOT_A_TARGET}", "complete", UNKNOWN),
    (r"not\s+(?:yet\s+)?(?:started|commenced|begun)|yet\s+to\s+(?:start|commence|begin)", "not_started", UNKNOWN),
    (r"on\s+(?:track|target|schedule)", "on_track", UNKNOWN),
    (r"delayed|at\s+risk|behind\s+schedule|slipped|slippage|overdue", "at_risk", UNKNOWN),
    (r"superseded|no\s+longer\s+(?:required|needed|applicable|relevant)|withdrawn", "superseded", UNKNOWN),
]
_STATUS_TABLE = [
    (re.compile(rf"(?:{pattern})(?![a-z])"), hint, kind)
    for pattern, hint, kind in _STATUS_TABLE_SOURCE
]
_REMAINDER_LEAD = re.compile(
    r"[\s\-:/;.]*(?:(?:until|till|to|through|thru|throughout|during|in|into|due|but|and|by)(?![a-z])[\s\-:/]*)*"
)


def _classify(s: str, today) -> tuple[str, _dt.date | None, _dt.date | None, str | None]:
    for regex, hint, kind in _STATUS_TABLE:
        m = regex.match(s)
        if m is None:
            continue
        rest = s[m.end():]
        rest = rest[_REMAINDER_LEAD.match(rest).end():]
        if rest:
            found = _window(rest, today)
            if found is not None:
                found_kind, (start, end) = found
                return found_kind, start, end, hint
        return kind, None, None, hint
    found = _window(s, today)
    if found is None:
        return UNKNOWN, None, None, None
    kind, (start, end) = found
    hint = "ongoing" if kind == ONGOING and "ongoing" in s else None
    return kind, start, end, hint


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _interpret_text(text: str, today: _dt.date | None) -> Timescale:
    s = _normalise(text)
    if not s:
        return Timescale(text)
    kind, start, end, hint = _classify(s, today)
    return Timescale(text, start, end, kind, hint)


_EMPTY = Timescale("")


def _year_number(value: float, text: str) -> Timescale:
    if value == int(value) and 1900 <= value <= 2099:
        y = int(value)
        return Timescale(text, date(y, 1, 1), date(y, 12, 31), DATED)
    return Timescale(text)


def interpret(value: object, *, today: _dt.date | None = None) -> Timescale:
    """Interpret a timescale cell: a string, None, a date/datetime (an Excel
    date cell) or a number.  ``today`` (a date) resolves relative phrases such
    as "next month"; without it they are unknown.  Never raises for odd
    input: anything not understood is ``kind == "unknown"``.
    """
    if isinstance(today, _dt.datetime):
        today = today.date()
    if isinstance(value, str):
        return _interpret_text(value, today)
    if value is None:
        return _EMPTY
    if isinstance(value, _dt.datetime):
        d = value.date()
        text = d.isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
        return Timescale(text, d, d, DATED)
    if isinstance(value, _dt.date):
        return Timescale(value.isoformat(), value, value, DATED)
    if isinstance(value, bool):
        return Timescale(str(value))
    if isinstance(value, numbers.Integral):
        return _year_number(int(value), str(int(value)))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return _EMPTY  # an empty spreadsheet cell read as NaN
        if math.isinf(number):
            return Timescale(str(value))
        text = str(int(number)) if number == int(number) else str(value)
        return _year_number(number, text)
    return _interpret_text(str(value), today)
