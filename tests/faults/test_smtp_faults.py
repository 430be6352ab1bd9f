"""Issue 12: a misbehaving SMTP server on loopback. Zero duplicates, zero lost, the right state for each."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.reminders import sendlog
from tracker.reminders.models import ReminderSend, SendStatus

from .smtp_sink import Sink

P, F, S, U = SendStatus.PENDING, SendStatus.FAILED, SendStatus.SENT, SendStatus.UNCERTAIN


@pytest.fixture
def sink():
    server = Sink()
    yield server
    server.close()


@pytest.fixture
def app(make_app, sink):
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
                   MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_TIMEOUT=0.5, MAIL_DATA_TIMEOUT=0.5)
    with app.app_context():
        yield app


@pytest.fixture
def queued(app):
    """Four e-mails in the outbox; returns their references as the sink records them."""
    ids = [outbox.enqueue(kind="papers_issued", key=f"workbook:{n}", to=f"member{n}@example.scot",
                          subject=f"Papers {n}", body=f"Download {n}") for n in range(1, 5)]
    db.session.commit()
    return {i: f"papers_issued:workbook:{n}:{i}" for n, i in enumerate(ids, start=1)}


def states() -> list[tuple[SendStatus, int]]:
    db.session.expire_all()
    return [(r.status, r.attempts) for r in db.session.scalars(select(ReminderSend).order_by(ReminderSend.id))]


def assert_each_once(sink, queued, *, uncertain_not_received=()):
    counts = sink.counts()
    assert max(counts.values()) == 1, f"a duplicate: {counts}"
    for send_id, reference in queued.items():
        if send_id not in uncertain_not_received:
            assert counts[reference] == 1, f"lost: {reference}"


def test_a_421_greeting_counts_against_the_run_and_every_message_goes_once_later(app, sink, queued):
    sink.greeting_421 = True
    for _ in range(3):
        report = sendlog.deliver()
        assert report.unavailable and "421" in report.errors[0]
    assert states() == [(P, 0)] * 4
    sink.greeting_421 = False
    assert sendlog.deliver().sent == 4
    assert states() == [(S, 1)] * 4
    assert_each_once(sink, queued)


def test_a_server_that_never_greets_is_given_up_after_the_short_timeout(app, sink, queued):
    sink.hang_greeting = True
    report = sendlog.deliver()
    assert report.unavailable and report.sent == 0
    assert states() == [(P, 0)] * 4
    sink.hang_greeting = False
    assert sendlog.deliver().sent == 4
    assert_each_once(sink, queued)


@pytest.mark.parametrize("fault", ["hang_after_dot", "drop_after_dot"])
def test_no_reply_after_the_final_dot_is_uncertain_and_never_sent_again(app, sink, queued, fault):
    """The old code recorded these as failed and sent them again: a duplicate."""
    sink.faults = {2: fault}
    report = sendlog.deliver()
    assert (report.sent, report.uncertain) == (1, 1)
    assert [s for s, _ in states()] == [S, U, P, P], "the rest wait for the next run"
    report = sendlog.deliver()
    assert report.sent == 2
    assert [s for s, _ in states()] == [S, U, S, S]
    assert sendlog.deliver().sent == 0
    assert_each_once(sink, queued)
    (uncertain,) = outbox.needing_a_person()
    assert uncertain.status is U and "final dot" in uncertain.last_error


def test_a_connection_dropped_before_the_final_dot_is_not_delivered_and_goes_next_run(app, sink, queued):
    sink.faults = {2: "drop_before_dot"}
    report = sendlog.deliver()
    assert report.sent == 1 and report.unavailable and report.requeued == 1
    assert states() == [(S, 1), (P, 0), (P, 0), (P, 0)]
    assert sendlog.deliver().sent == 3
    assert_each_once(sink, queued)


def test_a_refused_recipient_fails_alone(app, sink, queued):
    sink.refuse = {"member3@example.scot"}
    report = sendlog.deliver()
    assert (report.sent, report.failed) == (3, 1)
    assert states() == [(S, 1), (S, 1), (F, 1), (S, 1)]
    assert_each_once(sink, queued, uncertain_not_received=[list(queued)[2]])
    assert sink.counts()[list(queued.values())[2]] == 0


def test_a_slow_final_reply_waits_for_the_final_reply_timeout_not_the_command_timeout(make_app, sink):
    """MAIL_TIMEOUT (connect, greeting, commands) was also the wait after the dot: a slow relay's message
    was marked failed and sent again. The final reply has its own, long, MAIL_DATA_TIMEOUT."""
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
                   MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_TIMEOUT=0.3, MAIL_DATA_TIMEOUT=10)
    sink.reply_delay = 1.0
    with app.app_context():
        outbox.enqueue(kind="papers_issued", key="workbook:1", to="member@example.scot", subject="Papers", body="x")
        db.session.commit()
        assert sendlog.deliver().sent == 1
        assert states() == [(S, 1)]
    assert len(sink.received) == 1


def test_the_default_final_reply_timeout_is_rfc_5321s_ten_minutes(tmp_path):
    from tracker import config

    assert config.from_environment(str(tmp_path), {})["MAIL_DATA_TIMEOUT"] == 600
    assert config.from_environment(str(tmp_path), {"MAIL_DATA_TIMEOUT": "900"})["MAIL_DATA_TIMEOUT"] == 900
