"""Pure date arithmetic for reporting periods and Scottish working days.

Nothing here touches Flask, the database or the clock: every function takes
the dates it needs as arguments, so the results are reproducible and easy to
test.

Conventions (UK public sector):

* The **financial year** runs 1 April to 31 March and is identified by the
  calendar year it starts in: ``2023`` means 1 April 2023 - 31 March 2024,
  written ``"2023/24"``.
* **Financial quarters**: Q1 = Apr-Jun, Q2 = Jul-Sep, Q3 = Oct-Dec,
  Q4 = Jan-Mar (of the following calendar year).
* **Working days** are Monday to Friday, excluding Scottish bank holidays as
  listed by the ``holidays`` package (``UnitedKingdom(subdiv="SCT")``).  That
  list includes 2 January, the first Monday of August (Summer Bank Holiday)
  and St Andrew's Day (30 November, moved to the Monday when it falls at a
  weekend), and does *not* include Easter Monday.  One-off holidays such as
  royal occasions are included as the package records them.
* **Indicator periods** come in four frequencies: ``monthly``, ``quarterly``
  (financial quarters), ``annual`` (financial years) and ``biennial``.
  Biennial periods are two consecutive financial years **starting on
  1 April of an odd-numbered year** (2021-23, 2023-25, ...), matching the
  national Health and Care Experience Survey cycle (2021/22, 2023/24, ...).
  Their label is ``"2023-25"``.
"""

from __future__ import annotations

import datetime as _dt
import operator
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "FREQUENCIES",
    "FinancialQuarter",
    "Period",
    "add_working_days",
    "bank_holiday_name",
    "financial_year_end",
    "financial_year_label",
    "financial_year_of",
    "financial_year_start",
    "is_working_day",
    "next_working_day",
    "parse_financial_year",
    "periods_between",
    "previous_working_day",
    "scottish_bank_holidays",
    "working_days_before",
]

date = _dt.date
_ONE_DAY = _dt.timedelta(days=1)


def _as_date(d: _dt.date) -> _dt.date:
    """Accept a ``date`` or ``datetime``; always hand back a plain ``date``."""
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, _dt.date):
        return d
    raise TypeError(f"expected a date, got {type(d).__name__}: {d!r}")


def _month_end(year: int, month: int) -> _dt.date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - _ONE_DAY


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


# ---------------------------------------------------------------------------
# Financial years
# ---------------------------------------------------------------------------


def financial_year_of(d: _dt.date) -> int:
    """The financial year containing ``d``, as its starting calendar year.

    >>> financial_year_of(date(2024, 3, 31)), financial_year_of(date(2024, 4, 1))
    (2023, 2024)
    """
    d = _as_date(d)
    return d.year if d.month >= 4 else d.year - 1


def financial_year_label(year: int) -> str:
    """``2023`` -> ``"2023/24"``."""
    year = int(year)
    return f"{year}/{(year + 1) % 100:02d}"


def financial_year_start(year: int) -> _dt.date:
    """1 April of ``year``."""
    return date(int(year), 4, 1)


def financial_year_end(year: int) -> _dt.date:
    """31 March of ``year + 1``."""
    return date(int(year) + 1, 3, 31)


# A financial year written as 2023/24, 2023-24, 2023/2024, 23/24 (optionally
# preceded by "FY" / "financial year").
_FY_BODY = r"(?P<y1>\d{4}|\d{2})\s*[/\-]\s*(?P<y2>\d{4}|\d{2})"
_FY_PREFIX = r"(?:(?:fy|f/y|financial\s+year)\s*)?"
_FY_RE = re.compile(rf"{_FY_PREFIX}{_FY_BODY}", re.IGNORECASE)


def _fy_from_parts(y1: str, y2: str) -> int | None:
    """Start year of the financial year written ``y1/y2``, or None if the two
    halves are not consecutive years (``2023/25`` is not a financial year)."""
    first = int(y1) if len(y1) == 4 else 2000 + int(y1)
    second = int(y2)
    if len(y2) == 4:
        ok = second == first + 1
    else:
        ok = second == (first + 1) % 100
    return first if ok else None


def parse_financial_year(text: str) -> int:
    """Read a financial year label: ``"2023/24"``, ``"2023-24"``,
    ``"2023/2024"``, ``"FY 23/24"``.  Returns the starting year (2023)."""
    m = _FY_RE.fullmatch(str(text).strip())
    if m:
        fy = _fy_from_parts(m["y1"], m["y2"])
        if fy is not None:
            return fy
    raise ValueError(
        f"Could not read {text!r} as a financial year. "
        "Write it like '2023/24' (April 2023 to March 2024)."
    )


