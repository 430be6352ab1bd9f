"""Statuses and the red/amber/green (and blue) rules: the one place they live.

The web pages, the reminders and the committee workbooks all call `derive`, so a
committee paper and a lead officer's screen never disagree about an action.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from tracker.numbers import half_up, paper_number
from tracker.timeutil import long_date

#: Red when an at-risk action is due within this many days.
AT_RISK_RED_WINDOW_DAYS = 30
#: Amber when an open action has had no progress update for this many days.
STALE_AFTER_DAYS = 90


class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    COMPLETE = "complete"
    ONGOING = "ongoing"  # continuous work; its date is the next review date
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in (Status.COMPLETE, Status.SUPERSEDED)

    @classmethod
    def from_label(cls, text: str) -> Status:
        key = text.strip().lower().replace("-", " ").replace("_", " ")
        for status, label in STATUS_LABELS.items():
            if key in (label.lower(), status.value.replace("_", " ")):
                return status
        raise ValueError(f"'{text}' is not a status. Use one of: {', '.join(STATUS_LABELS.values())}.")


STATUS_LABELS = {
    Status.NOT_STARTED: "Not started",
    Status.ON_TRACK: "On track",
    Status.AT_RISK: "At risk",
    Status.COMPLETE: "Complete",
    Status.ONGOING: "Ongoing",
    Status.SUPERSEDED: "Superseded",
}
OPEN_STATUSES = tuple(s for s in Status if s.is_open)


class Rag(enum.StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    BLUE = "blue"  # complete
    NONE = "none"  # superseded: no longer tracked

    @property
    def label(self) -> str:
        return {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Blue", "none": "Not rated"}[self.value]

    @property
    def hex(self) -> str:
        """Fill colour used in workbooks (AA contrast with the text colour in `text_hex`)."""
        return {"red": "C00000", "amber": "FFC000", "green": "00823B", "blue": "0065BD", "none": "D9D9D9"}[
            self.value
        ]

    @property
    def text_hex(self) -> str:
        return {"red": "FFFFFF", "amber": "000000", "green": "FFFFFF", "blue": "FFFFFF", "none": "000000"}[
            self.value
        ]

    @property
    def order(self) -> int:
        return ["red", "amber", "green", "blue", "none"].index(self.value)


@dataclass(frozen=True, slots=True)
class RagResult:
    rag: Rag
    reason: str
    days_overdue: int  # 0 unless past due

    @property
    def text(self) -> str:
        """'Red: 47 days past due 31 March 2023'."""
        return f"{self.rag.label}: {self.reason}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def derive(
    status: Status | str,
    due: dt.date | None,
    last_update: dt.date | None,
    today: dt.date,
    *,
    created: dt.date | None = None,
) -> RagResult:
    """RAG for one action.

    Blue when complete; red when the due date has passed, or when at risk and due
    within 30 days; amber when at risk, or when there has been no update for 90 days
    (counted from creation when there has never been one); green otherwise.
    """
    status = Status(status)
    if status is Status.COMPLETE:
        return RagResult(Rag.BLUE, "complete", 0)
    if status is Status.SUPERSEDED:
        return RagResult(Rag.NONE, "superseded", 0)
    if due is not None and due < today:
        late = (today - due).days
        what = "past review date" if status is Status.ONGOING else "past due"
        return RagResult(Rag.RED, f"{_days(late)} {what} {long_date(due)}", late)
    if status is Status.AT_RISK:
        if due is not None and (due - today).days <= AT_RISK_RED_WINDOW_DAYS:
            left = (due - today).days
            when = "today" if left == 0 else f"in {_days(left)}"
            return RagResult(Rag.RED, f"at risk and due {when} ({long_date(due)})", 0)
        return RagResult(Rag.AMBER, "at risk", 0)
    since = last_update or created
    if since is not None and (today - since).days >= STALE_AFTER_DAYS:
        if last_update is None:
            return RagResult(Rag.AMBER, f"no update since it was created {_days((today - since).days)} ago", 0)
        return RagResult(Rag.AMBER, f"no update for {_days((today - since).days)} (last {long_date(since)})", 0)
    if due is None:
        return RagResult(Rag.GREEN, "no due date set" if status is not Status.ONGOING else "ongoing", 0)
    return RagResult(Rag.GREEN, f"due {long_date(due)}", 0)


def due_within(due: dt.date | None, today: dt.date, days: int) -> bool:
    return due is not None and today <= due <= today + dt.timedelta(days=days)


# ---------------------------------------------------------------------------
# Indicators: a value against its target
# ---------------------------------------------------------------------------

#: Amber when a value misses its target by no more than this fraction of the target (5%).
TARGET_TOLERANCE = 0.05


def _number(value: float) -> str:
    """412 -> '412', 1234.5 -> '1,234.5', 72.25 -> '72.3' (half up, as on a committee paper)."""
    return paper_number(value, 1)


def _percent_of(difference: float) -> str:
    """A relative difference as people read it: '8%', '4.9%' near the amber boundary, 'less than 1%'."""
    pct = abs(difference) * 100
    if pct < 0.5:
        return "less than 1%"
    edge = TARGET_TOLERANCE * 100
    if edge - 0.5 <= pct < edge + 0.5:
        return f"{float(half_up(pct, 1)):g}%"
    return f"{int(half_up(pct)):d}%"


def against_target(
    value: float | None,
    target: float | None,
    *,
    higher_is_better: bool,
    suffix: str = "",
) -> RagResult:
    """RAG for an indicator's value against its target.

    Green when the value meets or beats the target (at or above it when higher is better, at or below
    it when lower is better); amber when it misses by no more than TARGET_TOLERANCE (5%) of the target;
    red when it misses by more. `suffix` is the unit as written after a number ('%' for percentages).
    The reason reads "412 is 8% below the target of 450". Not rated without a value or a target.
    """
    if value is None:
        return RagResult(Rag.NONE, "no value entered yet", 0)
    if target is None:
        return RagResult(Rag.NONE, f"{_number(value)}{suffix}; no target set", 0)
    shown, goal = f"{_number(value)}{suffix}", f"the target of {_number(target)}{suffix}"
    if value == target:
        return RagResult(Rag.GREEN, f"{shown} meets {goal}", 0)
    side = "above" if value > target else "below"
    better = (value > target) == higher_is_better
    if target == 0:
        # No relative difference from zero: any miss is red.
        return RagResult(Rag.GREEN if better else Rag.RED, f"{shown} is {side} {goal}", 0)
    difference = (value - target) / abs(target)
    reason = f"{shown} is {_percent_of(difference)} {side} {goal}"
    if better:
        return RagResult(Rag.GREEN, reason, 0)
    if abs(difference) <= TARGET_TOLERANCE:
        return RagResult(Rag.AMBER, reason, 0)
    return RagResult(Rag.RED, reason, 0)
