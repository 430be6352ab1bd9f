"""The one outbox for every e-mail: `enqueue` in the deciding transaction, `deliver_pending` after the commit.

`enqueue` only adds and flushes a row of the send log (tracker.reminders.sendlog: table reminder_sends with
its bodies in reminder_messages) with its unique key (recipient, kind, key): the caller's commit makes the
message real, a rollback forgets it, and the same key twice is one message. Reminders are written there
by `sendlog.record`. Delivery (`deliver_pending`, `sendlog.deliver`) is the scheduler's job every minute,
or `flask outbox send`, never a web request: see tracker.reminders.sendlog for the states and guarantees.
"""
from __future__ import annotations

import logging
import re

from flask import Flask
from sqlalchemy import func, insert, select

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
        select(ReminderSend).where(
            (ReminderSend.status == SendStatus.UNCERTAIN)
            | ((ReminderSend.status == SendStatus.FAILED) & (ReminderSend.attempts >= MAX_ATTEMPTS)))
        .order_by(ReminderSend.id.desc()).limit(limit)))


def resend(send_id: int) -> ReminderSend:
    """Put one failed or uncertain message back in the queue, deliberately (an uncertain one may then
    arrive twice); audited. Flushed, not committed."""
    from tracker.audit import services as audit
    from tracker.errors import NotFound

    row = db.session.get(ReminderSend, send_id) if 0 < send_id < 2**31 else None
    if row is None or row.status not in (SendStatus.FAILED, SendStatus.UNCERTAIN):
        raise NotFound(f"There is no failed or uncertain e-mail #{send_id}.")
    before = {"status": row.status, "attempts": row.attempts}
    row.status, row.attempts, row.claim_token, row.claimed_at, row.next_attempt_at = (
        SendStatus.PENDING, 0, None, None, None)
    audit.record(user_id=None, entity_type="reminder_send", entity_id=row.id, verb="retry", before=before,
                 after={"status": row.status, "attempts": 0}, summary=f"Re-queued e-mail #{row.id}")
    db.session.flush()
    return row