# ---------------------------------------------------------------------------
# Financial quarters
# ---------------------------------------------------------------------------

_QUARTER_RE = re.compile(
    rf"""\s*(?:
        (?:q|quarter\s*)(?P<qa>[1-4])\s*,?\s*(?:of\s+)?{_FY_PREFIX}{_FY_BODY.replace('y1', 'ya1').replace('y2', 'ya2')}
      |
        {_FY_PREFIX}{_FY_BODY.replace('y1', 'yb1').replace('y2', 'yb2')}\s*,?\s*(?:q|quarter\s*)(?P<qb>[1-4])
    )\s*""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, order=True)
class FinancialQuarter:
    """A quarter of a financial year.

    ``year`` is the financial year's starting calendar year (2023 for
    2023/24) and ``q`` is 1-4 (Q1 = Apr-Jun ... Q4 = Jan-Mar).  Instances
    sort chronologically.
    """

    year: int
    q: int

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or isinstance(self.q, bool):
            raise TypeError("year and q must be whole numbers")
        object.__setattr__(self, "year", operator.index(self.year))
        object.__setattr__(self, "q", operator.index(self.q))
        if not 1 <= self.q <= 4:
            raise ValueError(f"quarter must be 1, 2, 3 or 4, got {self.q!r}")

    @property
    def start(self) -> _dt.date:
        if self.q == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.q + 1, 1)

    @property
    def end(self) -> _dt.date:
        if self.q == 4:
            return date(self.year + 1, 3, 31)
        return _month_end(self.year, 3 * self.q + 3)

    @property
    def label(self) -> str:
        return f"Q{self.q} {financial_year_label(self.year)}"

    @property
    def financial_year_label(self) -> str:
        return financial_year_label(self.year)

    def __str__(self) -> str:
        return self.label

    def contains(self, d: _dt.date) -> bool:
        return self.start <= _as_date(d) <= self.end

    def previous(self) -> FinancialQuarter:
        if self.q == 1:
            return FinancialQuarter(self.year - 1, 4)
        return FinancialQuarter(self.year, self.q - 1)

    def next(self) -> FinancialQuarter:
        if self.q == 4:
            return FinancialQuarter(self.year + 1, 1)
        return FinancialQuarter(self.year, self.q + 1)

    @classmethod
    def containing(cls, d: _dt.date) -> FinancialQuarter:
        d = _as_date(d)
        return cls(financial_year_of(d), (d.month - 4) % 12 // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> FinancialQuarter:
        """Read ``"Q2 2023/24"``, ``"Q2 2023-24"``, ``"2023/24 Q2"``,
        ``"q2 23/24"``, ``"Quarter 2 2023/2024"``."""
        m = _QUARTER_RE.fullmatch(str(text))
        if m:
            if m["qa"]:
                q, y1, y2 = m["qa"], m["ya1"], m["ya2"]
            else:
                q, y1, y2 = m["qb"], m["yb1"], m["yb2"]
            fy = _fy_from_parts(y1, y2)
            if fy is not None:
                return cls(fy, int(q))
        raise ValueError(
            f"Could not read {text!r} as a financial quarter. "
            "Write it like 'Q2 2023/24' (quarter 1 to 4, then the financial year)."
        )


# ---------------------------------------------------------------------------
# Scottish working days
# ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _holidays_for_year(year: int) -> dict[_dt.date, str]:
    import holidays  # imported lazily: only needed for working-day maths

    found = holidays.UnitedKingdom(subdiv="SCT", years=year)
    return {d: name for d, name in found.items() if d.year == year}


def scottish_bank_holidays(year: int) -> dict[_dt.date, str]:
    """``{date: name}`` of Scottish bank holidays in calendar ``year``
    (a fresh copy; some fall at weekends, e.g. the day itself when an
    "(observed)" substitute is listed as well)."""
    return dict(_holidays_for_year(int(year)))


def bank_holiday_name(d: _dt.date) -> str | None:
    """Name of the Scottish bank holiday on ``d``, or None."""
    d = _as_date(d)
    return _holidays_for_year(d.year).get(d)


def is_working_day(d: _dt.date) -> bool:
    """Monday-Friday and not a Scottish bank holiday."""
    d = _as_date(d)
    return d.weekday() < 5 and d not in _holidays_for_year(d.year)


def add_working_days(d: _dt.date, n: int) -> _dt.date:
    """The date ``n`` working days after ``d`` (before it if ``n`` < 0).

    ``d`` itself is never counted, and need not be a working day: one working
    day after a Saturday is the following Monday (if that is not a holiday).
    ``n == 0`` returns ``d`` unchanged.
    """
    d = _as_date(d)
    n = int(n)
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_working_day(d):
            remaining -= 1
    return d


def working_days_before(d: _dt.date, n: int) -> _dt.date:
    """The date ``n`` working days before ``d``: e.g. papers due 10 working
    days before a meeting -> ``working_days_before(meeting, 10)``."""
    if int(n) < 0:
        raise ValueError("n must be zero or more working days")
    return add_working_days(d, -int(n))


def next_working_day(d: _dt.date, *, inclusive: bool = False) -> _dt.date:
    """The first working day after ``d`` (or ``d`` itself if ``inclusive``
    and it is a working day, e.g. to roll a deadline off a holiday)."""
    d = _as_date(d)
    if inclusive and is_working_day(d):
        return d
    return add_working_days(d, 1)


def previous_working_day(d: _dt.date, *, inclusive: bool = False) -> _dt.date:
    """The last working day before ``d`` (or ``d`` itself if ``inclusive``
    and it is a working day)."""
    d = _as_date(d)
    if inclusive and is_working_day(d):
        return d
    return add_working_days(d, -1)


# ---------------------------------------------------------------------------
# Indicator periods
# ---------------------------------------------------------------------------

MONTHLY = "monthly"
QUARTERLY = "quarterly"
ANNUAL = "annual"
BIENNIAL = "biennial"
FREQUENCIES = (MONTHLY, QUARTERLY, ANNUAL, BIENNIAL)

_FREQUENCY_ALIASES = {
    "monthly": MONTHLY,
    "month": MONTHLY,
    "quarterly": QUARTERLY,
    "quarter": QUARTERLY,
    "annual": ANNUAL,
    "annually": ANNUAL,
    "yearly": ANNUAL,
    "year": ANNUAL,
    "biennial": BIENNIAL,
    "biennially": BIENNIAL,
    "two-yearly": BIENNIAL,
    "2-yearly": BIENNIAL,
}


def _frequency(value: str) -> str:
    key = str(value).strip().lower()
    try:
        return _FREQUENCY_ALIASES[key]
    except KeyError:
        raise ValueError(
            f"Unknown frequency {value!r}: use one of {', '.join(FREQUENCIES)}."
        ) from None


_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH_LOOKUP = {}
for _i, _name in enumerate(_MONTH_NAMES, start=1):
    _MONTH_LOOKUP[_name.lower()] = _i
    _MONTH_LOOKUP[_name[:3].lower()] = _i
_MONTH_LOOKUP["sept"] = 9
del _i, _name

_MONTH_LABEL_RE = re.compile(r"\s*(?P<mon>[a-z]+)\.?\s*,?\s*(?P<year>\d{4})\s*", re.IGNORECASE)
_ISO_MONTH_RE = re.compile(r"\s*(?P<year>\d{4})-(?P<month>\d{1,2})\s*")
_BIENNIAL_RE = re.compile(
    r"\s*(?P<y1>\d{4})\s*[/\-]\s*(?P<y2>\d{4}|\d{2})\s*"
    r"|\s*(?P<a1>\d{4})\s*/\s*(?P<a2>\d{2})\s*(?:-|to)\s*(?P<b1>\d{4})\s*/\s*(?P<b2>\d{2})\s*",
    re.IGNORECASE,
)


def _biennial_start_year(fy: int) -> int:
    """Biennial periods start in odd-numbered financial years."""
    return fy if fy % 2 == 1 else fy - 1


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period of a given frequency.

    Build one with :meth:`containing` or :meth:`parse`; the constructor
    takes the canonical ``frequency`` and the period's first day and checks
    that the day really starts a period of that frequency.  Periods of the
    same frequency sort chronologically.
    """

    frequency: str
    start: _dt.date

    def __post_init__(self) -> None:
        freq = _frequency(self.frequency)
        object.__setattr__(self, "frequency", freq)
        start = _as_date(self.start)
        object.__setattr__(self, "start", start)
        if Period._start_for(freq, start) != start:
            raise ValueError(
                f"{start.isoformat()} is not the first day of a {freq} period"
            )

    # -- construction -----------------------------------------------------

    @staticmethod
    def _start_for(frequency: str, d: _dt.date) -> _dt.date:
        if frequency == MONTHLY:
            return date(d.year, d.month, 1)
        if frequency == QUARTERLY:
            return FinancialQuarter.containing(d).start
        if frequency == ANNUAL:
            return date(financial_year_of(d), 4, 1)
        return date(_biennial_start_year(financial_year_of(d)), 4, 1)

    @classmethod
    def containing(cls, frequency: str, d: _dt.date) -> Period:
        freq = _frequency(frequency)
        return cls(freq, cls._start_for(freq, _as_date(d)))

    @classmethod
    def parse(cls, frequency: str, label: str) -> Period:
        """Read a label of the given frequency.

        * monthly: ``"May 2024"``, abbreviated (``"Sept 2024"``) or ISO
          ``"2024-05"``
        * quarterly: anything :meth:`FinancialQuarter.parse` accepts
        * annual: ``"2024/25"``, ``"2024-25"``, ``"2024/2025"``, ``"FY 24/25"``
        * biennial: ``"2023-25"``, ``"2023/25"``, ``"2023-2025"`` or
          ``"2023/24-2024/25"``; must start in an odd year.
        """
        freq = _frequency(frequency)
        text = str(label)
        if freq == MONTHLY:
            m = _MONTH_LABEL_RE.fullmatch(text)
            if m and m["mon"].lower() in _MONTH_LOOKUP:
                return cls(freq, date(int(m["year"]), _MONTH_LOOKUP[m["mon"].lower()], 1))
            m = _ISO_MONTH_RE.fullmatch(text)
            if m and 1 <= int(m["month"]) <= 12:
                return cls(freq, date(int(m["year"]), int(m["month"]), 1))
            raise ValueError(
                f"Could not read {label!r} as a month. Write it like 'May 2024'."
            )
        if freq == QUARTERLY:
            return cls(freq, FinancialQuarter.parse(text).start)
        if freq == ANNUAL:
            return cls(freq, financial_year_start(parse_financial_year(text)))
        # biennial
        m = _BIENNIAL_RE.fullmatch(text)
        if m:
            if m["y1"]:
                first, y2 = int(m["y1"]), m["y2"]
                second = int(y2) if len(y2) == 4 else first // 100 * 100 + int(y2)
                ok = second == first + 2
            else:
                first = int(m["a1"])
                ok = (
                    _fy_from_parts(m["a1"], m["a2"]) == first
                    and _fy_from_parts(m["b1"], m["b2"]) == first + 1
                )
            if ok:
                if first % 2 == 0:
                    raise ValueError(
                        f"{label!r} does not match the biennial cycle: two-year "
                        "periods start in odd-numbered years (e.g. '2023-25')."
                    )
                return cls(freq, date(first, 4, 1))
        raise ValueError(
            f"Could not read {label!r} as a two-year period. "
            "Write it like '2023-25' (April 2023 to March 2025)."
        )

    # -- properties -------------------------------------------------------

    @property
    def end(self) -> _dt.date:
        s = self.start
        if self.frequency == MONTHLY:
            return _month_end(s.year, s.month)
        if self.frequency == QUARTERLY:
            return FinancialQuarter.containing(s).end
        if self.frequency == ANNUAL:
            return financial_year_end(s.year)
        return financial_year_end(s.year + 1)

    @property
    def label(self) -> str:
        s = self.start
        if self.frequency == MONTHLY:
            return f"{_MONTH_NAMES[s.month - 1]} {s.year}"
        if self.frequency == QUARTERLY:
            return FinancialQuarter.containing(s).label
        if self.frequency == ANNUAL:
            return financial_year_label(s.year)
        return f"{s.year}-{(s.year + 2) % 100:02d}"

    def __str__(self) -> str:
        return self.label

    def contains(self, d: _dt.date) -> bool:
        return self.start <= _as_date(d) <= self.end

    def next(self) -> Period:
        return Period.containing(self.frequency, self.end + _ONE_DAY)

    def previous(self) -> Period:
        return Period.containing(self.frequency, self.start - _ONE_DAY)


def periods_between(frequency: str, start: _dt.date, end: _dt.date) -> list[Period]:
    """Every period of ``frequency`` that overlaps ``start``..``end``
    (inclusive), oldest first: from the period containing ``start`` to the
    one containing ``end``.  Empty if ``start`` is after ``end``."""
    start, end = _as_date(start), _as_date(end)
    if start > end:
        return []
    current = Period.containing(frequency, start)
    result = [current]
    while current.end < end:
        current = current.next()
        result.append(current)
    return result
