"""Issues 11 and 12: one durable outbox for every e-mail, and a password reset request that costs the same with or
without an account."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tests.reminders.conftest import free_port, mailbox  # noqa: F401, F811  (mailbox: a real SMTP server on loopback)
from tracker.auth.models import PasswordResetToken
from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.reminders import sendlog
from tracker.timeutil import utcnow
from tracker.reminders.models import ReminderMessage, ReminderSend, SendStatus
from tracker.scheduler import process
from tracker.scheduler.jobs import JOBS


@pytest.fixture
def app(make_app, mailbox):
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port,
                   MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_TIMEOUT=5)
    with app.app_context():
        yield app


@pytest.fixture
def officer(app):
    user = factories.user(email="officer@example.scot", name="Olive Officer")
    db.session.commit()
    return user


def rows() -> list[ReminderSend]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReminderSend).order_by(ReminderSend.id)))


def body(row: ReminderSend) -> str:
    return db.session.get(ReminderMessage, row.id).body_text


def queue(to="someone@example.scot", subject="Hello", text="Body", key=None, **kwargs):
    return outbox.enqueue(kind="password_reset", key=key or f"test:{to}:{subject}", to=to, subject=subject,
                          body=text, **kwargs)


def test_a_reset_request_queues_the_email_and_the_outbox_sends_it_after_the_request(app, officer, mailbox):
    response = app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    assert response.status_code == 302
    assert mailbox.messages == []  # nothing was sent during the request
    (queued,) = rows()
    assert (queued.recipient, queued.recipient_name, queued.subject, queued.kind, queued.status) == (
        "officer@example.scot", "Olive Officer", "Reset your password", "password_reset", SendStatus.PENDING)
    assert "/auth/reset-password/" in body(queued)

    assert outbox.deliver_pending(app) == 1
    (message,) = mailbox.messages
    assert message["To"] == "Olive Officer <officer@example.scot>" and message["Subject"] == "Reset your password"
    link = re.search(r"http://tracker\.test(/auth/reset-password/\S+)", message.get_content()).group(1)
    (sent,) = rows()
    assert sent.status is SendStatus.SENT and sent.attempts == 1 and sent.last_error is None
    assert body(sent) == ""  # the single-use link is not kept once delivered
    assert outbox.deliver_pending(app) == 0 and len(mailbox.messages) == 1  # sent once only

    client = app.test_client()
    assert client.get(link, follow_redirects=True).status_code == 200


def _statements(app, call) -> list[str]:
    seen = []

    def note(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement.split()[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_a_reset_request_does_the_same_reading_with_or_without_an_account(app, officer, mailbox):
    def ask(email):
        return lambda: answers.append(app.test_client().post("/auth/reset-password", data={"email": email},
                                                              follow_redirects=True))

    answers = []
    known = _statements(app, ask("officer@example.scot"))
    unknown = _statements(app, ask("nobody@example.scot"))
    assert answers[0].get_data(as_text=True) == answers[1].get_data(as_text=True)
    assert [s for s in known if s == "SELECT"] == [s for s in unknown if s == "SELECT"]
    assert unknown.count("SELECT") == 2  # the user lookup and the count of recent links, nothing more
    assert "INSERT" not in unknown
    assert mailbox.messages == []  # neither request talked to the mail server
    assert len(rows()) == 1


def test_a_queued_message_is_forgotten_when_the_change_rolls_back(app):
    queue()
    db.session.rollback()
    assert rows() == []


def test_names_are_made_safe_for_the_header_and_addresses_must_be_one_line(app, mailbox):
    queue(to="evil@example.scot", to_name="Evil\r\nBcc: victim@example.scot", subject="Hi", text="x")
    db.session.commit()
    outbox.deliver_pending(app)
    (message,) = mailbox.messages
    assert message["Bcc"] is None and [a.addr_spec for a in message["To"].addresses] == ["evil@example.scot"]
    from tracker.errors import RuleError

    with pytest.raises(RuleError):
        queue(to="a@example.scot\r\nBcc: b@example.scot", subject="Hi", text="x")
    db.session.rollback()


def test_a_mail_server_that_is_down_leaves_the_message_queued_with_its_attempts(make_app, mailbox):
    """Issue 12: ten runs against a closed port used up every message's attempts; the failure is the run's."""
    down = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    with down.app_context():
        queue()
        db.session.commit()
        for _ in range(outbox.MAX_ATTEMPTS + 1):
            assert outbox.deliver_pending() == 0
        (row,) = rows()
        assert row.status is SendStatus.PENDING and row.attempts == 0
    up = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_TIMEOUT=5)
    assert outbox.deliver_pending(up) == 1
    with up.app_context():
        (row,) = rows()
        assert row.status is SendStatus.SENT and row.attempts == 1 and row.last_error is None
    assert len(mailbox.messages) == 1


def test_a_refused_recipient_does_not_stop_the_others_and_waits_before_its_retry(app, mailbox, time_machine):
    queue(to="refused@example.scot", subject="One", text="x")
    queue(to="fine@example.scot", subject="Two", text="y")
    db.session.commit()
    original = mailbox.handle_RCPT

    async def refuse_one(server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 No such user"
        return await original(server, session, envelope, address, options)

    mailbox.handle_RCPT = refuse_one
    assert outbox.deliver_pending(app) == 1
    refused, fine = rows()
    assert refused.status is SendStatus.FAILED and "550" in refused.last_error and refused.attempts == 1
    assert fine.status is SendStatus.SENT
    assert mailbox.recipients() == ["fine@example.scot"]
    mailbox.handle_RCPT = original
    assert outbox.deliver_pending(app) == 0, "backoff: not retried at once"
    time_machine.move_to(utcnow() + sendlog.backoff(1) + dt.timedelta(seconds=1))
    assert outbox.deliver_pending(app) == 1
    assert mailbox.recipients() == ["fine@example.scot", "refused@example.scot"]


def test_a_message_that_keeps_failing_is_left_after_ten_attempts_for_a_person(app, mailbox):
    queue()
    db.session.commit()
    (row,) = rows()
    row.status, row.attempts = SendStatus.FAILED, outbox.MAX_ATTEMPTS
    db.session.commit()
    assert outbox.deliver_pending(app) == 0 and mailbox.messages == []
    assert [r.id for r in outbox.needing_a_person()] == [row.id]


def test_the_same_key_twice_is_one_message(app, mailbox):
    assert queue(key="workbook:1") is not None
    assert queue(key="workbook:1") is None
    db.session.commit()
    assert queue(key="workbook:1") is None
    db.session.commit()
    assert len(rows()) == 1


def test_flask_outbox_send(app, officer, mailbox):
    queue(to="officer@example.scot")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and result.output.startswith("Sent 1, refused 0, uncertain 0"), result.output
    assert mailbox.recipients() == ["officer@example.scot"]


def test_the_scheduler_sends_the_outbox_every_minute(app, officer, mailbox):
    (job,) = [job for job in JOBS if job.id == "outbox"]
    assert job.cron == {"minute": "*"}
    app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    process.run_job(app, job)
    assert mailbox.recipients() == ["officer@example.scot"]
    assert db.session.scalar(select(func.count(PasswordResetToken.id))) == 1
