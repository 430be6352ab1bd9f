"""Assemble workbook snapshots from the database, issue them to committees, and the scheduled job.

Services flush, never commit, except `issue_due_workbooks`, which is a whole scheduled job:
it commits once, then e-mails.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import (ARRAY, DateTime, Integer, String, any_, bindparam, case, cast, func, literal_column, select,
                        text, type_coerce)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker import timeutil
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tracker.bulk import collector_paused
from tracker.auth.models import User
from tracker.committees.models import Committee, Meeting, committee_plans
from tracker import links
from tracker.extensions import db
from tracker.text import parse_id
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.indicators.workbook import indicators_sheet_data
from tracker.partnerships.models import Organisation
from tracker.periods import FinancialQuarter, working_days_before
from tracker.plans.models import Action, Plan, ProgressUpdate, action_items, action_organisations
from tracker.plans.narratives import corrected_sql, marked, shown_sql
from tracker.rag import Rag, Status, derive
from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound
from tracker.mail import build_message
from tracker.timeutil import local_date
from tracker.workbooks.builder import build_workbook
from tracker.workbooks.data import ActionRow, ChangeRow, RatingRow, WorkbookData
from tracker.papers.services import build_set
from tracker.workbooks.models import IssuedPaper, IssuedWorkbook

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


_DIGIT_RUNS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple:
    """'A10' after 'A9'; '1.10' after '1.9'."""
    return tuple([(0, int(part)) if part.isdigit() else (1, part) for part in _DIGIT_RUNS.split(text) if part])


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=timeutil.LONDON)


# ---------------------------------------------------------------------------
# Snapshot assembly
# ---------------------------------------------------------------------------


def default_as_at(quarter: FinancialQuarter, today: dt.date | None = None) -> dt.date:
    """The quarter as it stood at its end; today while the quarter is still running."""
    today = today or timeutil.today()
    return min(quarter.end, today)


def workbook_data(plan: Plan, quarter: FinancialQuarter, *, as_at: dt.date | None = None,
                  committee: Committee | None = None, meeting: Meeting | None = None,
                  draft: bool = False) -> WorkbookData:
    """Everything the papers show for one plan and quarter, read in a few queries whatever its size, with the
    sections features contribute (tracker.papers.sections)."""
    from tracker.papers.sections import sections_for

    data = workbook_data_for_plans([plan.id], quarter, as_at=as_at, committee=committee, meeting=meeting)
    data.sections = sections_for(db.session, plan, data.as_at)
    data.draft = draft
    return data


def workbook_data_for_plans(plan_ids: Sequence[int], quarter: FinancialQuarter, *, as_at: dt.date | None = None,
                            committee: Committee | None = None, meeting: Meeting | None = None) -> WorkbookData:
    """As `workbook_data`, over several plans of one framework (the benchmark reads national volumes so)."""
    as_at = as_at or default_as_at(quarter)
    plans = db.session.scalars(select(Plan).where(Plan.id.in_(plan_ids)).options(
        selectinload(Plan.partnership), selectinload(Plan.framework))).all()

    # Core rows (no ORM objects) throughout: a national workbook reads hundreds of thousands of them.
    connection = db.session.connection()
    with _without_jit(connection), collector_paused():
        return _read_snapshot(connection, plans, plan_ids, quarter, as_at, committee, meeting)


@contextlib.contextmanager
def _without_jit(connection):
    """PostgreSQL's JIT compiles a statement it costs as large to machine code before running it, which for the
    snapshot's one-off grouped reads takes seconds longer than the reads themselves: off while they run (for this
    transaction only), then as it was."""
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.scalar(text("SELECT current_setting('jit')"))
    connection.execute(text("SELECT set_config('jit', 'off', true)"))
    yield
    connection.execute(text("SELECT set_config('jit', :previous, true)"), {"previous": previous})


def _read_snapshot(connection, plans, plan_ids, quarter, as_at, committee, meeting) -> WorkbookData:
    first = plans[0]
    framework: Framework = first.framework
    in_plans = Action.plan_id.in_(plan_ids)
    # The plans' actions as a subquery (`action_id IN (...)`), not a join: SQLite then walks each table's index in
    # action order, with no sort for the grouping and ordering (a third quicker); PostgreSQL plans it as the join.
    plan_actions = select(Action.id).where(in_plans)
    groups: dict[int, tuple[tuple, str, list[str]]] = {}
    for action_id, item_number, item_pos, theme_number, theme_title, theme_pos in connection.execute(
        select(action_items.c.action_id, FrameworkItem.number, FrameworkItem.position, Theme.number, Theme.title,
               Theme.position)
        .join(FrameworkItem, FrameworkItem.id == action_items.c.item_id)
        .join(Theme, Theme.id == FrameworkItem.theme_id)
        .where(action_items.c.action_id.in_(plan_actions))
        .order_by(action_items.c.action_id, Theme.position, FrameworkItem.position)
    ).all():
        if action_id not in groups:
            groups[action_id] = ((0, theme_pos, item_pos), f"{theme_number} {theme_title}", [])
        groups[action_id][2].append(item_number)

    organisations: dict[int, list[str]] = defaultdict(list)
    for action_id, name in connection.execute(
        select(action_organisations.c.action_id, Organisation.name)
        .join(Organisation, Organisation.id == action_organisations.c.organisation_id)
        .where(action_organisations.c.action_id.in_(plan_actions))
        .order_by(action_organisations.c.action_id, Organisation.name)
    ).all():
        organisations[action_id].append(name)

    cutoff = _start_of(as_at + dt.timedelta(days=1))  # the end of the data-as-at day
    history = _history(connection, plan_actions, quarter, as_at)
    latest_updates = history["latest"]
    states = _states_at(connection, plan_ids, in_plans, cutoff)
    start = _start_of(quarter.start)
    created_in_quarter: set[int] = set()
    history["created_in_quarter"] = created_in_quarter
    slips = _latest_moves(connection, plan_ids, history["moves"], cutoff)

    no_group = (1, 0, 0), f"No {framework.theme_label.lower()}", []
    rows: list[tuple[tuple, ActionRow]] = []
    no_update = ("", None)
    day_of = _uk_days()
    for action_id, state in states.items():
        ref, status, due = state["ref"], state["status"], state["due_end"]
        order, group, items = groups.get(action_id, no_group)
        narrative, update_at = latest_updates.get(action_id, no_update)
        if update_at is None:
            last_update_at = _instant(state["last_update_at"])
            if last_update_at is not None and last_update_at < cutoff:
                update_at = last_update_at
        update_on = day_of(update_at)
        created_at = _instant(state["created_at"])
        if created_at >= start:
            created_in_quarter.add(action_id)
        # The day it was created counts only for an action never updated (tracker.rag.derive).
        created = day_of(created_at) if update_on is None else None
        result = derive(status, due, update_on, as_at, created=created)
        reason, moved_by, moved_on = slips.get(action_id, ("", "", None))
        rows.append(((order, natural_key(ref)), ActionRow(
            action_id=action_id, ref=ref, group=group, proposals=", ".join(items), text=state["text"],
            lead_officer=state["lead_name"] or state["lead_text"] or "",
            organisations=", ".join(organisations.get(action_id, ())),
            timescale_text=state["timescale_text"] or "", due=due, status=_STATUS_VALUES[status],
            rag=_RAG_VALUES[result.rag], rag_text=result.text, latest_update=narrative if update_at is not None else "",
            latest_update_on=update_on, days_overdue=result.days_overdue, changed_this_quarter=False,
            moved_reason=reason, moved_by=moved_by, moved_on=moved_on,
        )))
    rows.sort(key=lambda pair: pair[0])
    actions = [row for _key, row in rows]
    del rows

    baseline, compared_with = _baseline(plan_ids, quarter, history, actions)
    changes = diff_changes(actions, baseline, history["moves"], history["moved_in_quarter"])
    changed = {c.action_id for c in changes} | history["updated_in_quarter"]
    for row in actions:
        row.changed_this_quarter = row.action_id in changed

    ratings, current_round, previous_round = _self_evaluation(first.partnership_id, framework, as_at)
    return WorkbookData(
        plan_name=first.name if len(plans) == 1 else f"{len(plans)} plans",
        partnership_name=first.partnership.name if len(plans) == 1 else "Several partnerships",
        quarter=quarter.label, as_at=as_at, group_label=framework.theme_label, item_label=framework.item_label,
        committee_name=committee.name if committee else "", meeting_date=meeting.held_on if meeting else None,
        compared_with=compared_with, actions=actions, changes=changes, self_evaluation=ratings,
        current_round=current_round, previous_round=previous_round,
        indicators=indicators_sheet_data(plans, as_at).indicators,
    )


def _history(connection, plan_actions, quarter: FinancialQuarter, as_at: dt.date) -> dict:
    """Progress-update facts, read in one pass over the plans' updates: each action's latest update by the
    data-as-at date (for the Actions sheet), and for the Changes sheet its date moves, whether it was updated
    (or its date moved) this quarter, and its status and due date at the quarter's start. (The actions created
    this quarter, `created_in_quarter`, are added by the caller from the actions it reads.)"""
    start = _start_of(quarter.start)
    end = _start_of(as_at + dt.timedelta(days=1))  # nothing after the data-as-at date counts
    updates = ProgressUpdate.__table__
    before_start = updates.c.created_at < start
    in_quarter = updates.c.created_at >= start
    revised = updates.c.revised_due_end.is_not(None)
    facts = connection.execute(
        select(updates.c.action_id,
               func.count(case((revised, updates.c.id))),  # date moves by the data-as-at date
               func.max(case((in_quarter, 1), else_=0)),  # updated this quarter
               func.max(case((in_quarter & revised, 1), else_=0)),  # date moved this quarter
               func.max(updates.c.id),  # the latest update
               func.max(case((before_start, updates.c.id))),  # the latest before the quarter
               func.max(case((before_start & revised, updates.c.id))))  # the latest date before the quarter
        .where(updates.c.action_id.in_(plan_actions), updates.c.created_at < end)
        .group_by(updates.c.action_id)).all()
    moves: dict[int, int] = {}
    updated: set[int] = set()
    moved: set[int] = set()
    # The updates those ids name, looked up by primary key (a join here makes PostgreSQL scan every update).
    wanted = {update_id for row in facts for update_id in row[4:] if update_id is not None}
    found = _updates_by_id(connection, wanted, end)
    at_start: dict[int, tuple[str, str | None]] = {}
    latest_updates: dict[int, tuple[str, dt.datetime]] = {}
    for action_id, count, was_updated, was_moved, latest_id, before_id, dated_id in facts:
        narrative, created_at, *_, corrected = found[latest_id]
        # As corrected by then; the time naive UTC on SQLite (only its local date is used: local_date takes either).
        latest_updates[action_id] = (marked(narrative, corrected), created_at)
        if count:
            moves[action_id] = count
        if was_updated:
            updated.add(action_id)
        if was_moved:
            moved.add(action_id)
        if before_id is not None:
            due = found[dated_id][3] if dated_id is not None else None
            at_start[action_id] = (_STATUS_VALUES[Status(found[before_id][2])],
                                   due.isoformat() if due is not None else None)
    return {"moves": moves, "updated_in_quarter": updated, "at_start": at_start, "moved_in_quarter": moved,
            "latest": latest_updates}


def _ids_in(column, ids: Sequence[int]):
    """`column IN ids` as one bound value whatever the number of ids (a list of thousands of parameters costs
    more to render and bind than the lookup itself): a PostgreSQL array, or a JSON array on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(list(ids)))))


