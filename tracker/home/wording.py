"""How pages word an action's RAG beside its status, so the two read as one sentence.

tracker.rag gives the verdict ("Red: 2,436 days past due 31 March 2020"). Beside "On track" that reads as a
contradiction; pages say "Red: overdue since 31 March 2020 (2,436 days)" instead and, when the status still
claims all is well, add a hint saying what to do. (E-mails and workbooks keep tracker.rag's own text.)
"""
from __future__ import annotations

import datetime as dt

from tracker.rag import RagResult, Status
from tracker.timeutil import long_date

#: Statuses that say nothing is wrong: beside an overdue RAG they need a hint.
HOPEFUL = (Status.ON_TRACK, Status.NOT_STARTED)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def rag_reason(result: RagResult, status: Status | str | None = None, due: dt.date | None = None) -> str:
    """The reason shown after the RAG badge on a page."""
    if result.days_overdue and due is not None:
        what = "review overdue" if status is not None and Status(status) is Status.ONGOING else "overdue"
        return f"{what} since {long_date(due)} ({_days(result.days_overdue)})"
    return result.reason


def rag_hint(result: RagResult, status: Status | str | None = None) -> str:
    """What to do when the status and the RAG seem to disagree; '' when they do not."""
    if result.days_overdue and status is not None and Status(status) in HOPEFUL:
        return (f"The status says {Status(status).label.lower()} but the timescale has passed: "
                "give a revised timescale with the reason, or mark it at risk.")
    return ""
