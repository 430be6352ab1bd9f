"""What reminders are due on a given day, worked out from the database alone.

Every reminder has a key (recipient, kind, period). The period names the day, the ISO week or
the meeting it belongs to, so the send log (tracker.reminders.sendlog) can make sure each key
is sent once; and because the content is derived from the current state of the actions, a run
that was missed (downtime, a bank holiday) is simply caught up by the next one.

Cadence:
* Digest (kind "digest"): each lead officer's overdue actions and those due within
  REMINDER_DUE_SOON_DAYS, plus, for plan managers, actions that "need a lead" (no lead, or a
  lead who cannot be e-mailed). Officers choose daily (period "day:<date>"), weekly or off
  (period "week:<ISO week>", sent on the week's first working-day run; "off" leaves out
  due-soon items, so overdue ones still come weekly).
* Update request (kind "update_request", period "meeting:<id>"): from REMINDER_UPDATE_REQUEST_DAYS
  before a committee meeting until the day before it, each lead officer with an open action on
  one of the committee's plans and no update since the committee's previous meeting.
* Escalation (kind "escalation", period "week:<ISO week>"): actions overdue by more than
  REMINDER_ESCALATION_DAYS, to each plan's manager and, if set, the partnership's chief officer.
Nothing is sent on weekends or Scottish bank holidays.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict, namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.committees.models import Committee, Meeting, committee_plans
from tracker import links
from tracker.extensions import db
from tracker.indicators.services import due_indicator_values, value_due_on
from tracker.periods import is_working_day, working_days_before
from tracker.plans.models import Action, Plan, ProgressUpdate
from tracker.plans.narratives import corrected_sql, marked, shown_sql
from tracker.rag import OPEN_STATUSES, derive
from tracker.reminders.models import (
    DueSoonFrequency,
    PartnershipReminderSettings,
    ReminderPreference,
    ReminderSend,
)
from tracker.timeutil import local_date, long_date

log = logging.getLogger("tracker.reminders")

DIGEST, UPDATE_REQUEST, ESCALATION = "digest", "update_request", "escalation"
INDICATOR_VALUES = "indicator_values"
#: Characters of the latest progress update quoted in an e-mail, and of an action's text.
UPDATE_EXCERPT = 300
TEXT_LENGTH = 200


class ActionLine(NamedTuple):
    """One action as an e-mail lists it, formatted once for both the text and the HTML part
    (a named tuple: thousands are made per run)."""

    id: int
    ref: str
    text: str  # shortened to TEXT_LENGTH
    plan_name: str
    due: str  # "31 October 2026"
    status: str  # "On track": the officer's own status, labelled "Status"
    rag_reason: str  # "Red: 23 days past due 31 October 2026": derived, labelled "RAG"
    lead: str
    last_update: str  # "1 September 2026: Draft with the chief officer." or "none yet"
    url: str
    overdue: bool


@dataclass
class Reminder:
    """An e-mail that is due: who, which key, and what to render."""

    recipient: str
    recipient_name: str
    user_id: int | None
    kind: str
    period: str
    template: str
    subject: str
    context: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.recipient, self.kind, self.period)

    def render(self) -> tuple[str, str]:
        """(plain text, HTML) from templates/email/<template>.txt and .html."""
        env = current_app.jinja_env
        context = {"reminder": self, "base_url": current_app.config["BASE_URL"].rstrip("/"), **self.context}
        return (env.get_template(f"email/{self.template}.txt").render(context),
                env.get_template(f"email/{self.template}.html").render(context))


def day_period(today: dt.date) -> str:
    return f"day:{today.isoformat()}"


def week_period(today: dt.date) -> str:
    year, week, _ = today.isocalendar()
    return f"week:{year}-W{week:02d}"


def normalise_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def action_url(action_id: int, base_url: str | None = None) -> str:
    """The action's page under BASE_URL."""
    return links.action_url(action_id, external=True, base_url=base_url)


