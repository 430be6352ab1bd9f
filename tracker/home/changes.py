"""What changed in a set of actions since a date: new, completed, slipped (with the reason given), status moved.

The pure part (`changes_since`) works on plain facts, so it is tested without a database; `load_facts` reads
those facts for a set of plans in two queries whatever their size.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import select

from tracker.extensions import db
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status
from tracker.timeutil import local_date, long_date

NEW, COMPLETED, SLIPPED, STATUS_MOVED = "New", "Completed", "Slipped", "Status moved"
#: The kinds in the order pages list them.
KINDS = (NEW, COMPLETED, SLIPPED, STATUS_MOVED)


@dataclass(frozen=True, slots=True)
class ActionFacts:
    id: int
    ref: str
    text: str
    status: Status
    due_end: dt.date | None
    created_on: dt.date
    plan_id: int = 0


@dataclass(frozen=True, slots=True)
class UpdateFacts:
    action_id: int
    on: dt.date
    status: Status
    revised_due_end: dt.date | None = None
    revised_timescale_text: str | None = None
    revision_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # one of KINDS
    action_id: int
    ref: str
    text: str
    before: str
    after: str
    on: dt.date | None
    reason: str = ""
    plan_id: int = 0


def changes_since(actions: Iterable[ActionFacts], updates: Iterable[UpdateFacts], since: dt.date) -> list[Change]:
    """The changes since `since` (inclusive), in KINDS order, then by reference.

    * New: created on or after `since`.
    * Completed / Status moved: the status now differs from the latest update before `since`. An action with no
      update before `since` counts as completed when an update since then completed it; its other moves are not
      known and are not reported.
    * Slipped: an update since `since` revised the due date to a later one (or set a date where none was known),
      with the reason given; reported once, from the date before the period to the latest revision.
    """
    by_action: dict[int, list[UpdateFacts]] = defaultdict(list)
    for update in updates:
        by_action[update.action_id].append(update)
    found: list[Change] = []
    for action in actions:
        history = sorted(by_action.get(action.id, []), key=lambda u: u.on)
        earlier = [u for u in history if u.on < since]
        period = [u for u in history if u.on >= since]
        status = Status(action.status)

        def change(kind: str, before: str, after: str, on: dt.date | None, reason: str = "") -> None:
            found.append(Change(kind, action.id, action.ref, action.text, before, after, on, reason or "",
                                action.plan_id))

        if action.created_on >= since:
            change(NEW, "", status.label, action.created_on)
            continue
        last_on = period[-1].on if period else None
        if earlier:
            before = Status(earlier[-1].status)
            if before is not status:
                change(COMPLETED if status is Status.COMPLETE else STATUS_MOVED, before.label, status.label, last_on)
        elif status is Status.COMPLETE:
            completing = next((u for u in period if Status(u.status) is Status.COMPLETE), None)
            if completing is not None:
                change(COMPLETED, "", status.label, completing.on)
        revisions = [u for u in period if u.revised_due_end is not None]
        if revisions:
            known = [u.revised_due_end for u in earlier if u.revised_due_end is not None]
            previous = known[-1] if known else None
            latest = revisions[-1]
            if previous is None or latest.revised_due_end > previous:
                change(SLIPPED, long_date(previous) if previous else "the earlier timescale",
                       latest.revised_timescale_text or long_date(latest.revised_due_end), latest.on,
                       latest.revision_reason or "")
    order = {kind: index for index, kind in enumerate(KINDS)}
    return sorted(found, key=lambda c: (order[c.kind], _natural(c.ref)))


def _natural(ref: str) -> tuple:
    parts = []
    for piece in ref.replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def counts(changes: Sequence[Change]) -> dict[str, int]:
    """{kind: number} in KINDS order, every kind present."""
    tally = Counter(c.kind for c in changes)
    return {kind: tally.get(kind, 0) for kind in KINDS}


def load_facts(plan_ids: Sequence[int]) -> tuple[list[ActionFacts], list[UpdateFacts]]:
    """The facts `changes_since` needs for the plans' actions: two queries."""
    if not plan_ids:
        return [], []
    actions = [
        ActionFacts(a.id, a.ref, a.text, Status(a.status), a.due_end, local_date(a.created_at), a.plan_id)
        for a in db.session.execute(
            select(Action.id, Action.ref, Action.text, Action.status, Action.due_end, Action.created_at,
                   Action.plan_id).where(Action.plan_id.in_(plan_ids)))
    ]
    updates = [
        UpdateFacts(u.action_id, local_date(u.created_at), Status(u.status), u.revised_due_end,
                    u.revised_timescale_text, u.revision_reason)
        for u in db.session.execute(
            select(ProgressUpdate.action_id, ProgressUpdate.created_at, ProgressUpdate.status,
                   ProgressUpdate.revised_due_end, ProgressUpdate.revised_timescale_text,
                   ProgressUpdate.revision_reason)
            .join(Action, Action.id == ProgressUpdate.action_id)
            .where(Action.plan_id.in_(plan_ids))
            .order_by(ProgressUpdate.created_at, ProgressUpdate.id))
    ]
    return actions, updates
