"""Issue 12: SIGKILL a real sending process at random points, then run again: every message delivered exactly
once, except at most one `uncertain` per kill, and none left in flight. Bounded: TRIALS kills, each in well
under a second."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import subprocess_env
from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.reminders import sendlog
from tracker.reminders.models import ReminderSend, SendStatus

from .smtp_sink import Sink

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 20
PER_TRIAL = 5


@pytest.fixture
def sink():
    server = Sink()
    server.reply_delay = 0.005  # a run of PER_TRIAL messages takes long enough to be killed inside it
    yield server
    server.close()


@pytest.fixture
def app(make_app, sink):
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
                   MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_TIMEOUT=5)
    with app.app_context():
        yield app


def deliver_when_free(deadline_seconds: float = 10) -> sendlog.DeliveryReport:
    """The next holder of the lock: as soon as the killed process's lock is gone."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        report = sendlog.deliver()
        if not report.busy:
            return report
        assert time.monotonic() < deadline, "the killed sender's lock was never released"
        time.sleep(0.02)


def test_sigkill_at_random_points_never_duplicates_or_loses(app, sink, database_url):
    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", PYTHONPATH=str(ROOT),
                         TRACKER_INSTANCE_PATH=app.instance_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(sink.port),
                         MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_TIMEOUT="5", BASE_URL="http://tracker.test")
    worker = subprocess.Popen([sys.executable, str(ROOT / "tests/faults/sender.py")], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rng = random.Random(12)
    started = time.monotonic()
    references = {}
    try:
        assert worker.stdout.readline().strip() == "ready"
        for trial in range(TRIALS):
            for n in range(PER_TRIAL):
                send_id = outbox.enqueue(kind="papers_issued", key=f"workbook:{trial}-{n}",
                                         to=f"member{n}@example.scot", subject=f"Papers {trial}-{n}", body="x")
                references[send_id] = f"papers_issued:workbook:{trial}-{n}:{send_id}"
            db.session.commit()
            worker.stdin.write("go\n")
            worker.stdin.flush()
            pid = int(worker.stdout.readline())
            time.sleep(rng.uniform(0.0, 1.0))  # from before its first message to after its last
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it had finished
            db.session.remove()
            deliver_when_free()
            db.session.expire_all()
            assert db.session.scalar(select(func.count()).where(
                ReminderSend.status.in_([SendStatus.IN_FLIGHT, SendStatus.PENDING]))) == 0, "left in flight or queued"
    finally:
        worker.stdin.close()
        worker.wait(timeout=10)
        worker.stdout.close()
    elapsed = time.monotonic() - started
    counts = sink.counts()
    rows = {r.id: r.status for r in db.session.scalars(select(ReminderSend))}
    assert set(rows) == set(references)
    uncertain = [i for i, status in rows.items() if status is SendStatus.UNCERTAIN]
    assert len(uncertain) <= TRIALS, "at most one uncertain per kill"
    assert max(counts.values()) == 1, "a duplicate"
    for send_id, status in rows.items():
        if status is SendStatus.SENT:
            assert counts[references[send_id]] == 1, f"#{send_id} is marked sent but never arrived"
        else:
            assert status is SendStatus.UNCERTAIN and counts[references[send_id]] <= 1
    assert sum(counts.values()) >= len(rows) - len(uncertain)
    print(f"{TRIALS} kills in {elapsed:.1f} s: {len(rows)} messages, {len(uncertain)} uncertain, "
          f"{sum(counts.values())} delivered")