def action_urls(base_url: str | None = None) -> Callable[[int], str]:
    """`action_url` for the thousands of actions of a run: the URL map builds one address, and each action's
    id takes the place of the one it was built with (the rule's int converter writes an id as it is)."""
    probe = 2**31 - 1
    head, found, tail = action_url(probe, base_url).rpartition(str(probe))
    if not found:  # pragma: no cover - a rule that does not show the id: build each address
        return lambda action_id: action_url(action_id, base_url)
    return lambda action_id: f"{head}{action_id}{tail}"


def due_reminders(today: dt.date) -> list[Reminder]:
    """Everything due on `today`, before checking the send log; nothing on non-working days."""
    if not is_working_day(today):
        return []
    return [*digests(today), *update_requests(today), *escalations(today), *indicator_requests(today)]


def unsent(reminders: list[Reminder]) -> list[Reminder]:
    """Leave out reminders whose key is already in the send log (one query)."""
    if not reminders:
        return []
    periods = {r.period for r in reminders}
    logged = {tuple(row) for row in db.session.execute(
        select(ReminderSend.recipient, ReminderSend.kind, ReminderSend.period)
        .where(ReminderSend.period.in_(periods))
    )}
    return [r for r in reminders if r.key not in logged]


# ---------------------------------------------------------------------------------------- queries


#: Core tables: the run reads thousands of rows, and Core rows skip the ORM's per-row loading (about
#: three times faster here).
ACTIONS, PLANS, USERS = Action.__table__, Plan.__table__, User.__table__
LEADS, MANAGERS = USERS.alias("lead"), USERS.alias("manager")


def _open_actions():
    """Open actions on live plans; callers add their own conditions."""
    return ACTIONS.c.status.in_(OPEN_STATUSES), PLANS.c.archived_at.is_(None)


def _latest_narratives(*conditions) -> dict[int, tuple[str, bool]]:
    """{action id: (narrative as corrected, corrected?)} of the latest update of the matching actions: one query.

    The latest update is the one made at the action's last_update_at (which record_progress keeps),
    found through the (action_id, created_at) index.
    """
    rows = db.session.execute(
        select(ProgressUpdate.action_id, shown_sql(), corrected_sql())
        .join(ACTIONS, (ProgressUpdate.action_id == ACTIONS.c.id)
              & (ProgressUpdate.created_at == ACTIONS.c.last_update_at))
        .join(PLANS, ACTIONS.c.plan_id == PLANS.c.id)
        .where(*conditions)
    )
    return {action_id: (text, bool(corrected)) for action_id, text, corrected in rows}


_ACTION_COLUMNS = (
    ACTIONS.c.id, ACTIONS.c.ref, ACTIONS.c.text, ACTIONS.c.status, ACTIONS.c.due_end, ACTIONS.c.created_at,
    ACTIONS.c.last_update_at, ACTIONS.c.lead_text, PLANS.c.id.label("plan_id"), PLANS.c.name.label("plan_name"),
    PLANS.c.partnership_id,
    LEADS.c.id.label("lead_id"), LEADS.c.email.label("lead_email"), LEADS.c.name.label("lead_name"),
    LEADS.c.active.label("lead_active"),
    MANAGERS.c.id.label("manager_id"), MANAGERS.c.email.label("manager_email"),
    MANAGERS.c.name.label("manager_name"), MANAGERS.c.active.label("manager_active"),
)


#: One row of `_action_rows`: a named tuple, as reading a field of a database row by name costs far more.
ActionRow = namedtuple("ActionRow", [column.key for column in _ACTION_COLUMNS])


def _action_rows(*conditions) -> list[ActionRow]:
    """Actions with their plan, lead and plan manager, as plain rows: one query."""
    result = db.session.execute(
        select(*_ACTION_COLUMNS)
        .select_from(ACTIONS.join(PLANS, ACTIONS.c.plan_id == PLANS.c.id)
                     .outerjoin(LEADS, ACTIONS.c.lead_officer_id == LEADS.c.id)
                     .outerjoin(MANAGERS, PLANS.c.manager_id == MANAGERS.c.id))
        .where(*conditions)
        .order_by(ACTIONS.c.due_end, PLANS.c.name, ACTIONS.c.ref)
    )
    return list(map(ActionRow._make, result))


