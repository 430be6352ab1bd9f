"""The one outbox for every e-mail: `enqueue` in the deciding transaction, `deliver_pending` after the commit.

`enqueue` only adds and flushes a row of the send log (tracker.reminders.sendlog: table reminder_sends with
its bodies in reminder_messages) with its unique key (recipient, kind, key): the caller's commit makes the
message real, a rollback forgets it, and the same key twice is one message. Reminders are written there
by `sendlog.record`. Delivery (`deliver_pending`, `sendlog.deliver`) is the scheduler's job every minute,
or `flask outbox send`, never a web request: see tracker.reminders.sendlog for the states and guarantees.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, insert, select, update

from tracker.errors import Conflict, NotAllowed, NotFound
from tracker.extensions import db
from tracker.reminders import sendlog
from tracker.reminders.models import ReminderSend, SendStatus
from tracker.text import line
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.outbox")

#: The kinds of e-mail, as `outbox status` names them.
KINDS = {
    "digest": "Digests of actions due and overdue",
    "update_request": "Update requests before meetings",
    "escalation": "Escalations of long-overdue actions",
    "indicator_values": "Indicator values due",
    "papers_issued": "Papers (workbooks) issued",
    "papers_missed": "Papers not issued before a meeting (to the plan manager)",
    "password_reset": "Password reset links",
    "welcome": "Welcome e-mails to new accounts",
    "risk_review": "Risks due for review (to their owners)",
}
MAX_ATTEMPTS = sendlog.MAX_ATTEMPTS


def header_safe(name: str | None) -> str | None:
    """A display name for a mail header: control characters (CR and LF included) become spaces."""
    cleaned = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", name or "").split())
    return cleaned[:200] or None


def enqueue(*, kind: str, key: str, to: str, subject: str, body: str, html: str | None = None,
            to_name: str | None = None, user_id: int | None = None) -> int | None:
    """Queue one e-mail in the current transaction (flushed, not committed). `key` makes it unique within
    its kind for this recipient (e.g. "workbook:7"). Returns the new row's id; a second enqueue with the same
    key queues nothing and returns None."""
    if kind not in KINDS:
        raise ValueError(f"Unknown e-mail kind {kind!r}")
    address = line(to, field="to", label="The email address", max_length=254, required=True).strip().lower()
    subject = line(subject, field="subject", label="The subject", max_length=300, required=True)
    key = key[:40]
    now = utcnow()
    inserted = db.session.execute(sendlog._insert_ignoring_duplicates().returning(sendlog.SENDS.c.id), [{
        "recipient": address, "kind": kind, "period": key, "user_id": user_id,
        "recipient_name": header_safe(to_name) or "", "subject": subject, "status": SendStatus.PENDING,
        "attempts": 0, "created_at": now}]).scalar()
    if inserted is None:
        return None  # already queued (or sent) under this key
    db.session.execute(insert(sendlog.MESSAGES), [{"send_id": inserted, "body_text": body, "body_html": html or ""}])
    return inserted


def deliver_pending(app: Flask | None = None) -> int:
    """Send what the outbox holds; returns how many were sent (or kept, with MAIL_SUPPRESS_SEND)."""
    if app is not None:
        with app.app_context():
            return deliver_pending()
    db.session.commit()  # nothing of the caller's stays open while sending
    report = sendlog.deliver()
    return report.sent + report.suppressed


def scheduled_send() -> None:
    """The scheduler's job (every minute): deliver every kind of queued e-mail."""
    report = sendlog.deliver()
    if report.sent or report.failed or report.uncertain:
        log.info("Outbox: %s sent, %s refused, %s uncertain.", report.sent, report.failed, report.uncertain)
    if report.unavailable:
        raise RuntimeError(f"The mail server could not be used: {report.errors[-1]}")


def counts() -> dict[str, dict[SendStatus, int]]:
    """{kind: {status: rows}} for every kind, zeros included."""
    found = {kind: {status: 0 for status in SendStatus} for kind in KINDS}
    for kind, status, n in db.session.execute(
            select(ReminderSend.kind, ReminderSend.status, func.count()).group_by(ReminderSend.kind,
                                                                                    ReminderSend.status)):
        found.setdefault(kind, {s: 0 for s in SendStatus})[status] = n
    return found


def queued_to(address: str) -> list[tuple[ReminderSend, str]]:
    """(row, text body) of every e-mail queued or sent to `address`, oldest first (for pages and tests)."""
    rows = db.session.scalars(select(ReminderSend).where(ReminderSend.recipient == address.strip().lower())
                              .order_by(ReminderSend.id))
    return [(row, db.session.scalar(select(sendlog.MESSAGES.c.body_text).where(sendlog.MESSAGES.c.send_id == row.id))
             or "") for row in rows]


