"""Exactly-once delivery through the send log (table reminder_sends).

Phase 1, `record`: in the transaction that decides what is due, insert one 'pending' row per
reminder with its rendered message, ignoring keys (recipient, kind, period) that already exist.
The unique key makes two runs at once, or two schedulers by mistake, decide each reminder once.

Phase 2, `deliver`: claim a batch of pending (or failed) rows, set them 'sending' with this
run's claim token and commit; send them in id order over one SMTP connection, marking each
'sent' or 'failed' and committing straight after each message. On PostgreSQL the claim uses
FOR UPDATE SKIP LOCKED so concurrent runs share the work; on SQLite writes are serialised, and
the claim is a conditional UPDATE either way, so a row is only ever claimed by one run.

A run that dies between deciding and sending leaves 'pending' rows: the next run sends them.
A run that dies while sending leaves its batch 'sending'. Because a batch is sent in id order
and every message is marked as soon as the server answers, only the lowest-id 'sending' row of
a dead claim can have reached the server. After CLAIM_TIMEOUT the next run puts the rest back
to 'pending' (they are sent), and marks that one row 'uncertain'. We choose never to send it
again automatically: a duplicate reminder annoys, while a lost one is covered by the next
digest or escalation, which lists the same actions again. `flask reminders status` lists
uncertain rows; `flask reminders retry ID` re-queues one deliberately.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, or_, select, update

from tracker.extensions import db
from tracker.reminders.mailer import Mailer, MailServerUnavailable, MessageRefused, build_message
from tracker.reminders.models import ReminderSend, SendStatus
from tracker.reminders.services import Reminder
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.reminders")
#: The send log as a Core table: the per-message updates skip the ORM's session bookkeeping.
SENDS = ReminderSend.__table__

#: Rows claimed longer ago than this belong to a run that died (a batch takes far less:
#: BATCH_SIZE messages, each bounded by MAIL_TIMEOUT).
CLAIM_TIMEOUT = dt.timedelta(minutes=60)
BATCH_SIZE = 50
#: A reminder the server keeps refusing is given up after this many attempts.
MAX_ATTEMPTS = 10


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    requeued: int = 0
    uncertain: int = 0
    errors: list[str] = field(default_factory=list)


def record(reminders: list[Reminder]) -> None:
    """Phase 1: insert 'pending' rows with the rendered messages; existing keys are left alone."""
    if not reminders:
        return
    now = utcnow()
    rows = []
    for reminder in reminders:
        text, html = reminder.render()
        rows.append({
            "recipient": reminder.recipient, "kind": reminder.kind, "period": reminder.period,
            "user_id": reminder.user_id, "recipient_name": reminder.recipient_name[:200],
            "subject": reminder.subject[:300], "body_text": text, "body_html": html,
            "status": SendStatus.PENDING, "attempts": 0, "created_at": now,
        })
    db.session.execute(_insert_ignoring_duplicates(), rows)


def _insert_ignoring_duplicates():
    table = ReminderSend.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the tracker supports SQLite and PostgreSQL
        raise RuntimeError(f"Unsupported database: {dialect}")
    return insert(table).on_conflict_do_nothing(index_elements=["recipient", "kind", "period"])


def _claimable():
    return or_(
        ReminderSend.status == SendStatus.PENDING,
        (ReminderSend.status == SendStatus.FAILED) & (ReminderSend.attempts < MAX_ATTEMPTS),
    )


def recover_dead_claims(report: DeliveryReport) -> None:
    """Rows left 'sending' by a run that died: the first of each claim is uncertain, the rest pending."""
    stale = db.session.execute(
        select(ReminderSend.claim_token, func.min(ReminderSend.id))
        .where(ReminderSend.status == SendStatus.SENDING, ReminderSend.claimed_at < utcnow() - CLAIM_TIMEOUT)
        .group_by(ReminderSend.claim_token)
    ).all()
    for token, first_id in stale:
        db.session.execute(
            update(ReminderSend).where(ReminderSend.id == first_id, ReminderSend.status == SendStatus.SENDING)
            .values(status=SendStatus.UNCERTAIN, last_error="The run sending this stopped before the server's "
                    "answer was recorded: it may or may not have been delivered.")
        )
        requeued = db.session.execute(
            update(ReminderSend).where(ReminderSend.claim_token == token, ReminderSend.id != first_id,
                                       ReminderSend.status == SendStatus.SENDING)
            .values(status=SendStatus.PENDING, claim_token=None, claimed_at=None)
        ).rowcount
        log.warning("A reminders run died while sending: reminder %s marked uncertain (not resent), "
                    "%s put back in the queue.", first_id, requeued)
        report.uncertain += 1
        report.requeued += requeued
    db.session.commit()


def deliver() -> DeliveryReport:
    """Phase 2: send every claimable row over one SMTP connection, marking each as it goes."""
    report = DeliveryReport()
    recover_dead_claims(report)
    if db.session.scalar(select(ReminderSend.id).where(_claimable()).limit(1)) is None:
        return report
    config = current_app.config
    if config.get("MAIL_SUPPRESS_SEND"):
        _deliver_batches(None, report)
        return report
    try:
        mailer = Mailer(config).__enter__()
    except MailServerUnavailable as error:
        _fail_all_claimable(str(error), report)
        return report
    try:
        _deliver_batches(mailer, report)
    finally:
        mailer.__exit__(None, None, None)
    return report


def _fail_all_claimable(error: str, report: DeliveryReport) -> None:
    """The server is down before anything was sent: note the attempt on every waiting row."""
    log.error("Reminders not sent: %s", error)
    report.errors.append(error)
    report.failed += db.session.execute(
        update(ReminderSend).where(_claimable())
        .values(status=SendStatus.FAILED, attempts=ReminderSend.attempts + 1, last_error=error[:500])
    ).rowcount
    db.session.commit()


def _claim(token: str, after_id: int) -> tuple[list, int | None]:
    """Claim up to BATCH_SIZE rows after `after_id`: the claimed rows (plain tuples, so commits do not
    expire them) and the highest id looked at (None when nothing is left)."""
    ids = db.session.scalars(
        select(ReminderSend.id).where(_claimable(), ReminderSend.id > after_id)
        .order_by(ReminderSend.id).limit(BATCH_SIZE).with_for_update(skip_locked=True)
    ).all()
    if not ids:
        db.session.commit()
        return [], None
    db.session.execute(
        update(ReminderSend).where(ReminderSend.id.in_(ids), _claimable())
        .values(status=SendStatus.SENDING, claim_token=token, claimed_at=utcnow())
    )
    db.session.commit()
    rows = db.session.execute(
        select(ReminderSend.id, ReminderSend.recipient, ReminderSend.recipient_name, ReminderSend.subject,
               ReminderSend.body_text, ReminderSend.body_html, ReminderSend.kind, ReminderSend.period)
        .where(ReminderSend.claim_token == token, ReminderSend.status == SendStatus.SENDING)
        .order_by(ReminderSend.id)
    ).all()
    return rows, ids[-1]


def _mark(row, token: str, status: SendStatus, error: str | None = None) -> None:
    """Record the server's answer and commit at once: the window for a duplicate is this one statement."""
    values = {"status": status, "attempts": SENDS.c.attempts + 1, "last_error": error[:500] if error else None}
    if status in (SendStatus.SENT, SendStatus.SUPPRESSED):
        values["sent_at"] = utcnow()
    db.session.execute(SENDS.update().where(SENDS.c.id == row.id, SENDS.c.claim_token == token).values(**values))
    db.session.commit()