def _reachable(email: str | None, active: bool | None) -> str | None:
    return normalise_email(email) if active else None


def _shorten(text: str, length: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=65_536)
def _rag_text(status, due: dt.date | None, updated_on: dt.date | None, today: dt.date,
              created: dt.date | None) -> str:
    """tracker.rag's verdict as text; cached, as many actions share a due date and a creation date."""
    return derive(status, due, updated_on, today, created=created).text


_long_date = lru_cache(maxsize=4096)(long_date)


def _status_label(status) -> str:
    return status.label if hasattr(status, "label") else str(status)


def _line(row, today: dt.date, narratives: dict[int, tuple[str, bool]], url_of: Callable[[int], str]) -> ActionLine:
    updated_on = local_date(row.last_update_at)
    rag_reason = _rag_text(row.status, row.due_end, updated_on, today, local_date(row.created_at))
    if row.lead_id is None:
        lead = f"No lead ({row.lead_text})" if row.lead_text else "No lead"
    elif not _reachable(row.lead_email, row.lead_active):
        lead = f"{row.lead_name} (cannot be e-mailed)"
    else:
        lead = row.lead_name
    if updated_on is None:
        last_update = "none yet"
    else:
        narrative, corrected = narratives.get(row.id, ("", False))
        narrative = marked(_shorten(narrative, UPDATE_EXCERPT), corrected)
        last_update = f"{_long_date(updated_on)}: {narrative}" if narrative else _long_date(updated_on)
    return ActionLine(
        id=row.id, ref=row.ref, text=_shorten(row.text, TEXT_LENGTH), plan_name=row.plan_name,
        due=_long_date(row.due_end) if row.due_end else "no date", status=_status_label(row.status),
        rag_reason=rag_reason, lead=lead,
        last_update=last_update, url=url_of(row.id),
        overdue=row.due_end is not None and row.due_end < today,
    )


# ---------------------------------------------------------------------------------------- digests


@dataclass
class _Digest:
    email: str
    name: str
    user_id: int
    overdue: list[ActionLine] = field(default_factory=list)
    due_soon: list[ActionLine] = field(default_factory=list)
    needs_lead: list[ActionLine] = field(default_factory=list)


def digests(today: dt.date) -> list[Reminder]:
    """One digest per officer: overdue and due-soon actions they lead, and, for plan managers,
    those that need a lead. Queries: actions, latest updates, preferences."""
    horizon = today + dt.timedelta(days=current_app.config["REMINDER_DUE_SOON_DAYS"])
    conditions = (*_open_actions(), ACTIONS.c.due_end.is_not(None), ACTIONS.c.due_end <= horizon)
    rows = _action_rows(*conditions)
    narratives = _latest_narratives(*conditions)
    preferences = dict(db.session.execute(select(ReminderPreference.user_id, ReminderPreference.due_soon)).all())
    url_of = action_urls(current_app.config["BASE_URL"])

    by_user: dict[int, _Digest] = {}
    for row in rows:
        line = _line(row, today, narratives, url_of)
        lead_email = _reachable(row.lead_email, row.lead_active)
        if lead_email:
            digest = by_user.get(row.lead_id)
            if digest is None:
                digest = by_user[row.lead_id] = _Digest(lead_email, row.lead_name, row.lead_id)
            (digest.overdue if line.overdue else digest.due_soon).append(line)
            continue
        manager_email = _reachable(row.manager_email, row.manager_active)
        if manager_email is None:
            log.warning("Action %s (%s) needs a lead, and plan %r has no manager who can be e-mailed.",
                        row.id, row.ref, row.plan_name)
            continue
        digest = by_user.get(row.manager_id)
        if digest is None:
            digest = by_user[row.manager_id] = _Digest(manager_email, row.manager_name, row.manager_id)
        digest.needs_lead.append(line)

    reminders = []
    for user_id, digest in by_user.items():
        frequency = preferences.get(user_id, DueSoonFrequency.DAILY)
        if frequency is DueSoonFrequency.OFF:
            digest.due_soon = []
            digest.needs_lead = [line for line in digest.needs_lead if line.overdue]
        if not (digest.overdue or digest.due_soon or digest.needs_lead):
            continue
        reminders.append(_digest_reminder(digest, frequency, today))
    return reminders