def needing_a_person(limit: int = 50) -> list[ReminderSend]:
    """Uncertain messages, and failed ones given up, newest first: for a person to look at."""
    return list(db.session.scalars(
        select(ReminderSend).where(needs_a_person())
        .order_by(ReminderSend.id.desc()).limit(limit)))


def needs_a_person():
    """The condition of `needing_a_person`: uncertain, or failed with every attempt used."""
    return ((ReminderSend.status == SendStatus.UNCERTAIN)
            | ((ReminderSend.status == SendStatus.FAILED) & (ReminderSend.attempts >= MAX_ATTEMPTS)))


@dataclass
class Health:
    """What the outbox page shows: counts per kind and state, and when e-mail last went."""

    counts: dict[str, dict[SendStatus, int]]
    needing_a_person: int
    last_sent_at: dt.datetime | None
    last_queued_at: dt.datetime | None
    scheduler_beat_at: dt.datetime | None
    scheduler_last_job_error: str | None


def health() -> Health:
    """The outbox's state for the administrators' page: four small queries."""
    from tracker.scheduler.heartbeat import HEARTBEAT_ID
    from tracker.scheduler.models import SchedulerHeartbeat

    last_sent, last_queued = db.session.execute(
        select(func.max(ReminderSend.sent_at), func.max(ReminderSend.created_at))).one()
    waiting = db.session.scalar(select(func.count()).select_from(ReminderSend).where(needs_a_person()))
    beat = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    return Health(counts=counts(), needing_a_person=waiting or 0, last_sent_at=last_sent,
                  last_queued_at=last_queued, scheduler_beat_at=beat.beat_at if beat else None,
                  scheduler_last_job_error=beat.last_job_error if beat else None)


def can_resend(actor) -> bool:
    """Only site administrators see and re-send the outbox: it holds every partnership's e-mail."""
    return actor is not None and bool(getattr(actor, "is_admin", False)) and bool(getattr(actor, "active", True))


def resendable(send_id: int, *, actor=None) -> ReminderSend:
    """The failed or uncertain message `send_id` (for the confirmation page); refuses like `resend`."""
    if actor is not None and not can_resend(actor):
        raise NotAllowed("Only site administrators can re-send e-mails.")
    row = db.session.get(ReminderSend, send_id) if 0 < send_id < 2**31 else None
    if row is None:
        raise NotFound(f"There is no e-mail #{send_id}.")
    if row.status not in RESENDABLE:
        raise Conflict(f"E-mail #{send_id} is {STATE_WORDS.get(row.status, row.status.value)}: only a failed or "
                       "uncertain e-mail can be re-sent.")
    return row


#: The states a person may put back in the queue, and how a refusal names the others.
RESENDABLE = (SendStatus.FAILED, SendStatus.UNCERTAIN)
STATE_WORDS = {
    SendStatus.PENDING: "already waiting to be sent", SendStatus.IN_FLIGHT: "being sent right now",
    SendStatus.SENT: "already sent", SendStatus.SUPPRESSED: "kept, not sent (sending is switched off)",
}


def resend(send_id: int, *, actor=None) -> ReminderSend:
    """Put one failed or uncertain message back in the queue, deliberately (an uncertain one may then
    arrive twice): failed or uncertain -> pending, attempts from zero; audited. Flushed, not committed.

    `actor` is the person (a site administrator) on the web page; None is the operator at the command line.
    The change is one conditional UPDATE, so two people re-sending the same message at once queue it once.
    """
    from tracker.audit import services as audit

    row = resendable(send_id, actor=actor)
    before = {"status": row.status.value, "attempts": row.attempts, "last_error": row.last_error}
    changed = db.session.execute(
        update(ReminderSend).where(ReminderSend.id == row.id, ReminderSend.status.in_(RESENDABLE))
        .values(status=SendStatus.PENDING, attempts=0, claim_token=None, claimed_at=None, next_attempt_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict(f"E-mail #{send_id} was re-sent by someone else a moment ago.")
    db.session.refresh(row)
    audit.record(user_id=getattr(actor, "id", None), entity_type="reminder_send", entity_id=row.id, verb="retry",
                 before=before, after={"status": row.status.value, "attempts": 0},
                 summary=f"Re-sent e-mail #{row.id} ({KINDS.get(row.kind, row.kind)}) to {row.recipient}")
    db.session.flush()
    return row