def _updates_by_id(connection, ids, cutoff: dt.datetime) -> dict[int, tuple]:
    """{update id: (narrative, created at, status, revised due date, corrected)} for those progress updates,
    the narrative as corrected before `cutoff` (tracker.plans.narratives); created at as `_plain_time` reads it."""
    updates = ProgressUpdate.__table__
    return {update_id: tuple(values) for update_id, *values in connection.execute(
        select(updates.c.id, shown_sql(cutoff), _plain_time(updates.c.created_at), updates.c.status,
               updates.c.revised_due_end, corrected_sql(cutoff)).where(_ids_in(updates.c.id, sorted(ids)))
    ).all()}


def _plain_time(column):
    """A timestamp column read without its UTC type's conversion (which costs more than the rest of a row):
    naive UTC on SQLite, aware on PostgreSQL; `_instant` makes either aware where one is used."""
    return type_coerce(column, DateTime())


def _uk_days():
    """`timeutil.local_date`, remembered per UTC hour for UTC times, naive (SQLite) or aware (the UK's clocks
    change on the hour, UTC): a snapshot turns tens of thousands of times into days."""
    memo: dict[tuple[int, int, int, int], dt.date] = {}
    utc = dt.timezone.utc

    def day_of(value: dt.datetime | None) -> dt.date | None:
        if value is None:
            return None
        if value.tzinfo is not None and value.tzinfo is not utc and value.utcoffset():
            return local_date(value)  # not a UTC time (PostgreSQL's in a session zone other than UTC)
        key = (value.year, value.month, value.day, value.hour)
        day = memo.get(key)
        if day is None:
            day = memo[key] = local_date(value)
        return day

    return day_of