def _digest_reminder(digest: _Digest, frequency: DueSoonFrequency, today: dt.date) -> Reminder:
    daily = frequency is DueSoonFrequency.DAILY
    parts = []
    if digest.overdue:
        parts.append(f"{len(digest.overdue)} overdue")
    if digest.due_soon:
        parts.append(f"{len(digest.due_soon)} due soon")
    if digest.needs_lead:
        count = len(digest.needs_lead)
        parts.append(f"{count} need{'s' if count == 1 else ''} a lead")
    summary = ", ".join(parts)
    heading = "Your actions" if daily else "Your actions this week"
    return Reminder(
        recipient=digest.email, recipient_name=digest.name, user_id=digest.user_id, kind=DIGEST,
        period=day_period(today) if daily else week_period(today), template="digest",
        subject=f"{heading}: {summary}",
        context={"digest": digest, "today": today, "frequency": frequency,
                 "my_actions_url": links.external_url("plans.my_actions"),
                 "due_soon_days": current_app.config["REMINDER_DUE_SOON_DAYS"]},
    )


# -------------------------------------------------------------------------------- update requests


def update_requests(today: dt.date) -> list[Reminder]:
    """Before each committee meeting, ask each lead officer with a stale open action for an update.

    Queries: meetings in the window (with the committee's previous meeting), then their actions.
    """
    days = current_app.config["REMINDER_UPDATE_REQUEST_DAYS"]
    Earlier = aliased(Meeting)
    previous_held_on = (
        select(func.max(Earlier.held_on))
        .where(Earlier.committee_id == Meeting.committee_id, Earlier.held_on < Meeting.held_on)
        .scalar_subquery()
    )
    meetings = db.session.execute(
        select(Meeting.id, Meeting.held_on, Meeting.title, Committee.id.label("committee_id"),
               Committee.name.label("committee_name"), Committee.papers_due_working_days,
               previous_held_on.label("previous_held_on"))
        .join(Committee, Meeting.committee_id == Committee.id)
        .where(Meeting.held_on > today, Meeting.held_on <= today + dt.timedelta(days=days))
    ).all()
    if not meetings:
        return []
    committee_ids = {m.committee_id for m in meetings}
    rows = db.session.execute(
        select(committee_plans.c.committee_id, *_ACTION_COLUMNS)
        .select_from(committee_plans.join(PLANS, committee_plans.c.plan_id == PLANS.c.id)
                     .join(ACTIONS, ACTIONS.c.plan_id == PLANS.c.id)
                     .join(LEADS, ACTIONS.c.lead_officer_id == LEADS.c.id)
                     .outerjoin(MANAGERS, PLANS.c.manager_id == MANAGERS.c.id))
        .where(committee_plans.c.committee_id.in_(committee_ids), *_open_actions(),
               LEADS.c.email.is_not(None), LEADS.c.active.is_(True))
        .order_by(PLANS.c.name, ACTIONS.c.ref)
    ).all()
    by_committee = defaultdict(list)
    for row in rows:
        by_committee[row.committee_id].append(row)

    reminders = []
    url_of = action_urls(current_app.config["BASE_URL"])
    for meeting in sorted(meetings, key=lambda m: (m.held_on, m.id)):
        per_lead: dict[int, list] = defaultdict(list)
        for row in by_committee[meeting.committee_id]:
            updated_on = local_date(row.last_update_at)
            stale = updated_on is None or (
                meeting.previous_held_on is not None and updated_on < meeting.previous_held_on)
            if stale:
                per_lead[row.lead_id].append(row)
        papers_due = working_days_before(meeting.held_on, meeting.papers_due_working_days)
        if papers_due < today:  # never name a date that has passed: ask for the update as soon as possible
            papers_due = None
        for lead_rows in per_lead.values():
            first = lead_rows[0]
            lines = [_line(row, today, {}, url_of) for row in lead_rows]
            reminders.append(Reminder(
                recipient=normalise_email(first.lead_email), recipient_name=first.lead_name,
                user_id=first.lead_id, kind=UPDATE_REQUEST, period=f"meeting:{meeting.id}",
                template="update_request",
                subject=f"Update needed for the {meeting.committee_name} on {long_date(meeting.held_on)}",
                context={"meeting": meeting, "papers_due": papers_due, "actions": lines, "today": today},
            ))
    return reminders


