"""Exactly-once delivery of every e-mail through the outbox (tables reminder_sends, reminder_messages).

Phase 1, `record` (reminders) or `tracker.outbox.services.enqueue` (every other kind): in the transaction
that decides to send, insert one 'pending' row per message with its rendered bodies, ignoring keys
(recipient, kind, period) that already exist. The unique key makes two runs at once decide each message once.

Phase 2, `deliver`: only the holder of the scheduler lock sends (tracker.scheduler.lock: the scheduler
process, or a `send` command when no scheduler runs), one run at a time per process, over one SMTP
connection. It first marks 'uncertain' any row left 'in_flight': a sender that no longer holds the lock
left it there. Then, for each claimable row in id order: MAIL and RCPT; the row is set 'in_flight' and
committed before DATA, in the same statement that records the previous message's answer (one commit per
message; on PostgreSQL through the session that holds the advisory lock, the fencing check, started before
MAIL so that its wait overlaps the SMTP round trips); DATA; the answer is 'sent' on 250, 'failed' on a refusal for that message (retried with backoff), 'uncertain' when the
connection broke or timed out after the final dot (never resent automatically: `outbox status` lists them,
`outbox resend ID` or the administrators' Outbox page re-queues one). A failure to connect, a 421, or a connection lost before the final dot
stops the run and counts against it, not the messages: they stay 'pending' for the next run (a minute later).
A crash (or SIGKILL) leaves at most one row 'in_flight' per sending process; nothing is ever left claimed.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, case, insert, literal, null, or_, select

from tracker.extensions import db
from tracker.reminders.mailer import (
    DeliveryUncertain,
    Mailer,
    MailServerUnavailable,
    MessageRefused,
    NotSent,
    build_message,
)
from tracker.reminders.models import ReminderMessage, ReminderSend, SendStatus
from tracker.reminders.services import Reminder
from tracker.scheduler.lock import LockLost, SchedulerLock, process_lock, stop_requested
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.reminders")
#: The send log as a Core table: the per-message updates skip the ORM's session bookkeeping.
SENDS = ReminderSend.__table__
MESSAGES = ReminderMessage.__table__

#: Rows read at a time (each is still set in flight one by one).
BATCH_SIZE = 200
#: A message the server keeps refusing is given up after this many attempts.
MAX_ATTEMPTS = 10
#: Wait before retrying a refused message: BACKOFF * 2**(attempts - 1), at most MAX_BACKOFF.
BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)
#: Kinds whose body holds a single-use link: cleared once delivered.
SECRET_KINDS = frozenset({"password_reset", "welcome"})
#: Reminders are marked automatic (Auto-Submitted); the other kinds are replies to a person's action.
PERSONAL_KINDS = frozenset({"password_reset", "welcome"})

UNCERTAIN_AFTER_CRASH = ("Its sender stopped (or lost the scheduler lock) while the server may have been "
                         "receiving it: it may or may not have been delivered.")

#: One delivery run at a time in this process (the scheduler's every-minute job and the 07:00 run).
_run_lock = threading.Lock()


def backoff(attempts: int) -> dt.timedelta:
    return min(BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    requeued: int = 0  # in flight when the server became unavailable before the final dot: pending again
    uncertain: int = 0  # broke or timed out after the final dot, or left in flight by a sender that died
    unavailable: bool = False  # the run stopped because the server could not be used (it counts, not the messages)
    busy: bool = False  # another process (or run) was sending: this one sent nothing
    lock_lost: bool = False  # the scheduler lock was lost: stopped before the next message
    stopped: bool = False  # asked to stop (SIGTERM): stopped before the next message
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


def _claimable(now: dt.datetime | None = None):
    now = now or utcnow()
    return or_(
        SENDS.c.status == SendStatus.PENDING,
        (SENDS.c.status == SendStatus.FAILED) & (SENDS.c.attempts < MAX_ATTEMPTS)
        & (SENDS.c.next_attempt_at.is_(None) | (SENDS.c.next_attempt_at <= now)),
    )


def deliver(*, lock: SchedulerLock | None = None, stopping: Callable[[], bool] | None = None) -> DeliveryReport:
    """Phase 2: send every claimable row over one SMTP connection, marking each as it goes.

    Sends only under the scheduler lock: `lock`, else the one this process holds as the scheduler, else it
    takes the lock for the run (and sends nothing if another process holds it). `stopping()` is asked
    before each message (SIGTERM). Holds one database connection of its own for the whole run.
    """
    report = DeliveryReport()
    if not _run_lock.acquire(blocking=False):
        report.busy = True
        return report
    taken = None
    try:
        lock = lock or process_lock()
        if lock is None:
            taken = SchedulerLock(db.engine, current_app.instance_path)
            if not taken.acquire():
                log.info("Another process holds the %s and sends the outbox.", taken.description)
                report.busy = True
                return report
            lock = taken
        with db.engine.connect() as connection:
            _Delivery(connection, report, lock, stopping or stop_requested).run()
    finally:
        if taken is not None:
            taken.release()
        _run_lock.release()
    return report


#: Built once: they run once per message.
_TAKEABLE = [SendStatus.PENDING, SendStatus.FAILED]
IN_FLIGHT = (  # the first message of a run
    SENDS.update()
    .where(SENDS.c.id == bindparam("next_id"), SENDS.c.status.in_(_TAKEABLE))
    .values(status=SendStatus.IN_FLIGHT, claim_token=bindparam("token"), claimed_at=bindparam("now"))
    .returning(SENDS.c.id)
)
_DONE = SENDS.c.id == bindparam("done_id")
#: The server's answer for message N and 'in_flight' for message N+1, in one statement and one commit: the
#: row in flight changes from one to the next, so there is never more than one per process.
MARK_AND_NEXT = (
    SENDS.update()
    .where(or_(_DONE & (SENDS.c.claim_token == bindparam("token")),
               (SENDS.c.id == bindparam("next_id")) & SENDS.c.status.in_(_TAKEABLE)))
    .values(
        status=case((_DONE, bindparam("new_status", type_=SENDS.c.status.type)),
                    else_=literal(SendStatus.IN_FLIGHT, SENDS.c.status.type)),
        attempts=case((_DONE, SENDS.c.attempts + 1), else_=SENDS.c.attempts),
        last_error=case((_DONE, bindparam("error", type_=SENDS.c.last_error.type)), else_=SENDS.c.last_error),
        sent_at=case((_DONE, bindparam("sent", type_=SENDS.c.sent_at.type)), else_=SENDS.c.sent_at),
        next_attempt_at=case((_DONE, bindparam("next_at", type_=SENDS.c.next_attempt_at.type)),
                             else_=SENDS.c.next_attempt_at),
        claim_token=case((_DONE, null()), else_=bindparam("token", type_=SENDS.c.claim_token.type)),
        claimed_at=case((_DONE, SENDS.c.claimed_at), else_=bindparam("now", type_=SENDS.c.claimed_at.type)),
    )
    .returning(SENDS.c.id)
)
MARK = (  # the server's answer for the last message of a run
    SENDS.update()
    .where(SENDS.c.id == bindparam("done_id"), SENDS.c.claim_token == bindparam("token"))
    .values(status=bindparam("new_status"), attempts=SENDS.c.attempts + 1, last_error=bindparam("error"),
            sent_at=bindparam("sent"), next_attempt_at=bindparam("next_at"), claim_token=None)
)
GIVE_BACK = (  # in flight, but the server went away before the final dot: not delivered, not its fault
    SENDS.update()
    .where(SENDS.c.id == bindparam("send_id"), SENDS.c.claim_token == bindparam("token"),
           SENDS.c.status == SendStatus.IN_FLIGHT)
    .values(status=SendStatus.PENDING, claim_token=None, claimed_at=None, last_error=bindparam("error"))
)
CLEAR_BODY = (
    MESSAGES.update().where(MESSAGES.c.send_id == bindparam("row_id")).values(body_text="", body_html="")
)


@dataclass
class _Outcome:
    """What the server said about the message in flight, not yet written: it is written together with
    'in_flight' for the next message (MARK_AND_NEXT), or alone (MARK) when there is no next one."""

    row_id: int
    kind: str
    status: SendStatus
    error: str | None = None
    next_at: dt.datetime | None = None

    def parameters(self, token: str) -> dict:
        sent = utcnow() if self.status in (SendStatus.SENT, SendStatus.SUPPRESSED) else None
        return {"done_id": self.row_id, "token": token, "new_status": self.status,
                "error": self.error[:500] if self.error else None, "sent": sent, "next_at": self.next_at}


class _Pending:
    """The in-flight commit of one message, started before its MAIL and awaited just before its DATA.

    On PostgreSQL the statement runs on the lock's session in a helper thread while MAIL and RCPT go to the
    mail server, so the commit's wait (a round trip and a WAL flush) overlaps the SMTP round trips instead of
    adding to them; on SQLite it has already run. `result()` is True once the row is in flight for this run,
    False if another sender had taken it, and raises LockLost (the previous answer is then written unfenced).
    """

    def __init__(self, delivery: _Delivery, row_id: int, outcome: _Outcome | None, future: Future):
        self.delivery, self.row_id, self.outcome, self.future = delivery, row_id, outcome, future
        self.settled: bool | None = None

    def result(self) -> bool:
        if self.settled is None:
            try:
                changed = self.future.result()
            except LockLost:
                self.settled = False
                if self.outcome is not None:  # what the server said is known: keep it (only our claim matches)
                    self.delivery.outcome = self.outcome
                    self.delivery.write_outcome(fenced=False)
                raise
            if self.outcome is not None:
                self.delivery.cleared(self.outcome)
            self.settled = self.row_id in changed
        return self.settled

    def wait(self) -> None:
        """Let the statement finish, whatever it did (the connections are used one at a time)."""
        if not self.future.done():
            try:
                self.future.result()
            except Exception:  # noqa: BLE001 - result() reports it
                pass


class _Delivery:
    """One run of phase 2: its connection, the lock it sends under, its token and what it achieved.

    Per message, one fenced statement and one commit: the previous message's answer and this message's
    'in_flight' (on PostgreSQL on the session holding the advisory lock, in autocommit: one round trip),
    committed before its DATA. A crash leaves the one message in flight, which the next holder of the lock
    marks uncertain: at most one per kill.
    """

    def __init__(self, connection, report: DeliveryReport, lock: SchedulerLock, stopping: Callable[[], bool]):
        self.connection = connection
        self.report = report
        self.lock = lock
        self.stopping = stopping
        self.token = uuid.uuid4().hex
        self.outcome: _Outcome | None = None  # the answer for the row in flight, not yet written
        #: PostgreSQL: the lock's own session takes the in-flight commits, in this helper thread.
        self.helper = ThreadPoolExecutor(1, thread_name_prefix="outbox-commit") if lock.has_session else None

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self.helper is not None:
                self.helper.shutdown(wait=True)

    def _run(self) -> None:
        config = current_app.config
        self.recover_in_flight()
        if self.connection.scalar(select(SENDS.c.id).where(_claimable()).limit(1)) is None:
            self.connection.commit()
            return
        if config.get("MAIL_SUPPRESS_SEND"):
            self.send_all(None)
            return
        try:
            mailer = Mailer(config).__enter__()
        except MailServerUnavailable as error:
            self.unavailable(str(error))
            return
        try:
            self.send_all(mailer)
        finally:
            mailer.__exit__(None, None, None)

    def unavailable(self, error: str) -> None:
        log.error("E-mail not sent: %s. The next run tries again.", error)
        self.report.unavailable = True
        self.report.errors.append(error)

    def recover_in_flight(self) -> None:
        """Rows left in flight: their sender died or lost the lock (we hold it now). Uncertain, at once."""
        found = self.lock.fenced(
            SENDS.update().where(SENDS.c.status == SendStatus.IN_FLIGHT)
            .values(status=SendStatus.UNCERTAIN, claim_token=None, last_error=UNCERTAIN_AFTER_CRASH), {},
            self.connection)
        if found:
            log.warning("%s e-mail message(s) were in flight when their sender stopped: marked uncertain "
                        "(not sent again; `flask outbox status` lists them).", found)
            self.report.uncertain += found

    def batch(self, after_id: int) -> list:
        rows = self.connection.execute(
            select(SENDS.c.id, SENDS.c.recipient, SENDS.c.recipient_name, SENDS.c.subject, SENDS.c.kind,
                   SENDS.c.period, SENDS.c.attempts, MESSAGES.c.body_text, MESSAGES.c.body_html)
            .join(MESSAGES, MESSAGES.c.send_id == SENDS.c.id)
            .where(_claimable(), SENDS.c.id > after_id)
            .order_by(SENDS.c.id).limit(BATCH_SIZE)
        ).all()
        self.connection.commit()
        return rows

    def go_in_flight(self, row) -> _Pending:
        """Start writing the previous message's answer and 'in_flight' for `row`, in one fenced commit."""
        outcome, self.outcome = self.outcome, None
        parameters = {"next_id": row.id, "token": self.token, "now": utcnow()}
        if outcome is None:
            statement = IN_FLIGHT
        else:
            statement, parameters = MARK_AND_NEXT, {**outcome.parameters(self.token), **parameters}
        if self.helper is not None:
            future = self.helper.submit(self.lock.fenced_ids, statement, parameters, None)
        else:
            future = Future()
            try:
                future.set_result(self.lock.fenced_ids(statement, parameters, self.connection))
            except LockLost as error:
                future.set_exception(error)
        return _Pending(self, row.id, outcome, future)

    def write_outcome(self, *, fenced: bool = True) -> None:
        """Write the answer for the row in flight alone: the run stops, or there is no next message."""
        outcome, self.outcome = self.outcome, None
        if outcome is None:
            return
        if fenced:
            try:
                self.lock.fenced(MARK, outcome.parameters(self.token), self.connection)
                self.cleared(outcome)
                return
            except LockLost as error:
                self.report.lock_lost = True
                self.report.errors.append(str(error))
        # Without the lock: MARK matches only a row still claimed by this run (the next holder clears claims).
        self.connection.execute(MARK, outcome.parameters(self.token))
        self.connection.commit()
        self.cleared(outcome)

    def cleared(self, outcome: _Outcome) -> None:
        """A delivered single-use link is not kept."""
        if outcome.kind in SECRET_KINDS and outcome.status in (SendStatus.SENT, SendStatus.SUPPRESSED):
            self.connection.execute(CLEAR_BODY, {"row_id": outcome.row_id})
            self.connection.commit()

    def send_all(self, mailer: Mailer | None) -> None:
        try:
            self._send_all(mailer)
        finally:
            self.write_outcome()

    def _send_all(self, mailer: Mailer | None) -> None:
        report = self.report
        after_id = 0
        while True:
            rows = self.batch(after_id)
            if not rows:
                return
            after_id = rows[-1].id
            for row in rows:
                if self.stopping():
                    report.stopped = True
                    log.info("Stopping before the next message, as asked.")
                    return
                pending = self.go_in_flight(row)
                try:
                    if not self.send_one(mailer, row, pending):
                        return
                except LockLost as error:
                    log.error("%s: stopping; a scheduler holding the lock sends the rest.", error)
                    report.lock_lost = True
                    report.errors.append(str(error))
                    return
                finally:
                    pending.wait()

    def send_one(self, mailer: Mailer | None, row, pending: _Pending) -> bool:
        """Send `row` (its in-flight commit `pending` is awaited before DATA); False if the run must stop."""
        from tracker import mail

        report = self.report
        message = build_message(current_app.config, to=row.recipient, to_name=row.recipient_name,
                                subject=row.subject, text=row.body_text, html=row.body_html,
                                reference=f"{row.kind}:{row.period}:{row.id}",
                                automatic=row.kind not in PERSONAL_KINDS)
        try:
            if mailer is None:
                if pending.result():
                    mail.send_messages([message])  # kept in the app's outbox list
                    self.outcome = _Outcome(row.id, row.kind, SendStatus.SUPPRESSED,
                                            "Not sent: MAIL_SUPPRESS_SEND is on.")
                    report.suppressed += 1
                return True
            mailer.send(message, to=row.recipient, before_data=pending.result)
        except NotSent:
            return True  # another sender took it
        except MessageRefused as error:
            if not pending.result():
                return True
            log.warning("E-mail %s to %s refused: %s", row.id, row.recipient, error)
            self.outcome = _Outcome(row.id, row.kind, SendStatus.FAILED, str(error),
                                    utcnow() + backoff(row.attempts + 1))
            report.failed += 1
            report.errors.append(str(error))
            return True
        except MailServerUnavailable as error:
            if pending.result():
                report.requeued += self.connection.execute(
                    GIVE_BACK, {"send_id": row.id, "token": self.token, "error": str(error)[:500]}).rowcount
                self.connection.commit()
            self.unavailable(str(error))
            return False
        except DeliveryUncertain as error:
            log.error("E-mail %s to %s: %s. Marked uncertain, not sent again.", row.id, row.recipient, error)
            self.outcome = _Outcome(row.id, row.kind, SendStatus.UNCERTAIN, str(error))
            report.uncertain += 1
            report.errors.append(str(error))
            return False  # the connection is gone: the rest wait for the next run
        self.outcome = _Outcome(row.id, row.kind, SendStatus.SENT)
        report.sent += 1
        return True
