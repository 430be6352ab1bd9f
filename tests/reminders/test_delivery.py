"""Exactly once: SMTP failures, crashes and concurrent runs never duplicate or lose a reminder."""
from __future__ import annotations

import datetime as dt
import sys
import threading
import traceback

import pytest
from sqlalchemy import select

from tests import factories
from tracker.extensions import db
from tracker.reminders import jobs, sendlog, services
from tracker.reminders.mailer import Mailer
from tracker.reminders.models import ReminderSend, SendStatus

from .conftest import at, free_port

MONDAY = at(2026, 11, 23)


@pytest.fixture
def officers(world, time_machine):
    """Five officers, each leading one overdue action: five digests are due on Monday."""
    time_machine.move_to(at(2026, 9, 1), tick=False)
    leads = [factories.user(world.home, email=f"lead{n}@example.scot") for n in range(5)]
    for n, lead in enumerate(leads):
        factories.action(world.plan, lead=lead, timescale=dt.date(2026, 11, 10 + n), ref=f"L{n}")
    db.session.commit()
    time_machine.move_to(MONDAY, tick=False)
    return leads


EXPECTED = [f"lead{n}@example.scot" for n in range(5)]


def statuses() -> list[tuple[str, SendStatus, int]]:
    db.session.expire_all()
    return list(db.session.execute(
        select(ReminderSend.recipient, ReminderSend.status, ReminderSend.attempts).order_by(ReminderSend.recipient)))


def test_smtp_connection_refused_counts_against_the_run_not_the_messages(officers, mailbox, app):
    """Issue 12: ten runs against a closed port left every row `failed (attempts 10)`, never sent again."""
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    for _ in range(sendlog.MAX_ATTEMPTS + 1):
        report = jobs.run()
        assert report.delivery.sent == 0 and report.delivery.failed == 0 and report.delivery.unavailable
    assert "Connection refused" in report.delivery.errors[0] or "Errno 111" in report.delivery.errors[0]
    assert [(status, attempts) for _, status, attempts in statuses()] == [(SendStatus.PENDING, 0)] * 5

    app.config["MAIL_PORT"] = mailbox.port
    report = jobs.run()  # the server is back
    assert report.due == [] and report.delivery.sent == 5
    assert mailbox.recipients() == EXPECTED
    assert [(status, attempts) for _, status, attempts in statuses()] == [(SendStatus.SENT, 1)] * 5

    jobs.run()
    assert len(mailbox.messages) == 5


def test_a_421_response_stops_the_run_and_the_next_run_sends_everything_once(officers, mailbox, app):
    mailbox.refuse_with = "421 4.3.2 Service not available, closing transmission channel"
    report = jobs.run()
    assert report.delivery.sent == 0 and report.delivery.failed == 0 and report.delivery.unavailable
    assert "421" in report.delivery.errors[0]
    assert [(s, n) for _, s, n in statuses()] == [(SendStatus.PENDING, 0)] * 5, "a 421 is the server's, not theirs"

    mailbox.refuse_with = None
    jobs.run()
    assert mailbox.recipients() == EXPECTED
    assert {s for _, s, _ in statuses()} == {SendStatus.SENT}


def test_a_refused_recipient_fails_alone_and_is_retried(officers, mailbox, app, monkeypatch, time_machine):
    original = Mailer.send
    calls = []

    def refuse_second(self, message, **kwargs):
        calls.append(message["To"])
        if len(calls) == 2:
            mailbox.refuse_with = "550 5.1.1 No such mailbox"
        try:
            return original(self, message, **kwargs)
        finally:
            mailbox.refuse_with = None

    monkeypatch.setattr(Mailer, "send", refuse_second)
    report = jobs.run()
    assert report.delivery.sent == 4 and report.delivery.failed == 1
    assert "550" in report.delivery.errors[0]
    monkeypatch.undo()
    jobs.run()
    assert len(mailbox.messages) == 4, "the refused one waits for its backoff"
    time_machine.move_to(MONDAY + sendlog.backoff(1) + dt.timedelta(seconds=1), tick=False)
    jobs.run()
    assert mailbox.recipients() == EXPECTED


def test_a_crash_between_deciding_and_sending_is_sent_by_the_next_run(officers, mailbox, app):
    sendlog.record(services.due_reminders(MONDAY.date()))
    db.session.commit()  # decided... and the process dies here
    assert {s for _, s, _ in statuses()} == {SendStatus.PENDING}
    assert mailbox.messages == []

    report = jobs.run()
    assert report.due == [] and report.already_logged == 5
    assert mailbox.recipients() == EXPECTED
    jobs.run()
    assert len(mailbox.messages) == 5


class ProcessDied(BaseException):
    """Stands in for the process being killed: nothing after it runs."""


