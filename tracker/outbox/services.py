"""Queue e-mail in the current transaction (`enqueue`), send it after the commit (`deliver_pending`).

`enqueue` only adds and flushes: the caller's commit makes the message real, a rollback forgets it.
`deliver_pending` sends what is queued with the shared mailer (tracker.mail), one SMTP connection per run,
marks each message sent (and clears its body), and records failures for the next run. It commits its own
work: it runs in the scheduler's job (every minute) or `flask outbox send`, never inside a web request.
Delivery is at least once: a crash between sending and the commit sends those messages again.
"""
from __future__ import annotations

import logging
import re
import smtplib

from flask import Flask, current_app
from sqlalchemy import select

from tracker import mail
from tracker.extensions import db
from tracker.outbox.models import OutboxMessage
from tracker.text import line
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.outbox")

#: A message that failed this many times is left for an administrator to look at (last_error says why).
MAX_ATTEMPTS = 10
#: At most this many messages per run.
BATCH = 200


def header_safe(name: str | None) -> str | None:
    """A display name for a mail header: control characters (CR and LF included) become spaces."""
    cleaned = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", name or "").split())
    return cleaned[:200] or None


def enqueue(*, to: str, subject: str, body: str, to_name: str | None = None) -> OutboxMessage:
    """Queue one plain-text e-mail; flushed, not committed."""
    message = OutboxMessage(
        to=line(to, field="to", label="The email address", max_length=254, required=True),
        to_name=header_safe(to_name),
        subject=line(subject, field="subject", label="The subject", max_length=300, required=True),
        body=body,
        created_at=utcnow(),
        attempts=0,
    )
    db.session.add(message)
    db.session.flush()
    return message


def pending(limit: int = BATCH) -> list[OutboxMessage]:
    query = (select(OutboxMessage)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
             .order_by(OutboxMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # a second sender (CLI and scheduler) takes other rows
    return list(db.session.scalars(query))


def deliver_pending(app: Flask | None = None, *, limit: int = BATCH) -> int:
    """Send the queued messages; returns how many were sent. Call after the commit that queued them."""
    if app is not None:
        with app.app_context():
            return deliver_pending(limit=limit)
    rows = pending(limit)
    if not rows:
        db.session.rollback()
        return 0
    built = [(row, mail.build_message(to=row.to, to_name=row.to_name, subject=row.subject, body=row.body))
             for row in rows]
    sent = 0
    try:
        if current_app.config.get("MAIL_SUPPRESS_SEND"):
            mail.send_messages([message for _, message in built])
            for row, _ in built:
                _mark_sent(row)
            sent = len(built)
        else:
            with mail.connect(current_app.config) as connection:
                for row, message in built:
                    try:
                        connection.send_message(message)
                    except smtplib.SMTPRecipientsRefused as refused:
                        _mark_failed(row, refused)
                    else:
                        _mark_sent(row)
                        sent += 1
    except (OSError, smtplib.SMTPException) as error:  # the server is down or dropped the connection
        log.warning("Could not send %d queued e-mail message(s): %s", len(rows) - sent, error)
        for row, _ in built:
            if row.sent_at is None:
                _mark_failed(row, error)
    db.session.commit()
    return sent


def _mark_sent(row: OutboxMessage) -> None:
    row.sent_at = utcnow()
    row.attempts += 1
    row.last_error = None
    row.body = ""  # it may hold a single-use link: not kept once delivered


def _mark_failed(row: OutboxMessage, error: BaseException) -> None:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:500]


def scheduled_send() -> None:
    """The scheduler's job (every minute)."""
    sent = deliver_pending()
    if sent:
        log.info("Sent %d queued e-mail message(s).", sent)
