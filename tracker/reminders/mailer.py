"""SMTP for reminders: one connection per run, reused for every message, configured like Flask-Mail."""
from __future__ import annotations

import smtplib
from email.message import Message

from tracker import mail
from tracker.mail import connect


class MailServerUnavailable(Exception):
    """The server cannot be reached or refused service (e.g. 421): stop the run, retry next time."""


class MessageRefused(Exception):
    """The server refused this one message (e.g. an unknown mailbox); others may still go."""


def build_message(config, *, to: str, to_name: str, subject: str, text: str, html: str,
                  reference: str) -> Message:
    """A reminder: the app's one message builder (tracker.mail), with a Reply-To (the sender when
    MAIL_REPLY_TO is not set) and headers marking it automatic."""
    return mail.build_message(
        config, to=to, to_name=to_name, subject=subject, body=text, html=html,
        reply_to=config.get("MAIL_REPLY_TO") or config["MAIL_DEFAULT_SENDER"], idstring=reference.replace(":", "."),
        headers={"Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies stay quiet
                 "X-Tracker-Reminder": reference})


class Mailer:
    """`with Mailer(config) as mailer: mailer.send(message)`: one SMTP session for the whole run."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        try:
            self.smtp = connect(self.config)
        except (OSError, smtplib.SMTPException) as error:
            server = f"{self.config['MAIL_SERVER']}:{self.config['MAIL_PORT']}"
            raise MailServerUnavailable(f"Cannot use the mail server {server}: {_describe(error)}") from error
        return self

    def send(self, message: Message) -> None:
        if self.smtp is None:
            raise MailServerUnavailable("The connection to the mail server is closed.")
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected as error:
            self._close()
            raise MailServerUnavailable(_describe(error)) from error
        except smtplib.SMTPException as error:  # (a subclass of OSError: caught first)
            # smtplib closes the session itself on a 421 ("service not available").
            if self.smtp.sock is None or getattr(error, "smtp_code", None) == 421 or _all_421(error):
                self._close()
                raise MailServerUnavailable(_describe(error)) from error
            raise MessageRefused(_describe(error)) from error
        except OSError as error:  # connection reset, timeout
            self._close()
            raise MailServerUnavailable(_describe(error)) from error

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._close()

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            except OSError:
                pass
        self.smtp = None


def _all_421(error: Exception) -> bool:
    recipients = getattr(error, "recipients", None)
    return bool(recipients) and all(code == 421 for code, _ in recipients.values())


def _describe(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    detail = getattr(error, "smtp_error", None)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    if code:
        return f"{code} {detail}"[:500]
    recipients = getattr(error, "recipients", None)
    if recipients:
        return "; ".join(f"{addr}: {c} {m.decode('utf-8', 'replace') if isinstance(m, bytes) else m}"
                         for addr, (c, m) in recipients.items())[:500]
    return (f"{type(error).__name__}: {error}")[:500]
