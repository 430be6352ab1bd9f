"""The overdue digest at scale: 10,000 overdue actions led by 1,000 officers, e-mailed over loopback SMTP.

Builds its own scratch database (ctx.scratch_url), runs an aiosmtpd server on loopback
whose handler only counts, times `tracker.reminders.jobs.run` (deciding, recording in the send
log, sending over one SMTP connection and marking each message) and counts its database
statements with an engine event listener. The baseline is plain smtplib sending the same
rendered messages (subject, text and HTML, made into MIME messages) over one connection to the same server.
"""
from __future__ import annotations

import datetime as dt
import smtplib
import socket
import statistics
import multiprocessing
import time

from sqlalchemy import event, insert, select, update

from tracker import create_app
from bench import BenchContext, Result
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.partnerships.models import Partnership
from tracker.periods import next_working_day
from tracker.plans.models import Action, Plan, ProgressUpdate
from tracker.rag import Status
from tracker.reminders import jobs
from tracker.reminders.mailer import build_message
from tracker.reminders.models import ReminderMessage, ReminderSend
from tracker.timeutil import today as uk_today

SUITE = "Reminders"
#: It builds its own scratch database: no national dataset needed.
NEEDS_DATASET = False
PLANS = 31
CHUNK = 2_000


class CountingHandler:
    """An SMTP handler that accepts and counts messages, nothing else."""

    def __init__(self, counter):
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def _serve(port: int, counter, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(CountingHandler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class LoopbackSMTP:
    """aiosmtpd in its own process (so it does not compete for this one's GIL), counting messages."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.port = _free_port()
        self.counter = context.Value("i", 0)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(target=_serve, args=(self.port, self.counter, self._ready, self._stop),
                                        daemon=True)

    def __enter__(self) -> LoopbackSMTP:
        self._process.start()
        if not self._ready.wait(60):
            raise RuntimeError("the loopback SMTP server did not start")
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def warm_up(self) -> None:
        """One untimed message, so the server's first-use costs fall on neither measurement."""
        with smtplib.SMTP("127.0.0.1", self.port) as smtp:
            smtp.sendmail("warm-up@bench.scot", ["warm-up@bench.scot"], "Subject: warm-up\r\n\r\nHello.\r\n")
        self.reset()

    @property
    def count(self) -> int:
        return self.counter.value

    def reset(self) -> None:
        self.counter.value = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(officers: int, actions: int, run_day: dt.date) -> None:
    """Officers each leading actions/officers overdue actions, each with one progress update."""
    partnership = Partnership(name="Benchmark IJB")
    db.session.add(partnership)
    framework = frameworks.load_msg()
    db.session.flush()
    users = db.metadata.tables["users"]
    db.session.execute(insert(users), [
        {"email": f"officer{n}@bench.scot", "name": f"Officer {n}", "active": True, "is_admin": False,
         "session_token": f"t{n}"} for n in range(officers + PLANS)])
    user_ids = db.session.scalars(select(users.c.id).order_by(users.c.id)).all()
    managers, leads = user_ids[:PLANS], user_ids[PLANS:]
    db.session.execute(insert(Plan), [
        {"partnership_id": partnership.id, "framework_id": framework.id, "name": f"Plan {n}",
         "manager_id": managers[n]} for n in range(PLANS)])
    plan_ids = db.session.scalars(select(Plan.id).order_by(Plan.id)).all()
    created = dt.datetime.combine(run_day - dt.timedelta(days=400), dt.time(9), tzinfo=dt.timezone.utc)
    updated = created + dt.timedelta(days=200)
    for start in range(0, actions, CHUNK):
        db.session.execute(insert(Action.__table__), [
            {"plan_id": plan_ids[n % PLANS], "ref": f"A{n}", "version": 1,
             "text": f"Implement improvement {n} with carers and partners across every locality",
             "lead_officer_id": leads[n % officers], "timescale_text": "", "timescale_kind": "dated",
             "due_end": run_day - dt.timedelta(days=1 + n % 20), "status": Status.ON_TRACK.value,
             "created_at": created, "updated_at": updated, "last_update_at": updated}
            for n in range(start, min(actions, start + CHUNK))])
    action_ids = db.session.scalars(select(Action.id)).all()
    for start in range(0, len(action_ids), CHUNK):
        db.session.execute(insert(ProgressUpdate.__table__), [
            {"action_id": action_id, "author_id": None, "created_at": updated, "status": Status.ON_TRACK.value,
             "narrative": "Draft circulated to partners for comment; workshop planned with carers."}
            for action_id in action_ids[start:start + CHUNK]])
    db.session.commit()


def clear_send_log() -> None:
    db.session.execute(ReminderMessage.__table__.delete())
    db.session.execute(ReminderSend.__table__.delete())
    db.session.commit()


def count_statements(engine):
    """A list that grows by one for every statement the engine executes, and a function to stop it."""
    seen = []

    def listener(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


def run(ctx: BenchContext) -> list[Result]:
    officers, actions = (100, 1_000) if ctx.quick else (1_000, 10_000)
    officers, actions = ctx.extra.get("reminders_scale", (officers, actions))
    url = ctx.scratch_url("bench_reminders")
    run_day = next_working_day(uk_today(), inclusive=True)
    with LoopbackSMTP() as server:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
            "BASE_URL": "https://tracker.example.scot", "MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": server.port, "MAIL_DEFAULT_SENDER": "tracker@bench.scot",
            "REMINDER_ESCALATION_DAYS": 10_000,  # the digest only
        })
        try:
            with app.app_context():
                db.create_all()
                build(officers, actions, run_day)

                server.warm_up()
                # Three runs, each from an empty send log, like the baseline below: the median counts.
                digest_timings, statement_counts = [], []
                for _ in range(3):
                    clear_send_log()
                    server.reset()
                    seen, stop = count_statements(db.engine)
                    started = time.perf_counter()
                    report = jobs.run(run_day)
                    digest_timings.append(time.perf_counter() - started)
                    stop()
                    statement_counts.append(len(seen))
                    sent = report.delivery.sent
                    assert sent == officers == server.count, (sent, server.count)
                digest_seconds = statistics.median(digest_timings)
                statements = max(statement_counts)

                # The same officers with half as many actions each: the statement count must not change.
                db.session.execute(update(Action).where(Action.id > actions // 2)
                                   .values(status=Status.COMPLETE.value))
                clear_send_log()
                seen, stop = count_statements(db.engine)
                jobs.run(run_day)
                stop()
                statements_half = len(seen)

                rows = db.session.execute(select(
                    ReminderSend.recipient, ReminderSend.recipient_name, ReminderSend.subject,
                    ReminderMessage.body_text, ReminderMessage.body_html, ReminderSend.kind, ReminderSend.period,
                    ReminderSend.id).join(ReminderMessage, ReminderMessage.send_id == ReminderSend.id)).all()
            # Plain smtplib: make each MIME message from the rendered subject and bodies, send it; one
            # connection, with the mailer's socket timeout (a production client needs one). The machine
            # may be shared: take the median of three runs.
            timings = []
            for _ in range(3):
                server.reset()
                started = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", server.port, timeout=app.config["MAIL_TIMEOUT"]) as smtp:
                    for r in rows:
                        smtp.send_message(build_message(
                            app.config, to=r.recipient, to_name=r.recipient_name, subject=r.subject,
                            text=r.body_text, html=r.body_html, reference=f"{r.kind}:{r.period}:{r.id}"))
                timings.append(time.perf_counter() - started)
                assert server.count == len(rows)
            smtplib_seconds = statistics.median(timings)
        finally:
            with app.app_context():
                db.engine.dispose()

    ratio = digest_seconds / smtplib_seconds
    return [
        Result(SUITE, f"digest run: {actions:,} overdue actions, {officers:,} officers", digest_seconds, "s",
               f"{sent:,} e-mails over one loopback SMTP connection; median of 3 runs "
               f"({', '.join(f'{t:.2f}' for t in digest_timings)} s); target within 2x smtplib "
               f"(ratio {ratio:.2f}x){'' if ratio <= 2 else ' - MISSED'}"),
        Result(SUITE, "plain smtplib, same messages, one connection", smtplib_seconds, "s",
               f"MIME from the same rendered texts, same socket timeout; median of 3 runs "
               f"({', '.join(f'{t:.2f}' for t in timings)} s)"),
        Result(SUITE, "digest run: database statements", statements, "queries",
               f"{statements / sent:.2f} per e-mail (claim and mark each); with half the actions: "
               f"{statements_half} (does not grow with actions)"),
    ]
