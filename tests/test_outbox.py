"""Issue 11: the durable outbox, and a password reset request that costs the same with or without an account."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tests.reminders.conftest import free_port, mailbox  # noqa: F401, F811  (mailbox: a real SMTP server on loopback)
from tracker.auth.models import PasswordResetToken
from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.outbox.models import OutboxMessage
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


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_reset_request_queues_the_email_and_the_outbox_sends_it_after_the_request(app, officer, mailbox):
    response = app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    assert response.status_code == 302
    assert mailbox.messages == []  # nothing was sent during the request
    (queued,) = rows()
    assert (queued.to, queued.to_name, queued.subject, queued.sent_at) == (
        "officer@example.scot", "Olive Officer", "Reset your password", None)
    assert "/auth/reset-password/" in queued.body

    assert outbox.deliver_pending(app) == 1
    (message,) = mailbox.messages
    assert message["To"] == "Olive Officer <officer@example.scot>" and message["Subject"] == "Reset your password"
    link = re.search(r"http://tracker\.test(/auth/reset-password/\S+)", message.get_content()).group(1)
    (sent,) = rows()
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error is None
    assert sent.body == ""  # the single-use link is not kept once delivered
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
    outbox.enqueue(to="someone@example.scot", subject="Hello", body="Body")
    db.session.rollback()
    assert rows() == []


def test_names_are_made_safe_for_the_header_and_addresses_must_be_one_line(app, mailbox):
    outbox.enqueue(to="evil@example.scot", to_name="Evil\r\nBcc: victim@example.scot", subject="Hi", body="x")
    db.session.commit()
    outbox.deliver_pending(app)
    (message,) = mailbox.messages
    assert message["Bcc"] is None and [a.addr_spec for a in message["To"].addresses] == ["evil@example.scot"]
    from tracker.errors import RuleError

    with pytest.raises(RuleError):
        outbox.enqueue(to="a@example.scot\r\nBcc: b@example.scot", subject="Hi", body="x")
    db.session.rollback()


def test_a_mail_server_that_is_down_leaves_the_message_queued_for_the_next_run(make_app, mailbox):
    down = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    with down.app_context():
        outbox.enqueue(to="someone@example.scot", subject="Hello", body="Body")
        db.session.commit()
        assert outbox.deliver_pending() == 0
        (row,) = rows()
        assert row.sent_at is None and row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    up = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_TIMEOUT=5)
    assert outbox.deliver_pending(up) == 1
    with up.app_context():
        (row,) = rows()
        assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
    assert len(mailbox.messages) == 1


def test_a_refused_recipient_does_not_stop_the_others(app, mailbox):
    outbox.enqueue(to="refused@example.scot", subject="One", body="x")
    outbox.enqueue(to="fine@example.scot", subject="Two", body="y")
    db.session.commit()
    original = mailbox.handle_RCPT

    async def refuse_one(server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 No such user"
        return await original(server, session, envelope, address, options)

    mailbox.handle_RCPT = refuse_one
    assert outbox.deliver_pending(app) == 1
    refused, fine = rows()
    assert refused.sent_at is None and "550" in refused.last_error and fine.sent_at is not None
    assert mailbox.recipients() == ["fine@example.scot"]


def test_a_message_that_keeps_failing_is_left_after_ten_attempts(app):
    row = outbox.enqueue(to="someone@example.scot", subject="Hello", body="Body")
    row.attempts = outbox.MAX_ATTEMPTS
    db.session.commit()
    assert outbox.pending() == []


def test_flask_outbox_send(app, officer, mailbox):
    outbox.enqueue(to="officer@example.scot", subject="Hello", body="Body")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and result.output.strip() == "Sent 1 message."
    assert mailbox.recipients() == ["officer@example.scot"]


def test_the_scheduler_sends_the_outbox_every_minute(app, officer, mailbox):
    (job,) = [job for job in JOBS if job.id == "outbox"]
    assert job.cron == {"minute": "*"}
    app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    process.run_job(app, job)
    assert mailbox.recipients() == ["officer@example.scot"]
    assert db.session.scalar(select(func.count(PasswordResetToken.id))) == 1