def _release(rows: list, token: str) -> None:
    """Give back claimed rows that were never attempted."""
    if rows:
        db.session.execute(
            update(ReminderSend)
            .where(ReminderSend.id.in_([r.id for r in rows]), ReminderSend.claim_token == token,
                   ReminderSend.status == SendStatus.SENDING)
            .values(status=SendStatus.PENDING, claim_token=None, claimed_at=None)
        )
        db.session.commit()


def _deliver_batches(mailer: Mailer | None, report: DeliveryReport) -> None:
    token = uuid.uuid4().hex
    config = current_app.config
    after_id = 0
    while True:
        rows, last_seen = _claim(token, after_id)
        if last_seen is None:
            return
        after_id = last_seen  # rows another run took meanwhile are simply skipped
        messages = [(row, build_message(config, to=row.recipient, to_name=row.recipient_name,
                                        subject=row.subject, text=row.body_text, html=row.body_html,
                                        reference=f"{row.kind}:{row.period}:{row.id}")) for row in rows]
        for position, (row, message) in enumerate(messages):
            if mailer is None:
                log.info("MAIL_SUPPRESS_SEND: not sending %r to %s", row.subject, row.recipient)
                _mark(row, token, SendStatus.SUPPRESSED, "Not sent: MAIL_SUPPRESS_SEND is on.")
                report.suppressed += 1
                continue
            try:
                mailer.send(message)
            except MessageRefused as error:
                log.warning("Reminder %s to %s refused: %s", row.id, row.recipient, error)
                _mark(row, token, SendStatus.FAILED, str(error))
                report.failed += 1
                report.errors.append(str(error))
            except MailServerUnavailable as error:
                log.error("Mail server unavailable; reminders will be retried on the next run: %s", error)
                _mark(row, token, SendStatus.FAILED, str(error))
                report.failed += 1
                report.errors.append(str(error))
                _release([r for r, _ in messages[position + 1:]], token)
                return
            else:
                _mark(row, token, SendStatus.SENT)
                report.sent += 1