def _instant(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


_STATUS_VALUES = {status: status.value for status in Status}
_RAG_VALUES = {colour: colour.value for colour in Rag}


#: The action fields a workbook shows that an audit event's `before` can roll back.
_ROLLED_BACK = ("ref", "text", "lead_officer_id", "lead_text", "timescale_text", "due_end", "status")


def _states_at(connection, plan_ids: Sequence[int], in_plans, cutoff: dt.datetime) -> dict[int, dict]:
    """Each action that existed at `cutoff`, with its fields as they stood just before it: today's values
    with every later change undone.

    Every change to an action is an append-only audit event with the values it replaced (`before`), so
    undoing the events at or after the cutoff, newest first, gives the values at the cutoff.
    """
    states: dict[int, dict] = {}
    names: dict[int, str] = {}
    statuses = {status.value: status for status in Status}
    for (action_id, ref, action_text, lead_id, lead_text, timescale_text, due, status, created_at,
         last_update_at, lead_name) in connection.execute(
        select(Action.id, Action.ref, Action.text, Action.lead_officer_id, Action.lead_text, Action.timescale_text,
               Action.due_end, type_coerce(Action.status, String), _plain_time(Action.created_at),
               _plain_time(Action.last_update_at), User.name)
        .outerjoin(User, User.id == Action.lead_officer_id)
        .where(in_plans, Action.created_at < cutoff).order_by(Action.id)
    ).all():
        states[action_id] = {"ref": ref, "text": action_text, "lead_officer_id": lead_id, "lead_text": lead_text,
                             "timescale_text": timescale_text, "due_end": due, "status": statuses[status],
                             "created_at": created_at, "last_update_at": last_update_at}
        if lead_id is not None:
            names[lead_id] = lead_name
    later = connection.execute(
        select(AuditEvent.entity_id, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.plan_id.in_(plan_ids), AuditEvent.at >= cutoff, AuditEvent.entity_type == "action",
               # Most are progress updates that replaced nothing ({}): left in the database, not decoded here.
               cast(AuditEvent.before, String) != "{}")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
    later = [(action_id, before, after) for action_id, before, after in later if before]
    # A progress update loaded with its own date (history brought in later) took effect on that date.
    update_ids = {after["progress_update_id"] for _a, _b, after in later if after and "progress_update_id" in after}
    earlier = set(connection.scalars(select(ProgressUpdate.id).where(
        ProgressUpdate.id.in_(update_ids), ProgressUpdate.created_at < cutoff))) if update_ids else set()
    for action_id, before, after in later:
        state = states.get(action_id)
        if state is None or (after and after.get("progress_update_id") in earlier):
            continue
        for key in _ROLLED_BACK:
            if key in before:
                value = before[key]
                if key == "due_end":
                    value = dt.date.fromisoformat(value) if value else None
                elif key == "status":
                    value = Status(value)
                state[key] = value
    # The leads an undone change brings back, if not already known.
    lead_ids = {state["lead_officer_id"] for state in states.values() if state["lead_officer_id"]} - set(names)
    if lead_ids:
        names.update(connection.execute(select(User.id, User.name).where(_ids_in(User.id, sorted(lead_ids)))).all())
    for state in states.values():
        state["lead_name"] = names.get(state["lead_officer_id"], "")
    return states


def _latest_moves(connection, plan_ids: Sequence[int], moved: Sequence[int],
                  cutoff: dt.datetime) -> dict[int, tuple[str, str, dt.date]]:
    """{action id: (reason, who, when)} for each action's latest due-date move before `cutoff`: from a
    progress update's revised timescale (read only for `moved`, the actions with such an update before
    `cutoff`) or a plan manager's edit."""
    moves: dict[int, tuple[dt.datetime, int, str, str]] = {}
    for action_id, at, update_id, reason, who in connection.execute(
        select(ProgressUpdate.action_id, ProgressUpdate.created_at, ProgressUpdate.id, ProgressUpdate.revision_reason,
               User.name)
        .outerjoin(User, User.id == ProgressUpdate.author_id)
        .where(_ids_in(ProgressUpdate.action_id, sorted(moved)), ProgressUpdate.created_at < cutoff,
               ProgressUpdate.revised_due_end.is_not(None))
    ).all() if moved else ():
        key = (timeutil.as_utc(at), 1, update_id)
        if action_id not in moves or key > moves[action_id][0]:
            moves[action_id] = (key, reason or "", who or "")
    for action_id, at, event_id, after, who in connection.execute(
        select(AuditEvent.entity_id, AuditEvent.at, AuditEvent.id, AuditEvent.after, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.plan_id.in_(plan_ids), AuditEvent.at < cutoff, AuditEvent.entity_type == "action",
               AuditEvent.verb == "update")
    ).all():
        if not after or "due_end" not in after or "progress_update_id" in after:
            continue
        key = (timeutil.as_utc(at), 0, event_id)
        if action_id not in moves or key > moves[action_id][0]:
            moves[action_id] = (key, after.get("revision_reason") or "", who or "")
    return {action_id: (reason, who, local_date(key[0])) for action_id, (key, reason, who) in moves.items()}


Baseline = dict[int, tuple[str | None, str | None]]


def _baseline(plan_ids: Sequence[int], quarter: FinancialQuarter, history: dict,
              actions: Sequence[ActionRow]) -> tuple[Baseline, str]:
    """What Changes compares with: the previous quarter's issued workbook, else the state at the quarter's
    start read from the progress-update history (an action with no earlier update counts as unchanged)."""
    if len(plan_ids) == 1:
        previous = db.session.scalar(
            select(IssuedWorkbook).where(IssuedWorkbook.plan_id == plan_ids[0],
                                         IssuedWorkbook.quarter == quarter.previous().label)
            .order_by(IssuedWorkbook.issued_at.desc()).limit(1))
        if previous is not None:
            snapshot = WorkbookData.from_json(previous.snapshot_json)
            baseline = {row.action_id: (row.status, row.due.isoformat() if row.due else None)
                        for row in snapshot.actions}
            return baseline, f"the {previous.quarter} workbook issued {timeutil.long_date(previous.as_at)}"
    at_start = history["at_start"]
    baseline = {
        row.action_id: (at_start.get(row.action_id, (None, None))[0] or row.status,
                        at_start.get(row.action_id, (None, None))[1])
        for row in actions if row.action_id not in history["created_in_quarter"]
    }
    return baseline, f"the start of {quarter.label} (from the progress-update history)"


def diff_changes(actions: Sequence[ActionRow], baseline: Baseline, moves: dict[int, int],
                 moved_in_period: set[int]) -> list[ChangeRow]:
    """New, completed, status moves and slipped dates since the baseline {action id: (status, due iso)}.

    A date counts as slipped when it is later than the baseline's, or, when the baseline has no date, when a
    progress update in the period revised it.
    """
    changes: list[ChangeRow] = []
    for row in actions:
        def change(kind: str, before: str, after: str) -> None:
            slip = kind == "Date slipped"
            changes.append(ChangeRow(row.action_id, row.ref, row.text, kind, before, after,
                                     moves.get(row.action_id, 0), reason=row.moved_reason if slip else "",
                                     moved_by=row.moved_by if slip else "",
                                     moved_on=row.moved_on if slip else None))

        if row.action_id not in baseline:
            change("New", "", Status(row.status).label)
            continue
        old_status, old_due = baseline[row.action_id]
        if old_status is not None and old_status != row.status:
            kind = "Completed" if row.status == Status.COMPLETE else "Status moved"
            change(kind, Status(old_status).label, Status(row.status).label)
        if old_due is not None:
            if row.due is not None and row.due > dt.date.fromisoformat(old_due):
                change("Date slipped", timeutil.long_date(dt.date.fromisoformat(old_due)),
                       timeutil.long_date(row.due))
        elif row.action_id in moved_in_period and row.due is not None:
            change("Date slipped", "the earlier timescale", timeutil.long_date(row.due))
    return changes


def _self_evaluation(partnership_id: int, framework: Framework,
                     as_at: dt.date) -> tuple[list[RatingRow], str, str]:
    rounds = db.session.scalars(
        select(SelfEvaluationRound)
        .where(SelfEvaluationRound.partnership_id == partnership_id,
               SelfEvaluationRound.completed_on.is_(None) | (SelfEvaluationRound.completed_on <= as_at),
               SelfEvaluationRound.framework_id == framework.id,
               SelfEvaluationRound.status.in_([RoundStatus.AGREED, RoundStatus.SUBMITTED]))
        .order_by(SelfEvaluationRound.completed_on.desc(), SelfEvaluationRound.id.desc())).all()
    if not rounds or not framework.levels:
        return [], "", ""
    current = rounds[0]
    previous = current.previous_round or (rounds[1] if len(rounds) > 1 else None)
    wanted = [current.id] + ([previous.id] if previous else [])
    levels: dict[tuple[int, int], int | None] = {
        (round_id, item_id): level for round_id, item_id, level in db.session.execute(
            select(Rating.round_id, Rating.item_id, Rating.level).where(Rating.round_id.in_(wanted)))
    }
    items = db.session.execute(
        select(FrameworkItem.id, FrameworkItem.number, FrameworkItem.title).join(Theme)
        .where(Theme.framework_id == framework.id).order_by(Theme.position, FrameworkItem.position)).all()

    def label(level: int | None) -> str:
        return framework.levels[level] if level is not None and 0 <= level < len(framework.levels) else "Not rated"

    rows = []
    for item_id, number, title in items:
        now = levels.get((current.id, item_id))
        before = levels.get((previous.id, item_id)) if previous else None
        if now is None:
            movement = ""
        elif before is None:
            movement = "New rating"
        else:
            movement = "Up" if now > before else "Down" if now < before else "Same"
        rows.append(RatingRow(number, title, label(now), label(before) if previous else "", movement))
    return rows, current.title, previous.title if previous else ""


# ---------------------------------------------------------------------------
# Issuing
# ---------------------------------------------------------------------------


def issue_key(plan: Plan, quarter: FinancialQuarter, meeting: Meeting | None) -> str:
    return f"plan {plan.id} meeting {meeting.id}" if meeting else f"plan {plan.id} quarter {quarter.label}"


def workbook_filename(plan_name: str, quarter: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{plan_name} {quarter}").strip("-")[:150]
    return f"{stem}.xlsx"


def issue_workbook(plan: Plan, quarter: FinancialQuarter, *, committee: Committee | None = None,
                   meeting: Meeting | None = None, actor_id: int | None = None,
                   as_at: dt.date | None = None) -> tuple[IssuedWorkbook, bool]:
    """Freeze and store the quarter's workbook; (workbook, True) if issued now, (existing, False) if it was."""
    key = issue_key(plan, quarter, meeting)
    existing = db.session.scalar(select(IssuedWorkbook).where(IssuedWorkbook.issue_key == key))
    if existing is not None:
        return existing, False
    data = workbook_data(plan, quarter, as_at=as_at, committee=committee, meeting=meeting)
    papers = build_set(data)  # the workbook, the PDF paper and the covering report, from one snapshot
    content = papers[0].content
    issued = IssuedWorkbook(
        plan_id=plan.id, committee_id=committee.id if committee else None, meeting_id=meeting.id if meeting else None,
        issue_key=key, quarter=quarter.label, as_at=data.as_at, filename=workbook_filename(plan.name, quarter.label),
        snapshot_json=data.to_json(), content=content, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), issued_by_id=actor_id,
    )
    issued.papers = [IssuedPaper(kind=paper.kind, filename=paper.filename, content=paper.content,
                                 size_bytes=len(paper.content), sha256=paper.sha256) for paper in papers[1:]]
    try:
        with db.session.begin_nested():
            db.session.add(issued)
    except IntegrityError:  # another process issued it a moment ago
        return db.session.scalar(select(IssuedWorkbook).where(IssuedWorkbook.issue_key == key)), False
    audit.record(user_id=actor_id, entity_type="issued_workbook", entity_id=issued.id, verb="issue",
                 partnership_id=plan.partnership_id, plan_id=plan.id,
                 after={"quarter": quarter.label, "meeting_id": issued.meeting_id, "sha256": issued.sha256,
                        **{f"{paper.kind}_sha256": paper.sha256 for paper in issued.papers}},
                 summary=f"Issued the {quarter.label} workbook for {plan.name}")
    return issued, True


def rebuild(issued: IssuedWorkbook) -> bytes:
    """The issued workbook rebuilt from its frozen snapshot (same figures, whatever changed since)."""
    return build_workbook(WorkbookData.from_json(issued.snapshot_json))


def papers_due(meeting: Meeting) -> dt.date:
    return working_days_before(meeting.held_on, meeting.committee.papers_due_working_days)


def quarter_for_meeting(meeting: Meeting) -> FinancialQuarter:
    """The last whole quarter before the papers are due."""
    return FinancialQuarter.containing(papers_due(meeting)).previous()


def due_issues(today: dt.date) -> list[tuple[Plan, FinancialQuarter, Committee | None, Meeting | None]]:
    """What should have been issued by today and has not: per meeting whose papers are due, and per plan
    with no meeting this quarter or later, at the end of each quarter."""
    issued_keys = set(db.session.scalars(select(IssuedWorkbook.issue_key)))
    wanted = []
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.held_on > today)  # a meeting held today or earlier is missed, not issued
        .options(selectinload(Meeting.committee).selectinload(Committee.plans))).all()
    for meeting in meetings:
        if papers_due(meeting) > today:
            continue
        quarter = quarter_for_meeting(meeting)
        for plan in meeting.committee.plans:
            if plan.archived_at is None and issue_key(plan, quarter, meeting) not in issued_keys:
                wanted.append((plan, quarter, meeting.committee, meeting))
    ended = FinancialQuarter.containing(today).previous()
    with_meetings = (select(committee_plans.c.plan_id).join(Meeting, Meeting.committee_id ==
                                                             committee_plans.c.committee_id)
                     .where(Meeting.held_on >= FinancialQuarter.containing(today).start))
    plans = db.session.scalars(select(Plan).where(
        Plan.archived_at.is_(None), Plan.id.not_in(with_meetings),
        Plan.created_at < _start_of(ended.end + dt.timedelta(days=1)))).all()
    for plan in plans:
        if issue_key(plan, ended, None) not in issued_keys:
            wanted.append((plan, ended, None, None))
    return wanted


