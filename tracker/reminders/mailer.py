"""SMTP for the outbox: one connection per run, reused for every message, configured like Flask-Mail.

`Mailer.send` speaks the transaction itself (MAIL, RCPT, DATA) so that it can tell the caller exactly what
is known about a message:

* `MailServerUnavailable`: the server cannot be used (no connection, a 421, the connection broke or timed out
  before the final dot was sent): the message was NOT delivered, and the failure belongs to the run.
* `MessageRefused`: the server refused this message (a 4xx or 5xx other than 421 for MAIL, RCPT or the final
  dot): not delivered, counted against the message.
* `DeliveryUncertain`: the final dot was sent, and the connection broke or timed out before the reply:
  the message may have been delivered.
* `NotSent`: `before_data` (the caller's commit of the in-flight state, and its fencing check) declined.
"""
from __future__ import annotations

import io
import re
import smtplib
from collections.abc import Callable
from email.generator import BytesGenerator
from email.message import Message
from email.utils import parseaddr

from tracker import mail
from tracker.mail import connect


class MailServerUnavailable(Exception):
    """The server cannot be reached or refused service (e.g. 421): stop the run, retry next time."""


class MessageRefused(Exception):
    """The server refused this one message (e.g. an unknown mailbox); others may still go."""


class DeliveryUncertain(Exception):
    """The connection broke or timed out after the final dot: the server may have the message."""


class NotSent(Exception):
    """The caller's before_data hook declined: the message was not sent (the session is reset)."""


def build_message(config, *, to: str, to_name: str, subject: str, text: str, html: str | None,
                  reference: str, automatic: bool = True) -> Message:
    """A message from the outbox: the app's one message builder (tracker.mail), with a Reply-To (the
    sender when MAIL_REPLY_TO is not set); reminders carry headers marking them automatic."""
    headers = {"X-Tracker-Reminder": reference}
    if automatic:
        headers["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay quiet
    return mail.build_message(
        config, to=to, to_name=to_name, subject=subject, body=text, html=html or None,
        reply_to=config.get("MAIL_REPLY_TO") or config["MAIL_DEFAULT_SENDER"], idstring=reference.replace(":", "."),
        headers=headers)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def flatten(message: Message) -> bytes:
    """The message as it goes on the wire after DATA: CRLF line ends, leading dots doubled, the final dot."""
    buffer = io.BytesIO()
    BytesGenerator(buffer).flatten(message, linesep="\r\n")
    data = _LEADING_DOT.sub(b"..", buffer.getvalue())
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class Mailer:
    """`with Mailer(config) as mailer: mailer.send(message, to=...)`: one SMTP session for the whole run."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.sender = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
        self.data_timeout = float(config.get("MAIL_DATA_TIMEOUT") or 600)

    def __enter__(self) -> Mailer:
        try:
            self.smtp = connect(self.config)
            self.smtp.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            server = f"{self.config['MAIL_SERVER']}:{self.config['MAIL_PORT']}"
            raise MailServerUnavailable(f"Cannot use the mail server {server}: {_describe(error)}") from error
        return self

    def send(self, message: Message, *, to: str | None = None,
             before_data: Callable[[], bool] | None = None) -> None:
        """Send one message to `to` (default: the To address). `before_data` runs once the recipient is
        accepted, just before DATA: it returns False (or raises) to send nothing."""
        if self.smtp is None:
            raise MailServerUnavailable("The connection to the mail server is closed.")
        smtp = self.smtp
        recipient = to or parseaddr(str(message["To"]))[1]
        payload = flatten(message)
        try:
            self._expect(smtp.mail(self.sender), (250,))
            self._expect(smtp.rcpt(recipient), (250, 251))
            if before_data is not None:
                try:
                    go = before_data()
                except BaseException:
                    self._reset()
                    raise
                if not go:
                    self._reset()
                    raise NotSent("Not sent: declined before DATA.")
            self._expect(smtp.docmd("DATA"), (354,))
            smtp.send(payload)  # raises (connection broken) before the whole message and final dot are out
        except smtplib.SMTPServerDisconnected as error:
            self._close()
            raise MailServerUnavailable(_describe(error)) from error
        except OSError as error:  # reset, timeout (before the final dot: not delivered)
            self._close()
            raise MailServerUnavailable(_describe(error)) from error
        # The final dot is out: from here a broken connection means we cannot know.
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(self.data_timeout)
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            cause = error if isinstance(error, OSError) else error.__cause__ or error.__context__
            if isinstance(cause, ConnectionResetError) or "Connection reset" in str(error):
                # A reset (not a clean close) means the server closed its end with our data unread: it never
                # read the final dot, so it cannot have accepted the message.
                raise MailServerUnavailable(f"The server dropped the connection before reading the whole "
                                            f"message: {_describe(error)}") from error
            raise DeliveryUncertain(f"No reply after the final dot: {_describe(error)}") from error
        finally:
            if smtp.sock is not None:
                smtp.sock.settimeout(self.config.get("MAIL_TIMEOUT", 30))
        if code == 250:
            return
        if code == 421:
            self._close()
            raise MailServerUnavailable(_reply(code, reply))
        raise MessageRefused(_reply(code, reply))

    def _expect(self, answer: tuple[int, bytes], codes: tuple[int, ...]) -> None:
        code, reply = answer
        if code in codes:
            return
        if code == 421 or code == -1:  # the server is closing the session
            self._close()
            raise MailServerUnavailable(_reply(code, reply))
        self._reset()
        raise MessageRefused(_reply(code, reply))

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._close()

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


def _reply(code: int, reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}"[:500]


def _describe(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    detail = getattr(error, "smtp_error", None)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    if code:
        return f"{code} {detail}"[:500]
    return (f"{type(error).__name__}: {error}")[:500]
