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
from sqlalchemy import bindparam, func, insert, or_, select

from tracker.extensions import db
from tracker.reminders.mailer import Mailer, MailServerUnavailable, MessageRefused, build_message
from tracker.reminders.models import ReminderMessage, ReminderSend, SendStatus
from tracker.reminders.services import Reminder
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.reminders")
#: The send log as a Core table: the per-message updates skip the ORM's session bookkeeping.
SENDS = ReminderSend.__table__
MESSAGES = ReminderMessage.__table__

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
    """Phase 1: insert 'pending' rows and their rendered messages; existing keys are left alone."""
    if not reminders:
        return
    now = utcnow()
    bodies = {}
    rows = []
    for reminder in reminders:
        bodies[reminder.key] = reminder.render()
        rows.append({
            "recipient": reminder.recipient, "kind": reminder.kind, "period": reminder.period,
            "user_id": reminder.user_id, "recipient_name": reminder.recipient_name[:200],
            "subject": reminder.subject[:300], "status": SendStatus.PENDING, "attempts": 0, "created_at": now,
        })
    db.session.execute(_insert_ignoring_duplicates(), rows)
    # The rows this transaction created are those still without a message (a concurrent run's rows
    # are either committed with their messages, or it holds their keys until it commits).
    created = db.session.execute(
        select(SENDS.c.id, SENDS.c.recipient, SENDS.c.kind, SENDS.c.period)
        .where(SENDS.c.period.in_({r.period for r in reminders}),
               ~select(MESSAGES.c.send_id).where(MESSAGES.c.send_id == SENDS.c.id).exists())
    ).all()
    messages = []
    for row in created:
        key = (row.recipient, row.kind, row.period)
        if key in bodies:
            text, html = bodies[key]
            messages.append({"send_id": row.id, "body_text": text, "body_html": html})
    if messages:
        db.session.execute(insert(MESSAGES), messages)


def _insert_ignoring_duplicates():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the tracker supports SQLite and PostgreSQL
        raise RuntimeError(f"Unsupported database: {dialect}")
    return dialect_insert(SENDS).on_conflict_do_nothing(index_elements=["recipient", "kind", "period"])


def _claimable():
    return or_(
        SENDS.c.status == SendStatus.PENDING,
        (SENDS.c.status == SendStatus.FAILED) & (SENDS.c.attempts < MAX_ATTEMPTS),
    )


def deliver() -> DeliveryReport:
    """Phase 2: send every claimable row over one SMTP connection, marking each as it goes.

    Phase 2 holds one database connection of its own for the whole run (committing after each
    message through the session would check a connection out of the pool, and ping it, every time).
    """
    report = DeliveryReport()
    config = current_app.config
    with db.engine.connect() as connection:
        run = _Delivery(connection, report)
        run.recover_dead_claims()
        if connection.scalar(select(SENDS.c.id).where(_claimable()).limit(1)) is None:
            connection.commit()
            return report
        if config.get("MAIL_SUPPRESS_SEND"):
            run.send_all(None)
            return report
        try:
            mailer = Mailer(config).__enter__()
        except MailServerUnavailable as error:
            run.fail_all_claimable(str(error))
            return report
        try:
            run.send_all(mailer)
        finally:
            mailer.__exit__(None, None, None)
    return report


#: Built once: it runs once per message.
MARK = (
    SENDS.update()
    .where(SENDS.c.id == bindparam("send_id"), SENDS.c.claim_token == bindparam("token"))
    .values(status=bindparam("new_status"), attempts=SENDS.c.attempts + 1, last_error=bindparam("error"),
            sent_at=bindparam("sent"))
)


