"""The outbox writes each message on the wire itself (tracker.reminders.mailer.flatten): the same bytes the
email package's generator writes, for any subject, name and body the app's one builder is given.

Bounded by example count (derandomised, no database): well under a second.
"""
from __future__ import annotations

import copy
import email
import email.policy
import io
import re
from email.generator import BytesGenerator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import mail
from tracker.reminders import mailer

CONFIG = {"MAIL_DEFAULT_SENDER": "Action tracker <tracker@example.scot>", "MAIL_REPLY_TO": "Tìm <team@example.scot>"}
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)

#: Text as the templates and the services give it: any character but lone surrogates (Python str from
#: Jinja or the database never holds them), with the awkward cases drawn often.
TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300),
    st.text(alphabet=st.sampled_from("ab .\r\n\t-=_Fromò€"), max_size=200),
    st.sampled_from(["", ".", ".\n.", "From here\n.dot\r\nlast", "a\rb\r\nc\n", "x" * 1200, "Mòrag " * 40,
                     "--=_0123456789abcdef\n", "line\n"]),
)
#: Subjects and names are single lines in the app (tracker.text.line); long and non-ASCII ones are folded.
LINE = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=120),
    st.sampled_from(["Your actions: 3 overdue", "Update needed for the IJB on 1 April 2026", "O'Neil, \"Jo\"",
                     "Ùisdean MacLeòid", "x" * 90, "a  b   c ", " lead", "Escalation: " + "word " * 30]),
)


def generator_bytes(message) -> bytes:
    """What the email package writes (as smtplib sends: no '>From' mangling), dot-stuffed, with the final dot."""
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False).flatten(message, linesep="\r\n")
    data = re.sub(rb"(?m)^\.", b"..", buffer.getvalue())
    return (data if data.endswith(b"\r\n") else data + b"\r\n") + b".\r\n"


def lines_of(text: str) -> list[str]:
    """The lines of a body, whatever its line ends (the wire's are CRLF, and it ends with one)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")


def build(subject, name, text, html):
    return mailer.build_message(CONFIG, to="officer@example.scot", to_name=name, subject=subject, text=text,
                                html=html, reference="digest:day:2026-11-23:7")


@PROPERTY
@given(subject=LINE, name=LINE, text=TEXT, html=st.one_of(st.none(), TEXT))
def test_the_wire_form_is_the_generators(subject, name, text, html):
    """Mutation it catches: a header longer than a line written unfolded, a CR or LF left bare, a leading
    dot not doubled, a boundary a part contains."""
    message = build(subject, name, text, html)
    assert mailer._wire(message) is not None  # the direct path, not the generator
    wire = mailer.flatten(message)  # sets the multipart boundary, as the generator would
    assert wire == generator_bytes(copy.deepcopy(message))
    lines = wire.split(b"\r\n")
    assert b"\r" not in wire.replace(b"\r\n", b"") and b"\n" not in wire.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in lines)  # RFC 5322's limit (headers are folded where they can be)
    # Read back as a recipient would: the same subject, name and bodies.
    received = email.message_from_bytes(re.sub(rb"(?m)^\.", b"", wire[:-3]), policy=email.policy.default)
    assert " ".join(received["Subject"].split()) == " ".join(subject.split())
    assert received["To"].addresses[0].addr_spec == "officer@example.scot"
    assert received["Date"] and received["Message-ID"].endswith("@example.scot>")
    assert lines_of(received.get_body(preferencelist=("plain",)).get_content()) == lines_of(text)
    if not html:  # no HTML part for an empty one
        assert not received.is_multipart()
    else:
        assert received.get_content_type() == "multipart/alternative"
        assert lines_of(received.get_body(preferencelist=("html",)).get_content()) == lines_of(html)


def test_non_ascii_goes_base64_and_in_encoded_words():
    message = build("Pàipearan: 2 overdue", "Mòrag Member", "Fàilte\n", "<p>Fàilte</p>")
    wire = mailer.flatten(message)
    assert wire.isascii()
    assert b"Subject: =?utf-8?" in wire and b"To: =?utf-8?" in wire
    assert wire.count(b"Content-Transfer-Encoding: base64") == 2
    assert re.search(rb"^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d ", wire, re.MULTILINE)


def test_a_boundary_never_occurs_in_a_part(monkeypatch):
    """Mutation it catches: the random boundary used without checking the 7-bit parts for it."""
    tokens = iter(["0123456789abcdef", "fedcba9876543210"])
    monkeypatch.setattr(mailer.secrets, "token_hex", lambda n: next(tokens))
    message = build("Subject", "", "--=_0123456789abcdef\n", "<p>x</p>")
    mailer.flatten(message)
    assert message.get_boundary() == "=_fedcba9876543210"


def test_shapes_the_builder_never_makes_go_through_the_generator():
    """A message of another shape (here a preamble, and a modern-policy message) is written by the generator."""
    message = build("Subject", "", "text", "<p>html</p>")
    message.preamble = "This is a multi-part message."
    assert mailer._wire(message) is None
    assert mailer.flatten(message) == generator_bytes(message)
    modern = email.message.EmailMessage()
    modern["Subject"] = "Hello"
    modern.set_content("Body")
    assert mailer._wire(modern) is None


@pytest.mark.parametrize("body", ["From the plan\n", ".\n", "a\n.\n.b\n"])
def test_body_lines_are_sent_as_written(body):
    """No '>From ' mangling (smtplib sends none); a leading dot is doubled on the wire, undone by the server."""
    wire = mailer.flatten(build("Subject", "", body, None))
    text = wire.split(b"\r\n\r\n", 1)[1][:-3]
    assert re.sub(rb"(?m)^\.", b"", text).replace(b"\r\n", b"\n") == body.encode()


def test_every_message_has_a_date():
    """RFC 5322 requires an origination date: the one builder writes it."""
    message = mail.build_message(CONFIG, to="a@example.scot", subject="S", body="B")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