def test_a_crash_while_sending_leaves_one_uncertain_and_the_next_run_sends_the_rest_at_once(
        officers, mailbox, app, monkeypatch):
    """Issue 12: the unsent rest of a crashed run's batch stayed `sending` for an hour."""
    original = Mailer.send
    sent = []

    def die_after_second_message(self, message, **kwargs):
        original(self, message, **kwargs)
        sent.append(message["To"])
        if len(sent) == 2:
            raise ProcessDied  # the server has the message; we die before recording it

    monkeypatch.setattr(Mailer, "send", die_after_second_message)
    with pytest.raises(ProcessDied):
        jobs.run()
    db.session.rollback()
    monkeypatch.undo()
    assert [s for _, s, _ in statuses()] == [SendStatus.SENT, SendStatus.IN_FLIGHT, SendStatus.PENDING,
                                             SendStatus.PENDING, SendStatus.PENDING]

    report = jobs.run()  # at once: the dead run no longer holds the lock
    assert report.delivery.uncertain == 1 and report.delivery.sent == 3
    assert mailbox.recipients() == EXPECTED, "each exactly once"
    rows = statuses()
    assert [s for _, s, _ in rows] == [SendStatus.SENT, SendStatus.UNCERTAIN, SendStatus.SENT, SendStatus.SENT,
                                       SendStatus.SENT]


#: How long a thread of the two-runs tests waits for the other: a bound for a stuck test, not a timing.
WAIT = 30


def apps_for_threads(make_app, mailbox, count: int = 2) -> list:
    """An app per thread, each with its own engine and session, built here in the test's own thread: building
    an app compiles its URL rules with `ast.parse`, which is not thread-safe in CPython 3.11 (two threads at
    once fail now and then with "SystemError: AST constructor recursion depth mismatch")."""
    from .conftest import MAIL_CONFIG

    return [make_app(**MAIL_CONFIG, MAIL_PORT=mailbox.port) for _ in range(count)]


def stacks_of(threads) -> str:
    """Where each thread still running is (shown when a two-runs test fails)."""
    frames = sys._current_frames()
    return "\n".join(f"{t.name} still running:\n" + "".join(traceback.format_stack(frames[t.ident]))
                      for t in threads if t.is_alive() and t.ident in frames) or "no thread still running"


def test_two_runs_at_once_send_each_reminder_once(officers, mailbox, app, make_app):
    """Two threads, each with its own app, session and database connection, run the job together.

    Deterministic (issue 12: it failed under load): both decide before either records (a barrier), and the
    second tries to deliver exactly while the first is sending its first message (events, not timing).
    """
    decided = threading.Barrier(2)
    first_sending, second_tried = threading.Event(), threading.Event()
    errors, reports = [], {}
    original = mailbox.handle_DATA

    async def hold_the_first_message(server, session, envelope):
        if not first_sending.is_set():
            first_sending.set()
            second_tried.wait(timeout=WAIT)
        return await original(server, session, envelope)

    mailbox.handle_DATA = hold_the_first_message

    apps = dict(zip(("first", "second"), apps_for_threads(make_app, mailbox)))

    def run_in_thread(name):
        """jobs.run, with both threads deciding before either records."""
        other = apps[name]
        try:
            with other.app_context():
                reminders = services.unsent(services.due_reminders(MONDAY.date()))
                assert len(reminders) == 5
                decided.wait(timeout=WAIT)
                sendlog.record(reminders)
                db.session.commit()
                if name == "second":
                    assert first_sending.wait(timeout=WAIT)
                reports[name] = sendlog.deliver()
                db.session.remove()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            if name == "second":
                second_tried.set()

    first = threading.Thread(target=run_in_thread, args=("first",))
    second = threading.Thread(target=run_in_thread, args=("second",))
    for thread in (first, second):
        thread.start()
    for thread in (first, second):
        thread.join(timeout=2 * WAIT)
    assert errors == [], stacks_of((first, second))
    assert reports["second"].busy and reports["second"].sent == 0, "one sender at a time"
    assert reports["first"].sent == 5
    assert mailbox.recipients() == EXPECTED
    assert {s for _, s, _ in statuses()} == {SendStatus.SENT}


def test_two_runs_at_once_sharing_the_sending(officers, mailbox, app, make_app, monkeypatch):
    """Both runs find the same pending rows; each row is claimed and sent by exactly one of them."""
    sendlog.record(services.due_reminders(MONDAY.date()))
    db.session.commit()
    monkeypatch.setattr(sendlog, "BATCH_SIZE", 1)
    barrier = threading.Barrier(2)
    errors, reports = [], []

    def deliver_in_thread(other):
        try:
            with other.app_context():
                barrier.wait(timeout=WAIT)
                reports.append(sendlog.deliver())
                db.session.remove()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=deliver_in_thread, args=(other,))
               for other in apps_for_threads(make_app, mailbox)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT)
    assert errors == [], stacks_of(threads)
    assert sum(r.sent for r in reports) == 5
    assert mailbox.recipients() == EXPECTED


def test_suppressed_mail_is_logged_not_sent(officers, mailbox, app):
    app.config["MAIL_SUPPRESS_SEND"] = True
    report = jobs.run()
    assert report.delivery.suppressed == 5 and mailbox.messages == []
    assert {s for _, s, _ in statuses()} == {SendStatus.SUPPRESSED}


def test_two_processes_sending_at_once_send_each_reminder_once(officers, mailbox, app, database_url):
    """Two `flask reminders send` processes started together (say, two schedulers by mistake)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    from tests.conftest import subprocess_env

    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", PYTHONPATH=str(root),
                         TRACKER_INSTANCE_PATH=app.instance_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mailbox.port),
                         MAIL_DEFAULT_SENDER="tracker@example.scot", BASE_URL="http://tracker.test")
    command = [sys.executable, "-m", "flask", "--app", "tracker", "reminders", "send", "--today", "2026-11-23"]
    runs = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert mailbox.recipients() == EXPECTED
    assert {s for _, s, _ in statuses()} == {SendStatus.SENT}