class _Delivery:
    """One run of phase 2: its connection, its claim token and what it achieved."""

    def __init__(self, connection, report: DeliveryReport):
        self.connection = connection
        self.report = report
        self.token = uuid.uuid4().hex

    def recover_dead_claims(self) -> None:
        """Rows left 'sending' by a run that died: the first of each claim is uncertain, the rest pending."""
        execute = self.connection.execute
        stale = execute(
            select(SENDS.c.claim_token, func.min(SENDS.c.id))
            .where(SENDS.c.status == SendStatus.SENDING, SENDS.c.claimed_at < utcnow() - CLAIM_TIMEOUT)
            .group_by(SENDS.c.claim_token)
        ).all()
        for token, first_id in stale:
            execute(SENDS.update().where(SENDS.c.id == first_id, SENDS.c.status == SendStatus.SENDING).values(
                status=SendStatus.UNCERTAIN,
                last_error="The run sending this stopped before the server's answer was recorded: "
                           "it may or may not have been delivered."))
            requeued = execute(
                SENDS.update().where(SENDS.c.claim_token == token, SENDS.c.id != first_id,
                                     SENDS.c.status == SendStatus.SENDING)
                .values(status=SendStatus.PENDING, claim_token=None, claimed_at=None)
            ).rowcount
            log.warning("A reminders run died while sending: reminder %s marked uncertain (not resent), "
                        "%s put back in the queue.", first_id, requeued)
            self.report.uncertain += 1
            self.report.requeued += requeued
        self.connection.commit()

    def fail_all_claimable(self, error: str) -> None:
        """The server is down before anything was sent: note the attempt on every waiting row."""
        log.error("Reminders not sent: %s", error)
        self.report.errors.append(error)
        self.report.failed += self.connection.execute(
            SENDS.update().where(_claimable())
            .values(status=SendStatus.FAILED, attempts=SENDS.c.attempts + 1, last_error=error[:500])
        ).rowcount
        self.connection.commit()

    def claim(self, after_id: int) -> tuple[list, int | None]:
        """Claim up to BATCH_SIZE rows after `after_id`: the claimed rows with their messages, and the
        highest id looked at (None when nothing is left)."""
        execute = self.connection.execute
        ids = execute(
            select(SENDS.c.id).where(_claimable(), SENDS.c.id > after_id)
            .order_by(SENDS.c.id).limit(BATCH_SIZE).with_for_update(skip_locked=True)
        ).scalars().all()
        if not ids:
            self.connection.commit()
            return [], None
        execute(SENDS.update().where(SENDS.c.id.in_(ids), _claimable())
                .values(status=SendStatus.SENDING, claim_token=self.token, claimed_at=utcnow()))
        self.connection.commit()
        rows = execute(
            select(SENDS.c.id, SENDS.c.recipient, SENDS.c.recipient_name, SENDS.c.subject, SENDS.c.kind,
                   SENDS.c.period, MESSAGES.c.body_text, MESSAGES.c.body_html)
            .join(MESSAGES, MESSAGES.c.send_id == SENDS.c.id)
            .where(SENDS.c.claim_token == self.token, SENDS.c.status == SendStatus.SENDING)
            .order_by(SENDS.c.id)
        ).all()
        self.connection.commit()
        return rows, ids[-1]

    def mark(self, row, status: SendStatus, error: str | None = None) -> None:
        """Record the server's answer and commit at once: the window for a duplicate is this statement."""
        sent_at = utcnow() if status in (SendStatus.SENT, SendStatus.SUPPRESSED) else None
        self.connection.execute(MARK, {"send_id": row.id, "token": self.token, "new_status": status,
                                       "error": error[:500] if error else None, "sent": sent_at})
        self.connection.commit()

    def release(self, rows: list) -> None:
        """Give back claimed rows that were never attempted."""
        if rows:
            self.connection.execute(
                SENDS.update()
                .where(SENDS.c.id.in_([r.id for r in rows]), SENDS.c.claim_token == self.token,
                       SENDS.c.status == SendStatus.SENDING)
                .values(status=SendStatus.PENDING, claim_token=None, claimed_at=None))
            self.connection.commit()

    def send_all(self, mailer: Mailer | None) -> None:
        """Claim batch after batch and send each message in id order (see the module docstring)."""
        config = current_app.config
        report = self.report
        after_id = 0
        while True:
            rows, last_seen = self.claim(after_id)
            if last_seen is None:
                return
            after_id = last_seen  # rows another run took meanwhile are simply skipped
            messages = [(row, build_message(config, to=row.recipient, to_name=row.recipient_name,
                                            subject=row.subject, text=row.body_text, html=row.body_html,
                                            reference=f"{row.kind}:{row.period}:{row.id}")) for row in rows]
            for position, (row, message) in enumerate(messages):
                if mailer is None:
                    log.info("MAIL_SUPPRESS_SEND: not sending %r to %s", row.subject, row.recipient)
                    self.mark(row, SendStatus.SUPPRESSED, "Not sent: MAIL_SUPPRESS_SEND is on.")
                    report.suppressed += 1
                    continue
                try:
                    mailer.send(message)
                except MessageRefused as error:
                    log.warning("Reminder %s to %s refused: %s", row.id, row.recipient, error)
                    self.mark(row, SendStatus.FAILED, str(error))
                    report.failed += 1
                    report.errors.append(str(error))
                except MailServerUnavailable as error:
                    log.error("Mail server unavailable; reminders will be retried on the next run: %s", error)
                    self.mark(row, SendStatus.FAILED, str(error))
                    report.failed += 1
                    report.errors.append(str(error))
                    self.release([r for r, _ in messages[position + 1:]])
                    return
                else:
                    self.mark(row, SendStatus.SENT)
                    report.sent += 1
