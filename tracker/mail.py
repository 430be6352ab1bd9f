"""Sending e-mail: build EmailMessages and send them over one SMTP connection, with the Flask-Mail settings.

With MAIL_SUPPRESS_SEND the messages are only kept in `app.extensions["outbox"]` (tests, demos).
Call `send_messages` after the database commit, so that no e-mail describes a change that was rolled back.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app


def build_message(*, to: str, subject: str, body: str, to_name: str | None = None) -> EmailMessage:
    """A plain-text message from the configured sender."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = formataddr((to_name, to)) if to_name else to
    if config.get("MAIL_REPLY_TO"):
        message["Reply-To"] = config["MAIL_REPLY_TO"]
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or None)
    message.set_content(body)
    return message


def outbox() -> list[EmailMessage]:
    """Messages 'sent' while MAIL_SUPPRESS_SEND is on."""
    return current_app.extensions.setdefault("outbox", [])


def send_messages(messages: list[EmailMessage]) -> None:
    """Send every message over one SMTP connection (or keep them in the outbox when sending is suppressed)."""
    if not messages:
        return
    config = current_app.config
    if config.get("MAIL_SUPPRESS_SEND"):
        outbox().extend(messages)
        return
    with connect(config) as connection:
        for message in messages:
            connection.send_message(message)


def connect(config) -> smtplib.SMTP:
    """An SMTP session set up as the Flask-Mail settings say (SSL or STARTTLS, login); the caller closes it."""
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config.get("MAIL_TIMEOUT", 30)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        connection = smtplib.SMTP_SSL(host, port, context=context, timeout=timeout)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            connection.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        connection.close()
        raise
    return connection


def send_or_log(messages: list[EmailMessage]) -> bool:
    """Send, or log why not: for e-mail a page should not fail over (the change is already committed)."""
    try:
        send_messages(messages)
    except (OSError, smtplib.SMTPException):
        logging.getLogger("tracker.mail").exception("Could not send %d e-mail message(s)", len(messages))
        return False
    return True
