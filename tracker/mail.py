"""Sending e-mail: one builder for every message, sent over one SMTP connection with the Flask-Mail settings.

With MAIL_SUPPRESS_SEND the messages are only kept in `app.extensions["outbox"]` (tests, demos), as a
recipient would read them.
The app's e-mail goes through the outbox (tracker.outbox.services.enqueue, delivered by the scheduler);
`send_messages` is for the outbox's suppressed mode and for tools.
"""
from __future__ import annotations

import email
import functools
import socket
import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app


def build_message(config: Mapping | None = None, *, to: str, subject: str, body: str, to_name: str | None = None,
                  html: str | None = None, reply_to: str | None = None, idstring: str | None = None,
                  headers: Mapping[str, str] | None = None) -> Message:
    """The one builder of the app's e-mail: plain text (with an HTML alternative when `html` is given) from
    the configured sender, Reply-To `reply_to` or MAIL_REPLY_TO, and any extra `headers`.

    Built with the email package's classic (compat32) API: its headers are plain strings, where
    EmailMessage parses every header it is given, which costs more than sending the message.
    """
    config = current_app.config if config is None else config
    sender = config["MAIL_DEFAULT_SENDER"]
    if html is None:
        message = _part(body, "plain")
    else:
        message = MIMEMultipart("alternative")
        message.attach(_part(body, "plain"))
        message.attach(_part(html, "html"))
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    message["From"] = _address(sender)
    message["To"] = formataddr((to_name, to), charset="utf-8") if to_name else to
    reply_to = reply_to or config.get("MAIL_REPLY_TO")
    if reply_to:
        message["Reply-To"] = _address(reply_to)
    message["Date"] = formatdate(usegmt=True)  # RFC 5322 requires it; the time the message is made and sent
    message["Message-ID"] = make_msgid(idstring=idstring, domain=message_id_domain(sender))
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def message_id_domain(sender: str) -> str | None:
    """The domain of the sender's address, for Message-IDs: 'example.scot' for 'Tracker <t@example.scot>'."""
    return parseaddr(sender)[1].rpartition("@")[2] or None


def _address(value: str) -> str:
    """'Name <addr>' with a non-ASCII name encoded as RFC 2047 requires."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


#: RFC 5322's limit on a line (without its CRLF): a longer one cannot be sent as 7-bit.
MAX_LINE = 998


def _part(body: str, subtype: str) -> MIMEText:
    """7-bit when the body is ASCII in lines of at most 998 characters, else UTF-8 in base64 (safe for any
    server, and fast to encode)."""
    seven_bit = body.isascii() and (
        len(body) <= MAX_LINE or max(map(len, body.replace("\r", "\n").split("\n"))) <= MAX_LINE)
    return MIMEText(body, subtype, "us-ascii" if seven_bit else "utf-8")


def outbox() -> list[EmailMessage]:
    """Messages 'sent' while MAIL_SUPPRESS_SEND is on, parsed as their recipients would read them."""
    return current_app.extensions.setdefault("outbox", [])


def send_messages(messages: list[Message]) -> None:
    """Send every message over one SMTP connection (or keep them in the outbox when sending is suppressed)."""
    if not messages:
        return
    config = current_app.config
    if config.get("MAIL_SUPPRESS_SEND"):
        outbox().extend(email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in messages)
        return
    with connect(config) as connection:
        for message in messages:
            connection.send_message(message)


@functools.lru_cache(maxsize=1)
def local_hostname() -> str:
    """The name given in EHLO, looked up once per process (smtplib looks it up, in DNS, on every connection)."""
    return socket.getfqdn()


def connect(config) -> smtplib.SMTP:
    """An SMTP session set up as the Flask-Mail settings say (SSL or STARTTLS, login); the caller closes it."""
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config.get("MAIL_TIMEOUT", 30)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        connection = smtplib.SMTP_SSL(host, port, local_hostname=local_hostname(), context=context, timeout=timeout)
    else:
        connection = smtplib.SMTP(host, port, local_hostname=local_hostname(), timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            connection.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        connection.close()
        raise
    return connection