#: How far back a late start looks for meetings whose papers were missed.
MISSED_LOOKBACK_DAYS = 31


def missed_meetings(today: dt.date) -> list[tuple[Plan, Meeting]]:
    """(plan, meeting) for each recent meeting already held (or being held today) whose papers were never issued
    and whose plan manager has not yet been told."""
    issued_keys = set(db.session.scalars(select(IssuedWorkbook.issue_key)))
    told = set(db.session.execute(
        select(AuditEvent.plan_id, AuditEvent.entity_id).where(AuditEvent.entity_type == "missed_papers")).all())
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.held_on <= today,
                              Meeting.held_on > today - dt.timedelta(days=MISSED_LOOKBACK_DAYS))
        .options(selectinload(Meeting.committee).selectinload(Committee.plans)).order_by(Meeting.held_on)).all()
    missed = []
    for meeting in meetings:
        quarter = quarter_for_meeting(meeting)
        for plan in meeting.committee.plans:
            if (plan.archived_at is None and issue_key(plan, quarter, meeting) not in issued_keys
                    and (plan.id, meeting.id) not in told):
                missed.append((plan, meeting))
    return missed


def record_missed(plan: Plan, meeting: Meeting) -> None:
    """Remember that the papers were missed (so the manager is told once) and queue the plan manager's e-mail
    in the outbox, in the same transaction."""
    from tracker.outbox import services as outbox

    audit.record(user_id=None, entity_type="missed_papers", entity_id=meeting.id, verb="missed",
                 partnership_id=plan.partnership_id, plan_id=plan.id,
                 after={"meeting_id": meeting.id, "held_on": meeting.held_on.isoformat()},
                 summary=f"Papers for {plan.name} were not issued before the meeting on "
                         f"{timeutil.long_date(meeting.held_on)}")
    manager = plan.manager
    if manager is None or not manager.active or not manager.email:
        return
    outbox.enqueue(
        kind="papers_missed", key=f"missed:{meeting.id}:{plan.id}", to=manager.email, to_name=manager.name,
        user_id=manager.id, subject=f"Papers not issued: {plan.name}, {meeting.committee.name} on {timeutil.long_date(meeting.held_on)}",
        body=f"Dear {manager.name},\n\nThe papers for {plan.name} were not issued before the "
             f"{meeting.committee.name} met on {timeutil.long_date(meeting.held_on)}: the tracker's scheduled "
             "work was not running when they were due. They have not been issued afterwards.\n\n"
             "If the committee still needs them, build them from the plan's page and send them yourself.\n")


