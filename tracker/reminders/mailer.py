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
import secrets
import smtplib
from collections.abc import Callable
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
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


#: The email package's line ends (email.generator.NLCRE): each becomes CRLF on the wire.
_LINE_END = re.compile(r"\r\n|\r|\n")
#: A header value the generator writes as it is: printable ASCII (no line ends, no control characters).
_PLAIN = re.compile(r"[ -~]*")
#: The generator folds a header line longer than this (RFC 5322's recommended limit).
_FOLD_AT = 78
#: Headers that need folding or encoding are folded exactly as the generator folds them.
_POLICY = compat32.clone(linesep="\r\n")


def flatten(message: Message) -> bytes:
    """The message as it goes on the wire after DATA: CRLF line ends, leading dots doubled, the final dot.

    The same bytes as the email package's BytesGenerator (without ">From " mangling, as smtplib sends),
    written directly for the shapes the app's one builder (tracker.mail.build_message) makes: text parts
    and multipart/alternative, each header already encoded. Anything else goes through the generator.
    """
    data = _wire(message)
    if data is None:
        buffer = io.BytesIO()
        BytesGenerator(buffer, mangle_from_=False).flatten(message, linesep="\r\n")
        data = buffer.getvalue()
    data = data.replace(b"\n.", b"\n..")  # a line that starts with a dot gets another (RFC 5321 4.5.2)
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _wire(message: Message) -> bytes | None:
    """BytesGenerator's output for a message of text parts, or None when the generator must write it.

    Per header, a short printable-ASCII value is written as it is (the generator's folding leaves such a
    line alone); any other value is folded by the email package's own policy. Per part, the payload (as
    MIMEText encoded it: 7bit or base64) with its line ends made CRLF. A multipart message gets a
    boundary that occurs in none of its parts, set on the message as the generator sets it.
    """
    try:
        out: list[str] = []
        if not _write_part(message, out):
            return None
        return "".join(out).encode("ascii")
    except (UnicodeError, TypeError):  # raw 8-bit data or an unexpected header: the generator knows best
        return None


def _write_part(message: Message, out: list[str]) -> bool:
    if message.policy is not compat32 or message.preamble is not None or message.epilogue is not None:
        return False
    payload = message.get_payload()
    if isinstance(payload, list):
        if message.get_content_maintype() != "multipart" or message.get_content_subtype() == "signed":
            return False
        parts = []
        for part in payload:
            if not isinstance(part, Message):
                return False
            body: list[str] = []
            if not _write_part(part, body):
                return False
            parts.append("".join(body))
        boundary = message.get_boundary()
        if not boundary:
            boundary = _boundary(parts)
            message.set_boundary(boundary)
        if not _write_headers(message, out):
            return False
        out.append("--" + boundary + "\r\n")
        out.append(("\r\n--" + boundary + "\r\n").join(parts))
        out.append("\r\n--" + boundary + "--\r\n")
        return True
    if not isinstance(payload, str) or message.get_content_maintype() != "text":
        return False
    if not _write_headers(message, out):
        return False
    out.append(payload.replace("\n", "\r\n") if "\r" not in payload else _LINE_END.sub("\r\n", payload))
    return True


def _write_headers(message: Message, out: list[str]) -> bool:
    for name, value in message.raw_items():
        if isinstance(value, str) and len(name) + len(value) + 2 <= _FOLD_AT and _PLAIN.fullmatch(value):
            out.append(f"{name}: {value}\r\n")
        else:
            out.append(_POLICY.fold_binary(name, value).decode("ascii"))
    out.append("\r\n")
    return True


def _boundary(parts: list[str]) -> str:
    """A boundary that no part contains: '=_' (which base64 and quoted-printable never write) and 64 random
    bits, short enough that its Content-Type header needs no folding."""
    while True:
        boundary = f"=_{secrets.token_hex(8)}"
        if not any(boundary in part for part in parts):
            return boundary


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
