"""The shared mailer (tracker.mail) really talks SMTP when sending is not suppressed."""
from __future__ import annotations

import socket

import pytest

from tracker import mail


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Collect(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler.messages
    controller.stop()


def test_messages_go_over_smtp(make_app, smtp_server):
    port, received = smtp_server
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                   MAIL_DEFAULT_SENDER="tracker@example.scot")
    with app.app_context():
        mail.send_messages([mail.build_message(to="member@example.scot", subject="Papers", body="Download: http://x/1")])
        assert "outbox" not in app.extensions
    [message] = received
    assert message["To"] == "member@example.scot" and message["From"] == "tracker@example.scot"
    assert "Download: http://x/1" in message.get_payload()


def test_suppressed_messages_are_recorded(app):
    mail.send_messages([mail.build_message(to="member@example.scot", subject="Papers", body="Body")])
    assert [m["Subject"] for m in app.extensions["outbox"]] == ["Papers"]


def test_the_message_id_takes_the_domain_of_a_named_sender(make_app):
    """Mutation it catches: the domain taken with `sender.rpartition("@")` from 'Name <addr>', as
    tracker.mail once did, which kept the '>' ('<...@example.scot>>')."""
    app = make_app(MAIL_DEFAULT_SENDER="Action Tracker <tracker@example.scot>",
                   MAIL_REPLY_TO="Team <team@example.scot>")
    with app.app_context():
        message = mail.build_message(to="member@example.scot", to_name="Mòrag Member", subject="Pàipearan",
                                     body="Fàilte")
        mail.send_messages([message])
        [received] = mail.outbox()
    # As written on the wire (a parser reading it back would quietly drop the stray '>').
    assert message["Message-ID"].endswith("@example.scot>") and ">>" not in message.as_string()
    assert received["From"] == "Action Tracker <tracker@example.scot>"
    assert received["Reply-To"] == "Team <team@example.scot>"
    assert received["To"] == "Mòrag Member <member@example.scot>" and received["Subject"] == "Pàipearan"
    assert received.get_content().strip() == "Fàilte"


def test_reminders_and_other_mail_share_one_builder():
    """Mutation it catches: reminders/mailer.py building its own messages again (two builders drift apart)."""
    import inspect

    from tracker.reminders import mailer

    source = inspect.getsource(mailer)
    assert "mail.build_message(" in source and "MIMEMultipart" not in source and "make_msgid" not in source
