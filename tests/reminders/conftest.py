"""Reminder tests send real e-mail: an aiosmtpd server on loopback, on a free port."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from tracker.timeutil import LONDON


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An SMTP handler that keeps what it receives; `refuse_with` makes it answer RCPT with an error."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_with: str | None = None
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def recipients(self) -> list[str]:
        return sorted(m["To"].addresses[0].addr_spec for m in self.messages)

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def mailbox():
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


MAIL_CONFIG = {
    "MAIL_SUPPRESS_SEND": False,
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_DEFAULT_SENDER": "Action tracker <tracker@example.scot>",
    "MAIL_REPLY_TO": "improvement.team@example.scot",
    "MAIL_TIMEOUT": 5,
}


@pytest.fixture
def app(make_app, mailbox):
    """The app, sending to the loopback mailbox."""
    app = make_app(**MAIL_CONFIG, MAIL_PORT=mailbox.port)
    with app.app_context():
        yield app


def at(year, month, day, hour=7, minute=0) -> dt.datetime:
    """A moment in UK local time (GMT or BST as the date requires)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