def issue_due_workbooks(today: dt.date | None = None) -> list[IssuedWorkbook]:
    """Scheduled job: issue each set of papers that is due, commit, then e-mail members a link.

    Idempotent: papers are never issued twice for the same meeting (or plan and quarter). Papers for a meeting
    already held are never issued: the plan manager is told, once.
    """
    today = today or timeutil.today()
    issued = []
    for plan, quarter, committee, meeting in due_issues(today):
        workbook, created = issue_workbook(plan, quarter, committee=committee, meeting=meeting,
                                           as_at=min(today, meeting.held_on) if meeting else None)
        if created:
            issued.append(workbook)
    for plan, meeting in missed_meetings(today):
        record_missed(plan, meeting)
    notify(issued)  # queues the e-mails in the transaction that issued the workbooks, and commits
    return issued


def notify(issued: Sequence[IssuedWorkbook]) -> None:
    """Queue an e-mail with a link for each issued workbook's recipients in the outbox (sent by the
    scheduler within a minute, once each: the key is the workbook), and commit."""
    from tracker.outbox import services as outbox

    for workbook in issued:
        for user, message in zip(recipients(workbook), issue_messages(workbook), strict=True):
            outbox.enqueue(kind="papers_issued", key=f"workbook:{workbook.id}", to=user.email, to_name=user.name,
                           subject=str(message["Subject"]), body=message.get_payload(decode=True).decode("utf-8"),
                           user_id=user.id)
    db.session.commit()


