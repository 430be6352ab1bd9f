"""A tiny mailer: EmailMessages over smtplib, with the Flask-Mail setting names; recorded when suppressed."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    if config.get("MAIL_REPLY_TO"):
        msg["Reply-To"] = config["MAIL_REPLY_TO"]
    msg.set_content(body)
    return msg


def send(messages: list[EmailMessage]) -> None:
    """Send over SMTP, or record in app.extensions["outbox"] when MAIL_SUPPRESS_SEND is on."""
    if not messages:
        return
    config = current_app.config
    if config.get("MAIL_SUPPRESS_SEND"):
        current_app.extensions.setdefault("outbox", []).extend(messages)
        return
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        for msg in messages:
            smtp.send_message(msg)
