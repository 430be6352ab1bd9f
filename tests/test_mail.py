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