def recipients(workbook: IssuedWorkbook) -> list[User]:
    if workbook.committee is not None:
        users = [m.user for m in workbook.committee.members]
    else:
        users = [workbook.plan.manager] if workbook.plan.manager else []
    return [u for u in users if u.active and u.email]


external_url = links.external_url


def issue_messages(workbook: IssuedWorkbook) -> list:
    link = external_url("workbooks.paper_set", workbook_id=workbook.id)
    who = workbook.committee.name if workbook.committee else workbook.plan.name
    when = f" for the meeting on {timeutil.long_date(workbook.meeting.held_on)}" if workbook.meeting else ""
    subject = f"Papers: {workbook.plan.name} progress {workbook.quarter}"
    return [
        build_message(to=user.email, to_name=user.name, subject=subject, body=
                      f"Dear {user.name},\n\nThe {workbook.quarter} progress papers for {workbook.plan.name} (the "
                      f"workbook, the paper as PDF and the covering report) have been issued to {who}{when}.\n\n"
                      f"Open them (sign in first): {link}\n\n"
                      f"Figures are as at {timeutil.long_date(workbook.as_at)} and will not change.\n")
        for user in recipients(workbook)
    ]


def find_plan(id_or_name: str) -> Plan:
    """A plan by id or exact name (for the command line)."""
    plan = db.session.get(Plan, parse_id(id_or_name)) if parse_id(id_or_name) else None
    if plan is None:
        matches = db.session.scalars(select(Plan).where(Plan.name == id_or_name)).all()
        if len(matches) > 1:
            raise LookupError(f"More than one plan is called {id_or_name!r}; give its id.")
        plan = matches[0] if matches else None
    if plan is None:
        raise LookupError(f"No plan {id_or_name!r}. `flask --app tracker plans list` shows them.")
    return plan


def issued_for_committee(committee: Committee) -> list[IssuedWorkbook]:
    return db.session.scalars(
        select(IssuedWorkbook).where(IssuedWorkbook.committee_id == committee.id)
        .options(selectinload(IssuedWorkbook.plan), selectinload(IssuedWorkbook.meeting))
        .order_by(IssuedWorkbook.issued_at.desc())).all()