# ------------------------------------------------------------------------------------ escalations


def escalations(today: dt.date) -> list[Reminder]:
    """Weekly: actions overdue by more than REMINDER_ESCALATION_DAYS, to each plan manager and,
    where one is set, the partnership's chief officer. Queries: actions, latest updates, settings."""
    days = current_app.config["REMINDER_ESCALATION_DAYS"]
    conditions = (*_open_actions(), ACTIONS.c.due_end < today - dt.timedelta(days=days))
    rows = _action_rows(*conditions)
    if not rows:
        return []
    narratives = _latest_narratives(*conditions)
    chief_officers = dict(db.session.execute(
        select(PartnershipReminderSettings.partnership_id, PartnershipReminderSettings.chief_officer_email)
        .where(PartnershipReminderSettings.chief_officer_email.is_not(None))
    ).all())

    recipients: dict[str, dict] = {}
    url_of = action_urls(current_app.config["BASE_URL"])
    for row in rows:
        line = _line(row, today, narratives, url_of)
        manager_email = _reachable(row.manager_email, row.manager_active)
        targets = []
        if manager_email:
            targets.append((manager_email, row.manager_name, row.manager_id))
        else:
            log.warning("Plan %r has no manager who can be e-mailed: escalation of %s goes only to the "
                        "chief officer, if one is set.", row.plan_name, row.ref)
        chief = normalise_email(chief_officers.get(row.partnership_id))
        if chief and chief != manager_email:
            targets.append((chief, "", None))
        for email, name, user_id in targets:
            entry = recipients.get(email)
            if entry is None:
                entry = recipients[email] = {"name": name, "user_id": user_id, "plans": defaultdict(list)}
            entry["plans"][row.plan_name].append(line)

    reminders = []
    for email, entry in recipients.items():
        count = sum(len(lines) for lines in entry["plans"].values())
        reminders.append(Reminder(
            recipient=email, recipient_name=entry["name"], user_id=entry["user_id"], kind=ESCALATION,
            period=week_period(today), template="escalation",
            subject=f"Escalation: {count} action{'s' if count != 1 else ''} overdue by more than {days} days",
            context={"plans": dict(sorted(entry["plans"].items())), "days": days, "today": today},
        ))
    return reminders


class IndicatorLine(NamedTuple):
    """One missing indicator value, as a reminder lists it."""

    name: str
    plan_name: str
    period: str  # "Q2 2026/27"
    due: str  # "28 October 2026"
    url: str


def indicator_requests(today: dt.date) -> list[Reminder]:
    """Weekly: each responsible officer (or plan manager) is asked for indicator values due and not entered."""
    base_url = current_app.config["BASE_URL"].rstrip("/")
    recipients: dict[str, dict] = {}
    for officer, indicator, period in due_indicator_values(today):
        email = _reachable(officer.email, officer.active)
        if email is None:
            continue
        entry = recipients.setdefault(email, {"name": officer.name, "user_id": officer.id, "lines": []})
        entry["lines"].append(IndicatorLine(
            name=indicator.name, plan_name=indicator.plan.name, period=period.label,
            due=long_date(value_due_on(period)),
            url=f"{base_url}/indicators/{indicator.id}/values/{period.start.isoformat()}",
        ))
    return [
        Reminder(
            recipient=email, recipient_name=entry["name"], user_id=entry["user_id"], kind=INDICATOR_VALUES,
            period=week_period(today), template="indicator_values",
            subject=f"Indicator values due: {len(entry['lines'])} to enter",
            context={"lines": entry["lines"], "today": today},
        )
        for email, entry in recipients.items()
    ]
