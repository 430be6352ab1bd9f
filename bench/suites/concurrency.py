"""16 writing clients at once: lead officers posting progress updates through the API to gunicorn.

Each client is a different lead officer with an API token, posting updates to the open actions they lead
(round-robin) for a fixed time, over keep-alive connections, against gunicorn with 4 sync workers. Counted:
updates saved per second and every answer that is not 201 (an error). Beside it, the CPU each saved update
cost the web workers, the database server (PostgreSQL's backends on this machine) and the clients, read from
/proc: where the time goes.

The target (issue 17) compares the databases: PostgreSQL's throughput at least 0.8x SQLite's on the same
machine, with zero errors. Two runs minutes apart differ by more than the target's margin on a shared machine
(0.69 to 0.79 in one day's full runs), so in the PostgreSQL phase, when the SQLite dataset is there too, the
ratio is measured turn about: both servers up, SQLite then PostgreSQL for 20 s each, three rounds, and the
median of the three rounds' ratios reported with each round's figures. Without the SQLite dataset,
bench/__main__.py divides the two phases' own runs.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from bench import BenchContext, Result, procfs, sqlite_dataset_url
from bench.suites.foundation import ensure_dataset
from bench.suites import pages
from tracker.api import tokens
from tracker.auth.models import Membership, Role, User
from tracker.extensions import db
from tracker.plans.models import Action
from tracker.rag import OPEN_STATUSES

SUITE = "Concurrency"
CLIENTS = 16
MEASURE = f"{CLIENTS} writing clients: progress updates saved"
RATIO = "PostgreSQL / SQLite writing throughput"
ROUNDS = 3
ROUND_SECONDS = 20.0
ROOT = Path(__file__).resolve().parents[2]


def gunicorn(database_url: str, workdir: Path, workers: int = 4):
    """The pages suite's gunicorn, with the production config file and more workers."""
    return pages.gunicorn(database_url, workdir, workers=workers,
                          extra=("--config", "python:tracker.gunicorn_config"), name="gunicorn-concurrency")


def clients(ctx: BenchContext) -> list[tuple[str, dict[int, int]]]:
    """(token, {open action id: version}) for the CLIENTS lead officers leading most open actions."""
    with ctx.app.app_context():
        leaders = db.session.execute(
            select(Action.lead_officer_id, func.count(Action.id)).where(
                Action.status.in_([s.value for s in OPEN_STATUSES]), Action.lead_officer_id.is_not(None))
            .group_by(Action.lead_officer_id).order_by(func.count(Action.id).desc()).limit(CLIENTS)).all()
        found = []
        for user_id, _ in leaders:
            user = db.session.get(User, user_id)
            if not db.session.scalar(select(Membership.id).where(Membership.user_id == user_id,
                                                                 Membership.role == Role.LEAD_OFFICER)):
                continue
            _, secret = tokens.create_token(user, "benchmark: concurrency")
            ids = dict(db.session.execute(select(Action.id, Action.version).where(
                Action.lead_officer_id == user_id, Action.status.in_([s.value for s in OPEN_STATUSES]))
                .order_by(Action.id).limit(50)).all())
            found.append((secret, ids))
        db.session.commit()
    return found


def hammer(url: str, people: list[tuple[str, dict[int, int]]], seconds: float,
           run: str = "") -> tuple[int, dict[str, int]]:
    """Each client posts for `seconds`; `run` names the run in every narrative, so that a second run never
    repeats the first one's words (the same update twice within minutes is refused as a repeat, 409)."""
    saved = [0] * len(people)
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int, secret: str, versions: dict[int, int]) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {secret}"
        ids = list(versions)
        n = 0
        while time.monotonic() < stop:
            action_id = ids[n % len(ids)]
            n += 1
            try:
                # At risk: allowed whether or not the action is overdue (On track on an overdue action asks
                # for a revised timescale).
                response = session.post(f"{url}/api/v1/actions/{action_id}/updates", timeout=60, json={
                    "status": "at_risk", "version": versions[action_id],
                    "narrative": f"Benchmark {run} update {n}: work progressing, some risk to the timescale."})
                key = None if response.status_code == 201 else f"HTTP {response.status_code}"
                if key is None:
                    versions[action_id] = response.json()["action"]["version"]
            except requests.RequestException as exc:
                key = type(exc).__name__
            if key is None:
                saved[index] += 1
            else:
                with lock:
                    errors[key] = errors.get(key, 0) + 1

    threads = [threading.Thread(target=client, args=(i, secret, ids)) for i, (secret, ids) in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(saved), errors


#: The tables an update reads and writes (the token, its owner, the action and what its answer shows).
WRITE_TABLES = ("api_tokens", "users", "memberships", "actions", "plans", "action_items", "framework_items",
                "action_organisations", "organisations", "progress_updates", "audit_events")


class CpuMeter:
    """CPU seconds spent, between start() and stop(), by the web workers (the gunicorn master's children), by
    the database server's backends (PostgreSQL on this machine: processes titled "postgres: ... <database>")
    and by this process (the clients' threads). Linux only (/proc); elsewhere every figure is 0."""

    def __init__(self, master_pid: int, database: str | None):
        self.master_pid, self.database = master_pid, database

    def _sample(self) -> dict[str, dict[int, float]]:
        sample: dict[str, dict[int, float]] = {"web workers": {}, "database server": {}}
        for pid, parent, command in procfs.processes():
            if parent == self.master_pid:
                kind = "web workers"
            elif self.database and command.startswith("postgres:") and f" {self.database} " in command:
                kind = "database server"
            else:
                continue
            seconds = procfs.cpu_seconds(pid)
            if seconds is not None:
                sample[kind][pid] = seconds
        return sample

    def start(self) -> None:
        self.before, self.own = self._sample(), time.process_time()

    def stop(self) -> dict[str, float]:
        after, own = self._sample(), time.process_time()
        spent = {kind: sum(seconds - self.before[kind].get(pid, 0.0) for pid, seconds in pids.items())
                 for kind, pids in after.items()}
        spent["clients"] = own - self.own
        return spent


def settle(ctx: BenchContext) -> None:
    """On PostgreSQL, what autovacuum does to a freshly loaded database within a minute or so (statistics
    gathered, the visibility map set), done before timing, as the pages suite does: otherwise the run measures
    autovacuum's first pass over half a million freshly loaded rows on the same two cores."""
    with ctx.app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) " + ", ".join(WRITE_TABLES))


def run(ctx: BenchContext) -> list[Result]:
    if "generated" not in ctx.extra:  # run alone: make sure the national data is there (once per run)
        ensure_dataset(ctx)
    settle(ctx)
    people = [p for p in clients(ctx) if p[1]]
    seconds = 8.0 if ctx.quick else 30.0
    with gunicorn(ctx.database_url, ctx.workdir) as url:
        stamp = time.strftime("%H%M%S")
        hammer(url, people, 2.0, f"warm-up {stamp}")  # every worker connected, caches filled
        with ctx.app.app_context():
            database = db.engine.url.database if db.engine.dialect.name == "postgresql" else None
        meter = CpuMeter(url.pid, database)
        meter.start()
        saved, errors = hammer(url, people, seconds, f"run {stamp}")
        spent = meter.stop()
    rate = saved / seconds
    wrong = sum(errors.values())
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "none"
    per_update = {kind: seconds_spent / saved * 1000 if saved else 0.0 for kind, seconds_spent in spent.items()}
    where = ", ".join(f"{kind} {ms:.2f}" for kind, ms in per_update.items() if ms or kind != "database server")
    cores = os.cpu_count() or 1
    busy = sum(spent.values()) / (seconds * cores)
    return [
        Result(SUITE, MEASURE, rate, "updates/s",
               f"{len(people)} officers for {seconds:.0f} s, gunicorn 4 workers; {saved:,} saved"),
        Result(SUITE, f"{CLIENTS} writing clients: CPU per update saved", sum(per_update.values()), "ms",
               f"{where} ms; the {cores} cores {busy:.0%} busy with these"),
        Result(SUITE, f"{CLIENTS} writing clients: errors", wrong, "answers",
               f"target zero: {'met' if wrong == 0 else 'NOT met'} ({detail})"),
    ] + interleaved(ctx)


def turn_about(rates: dict[str, list[float]], errors: int, seconds: float) -> Result:
    """The ratio row from rounds taken turn about: {"SQLite": [updates/s per round], "PostgreSQL": [...]}."""
    ratios = [p / q if q else 0.0 for q, p in zip(rates["SQLite"], rates["PostgreSQL"])]
    ratio = statistics.median(ratios)
    rounds = "; ".join(f"{q:.0f} and {p:.0f} updates/s, {r:.2f}"
                       for q, p, r in zip(rates["SQLite"], rates["PostgreSQL"], ratios))
    return Result(SUITE, RATIO, ratio, "x",
                  f"target at least 0.8x: {'met' if ratio >= 0.8 else 'NOT met'}; the median of {len(ratios)} "
                  f"rounds taken turn about, {seconds:.0f} s on each database a round (SQLite and PostgreSQL: "
                  f"{rounds}); errors {errors}", single=True)


def interleaved(ctx: BenchContext) -> list[Result]:
    """In the PostgreSQL phase, the ratio to SQLite measured turn about with the SQLite dataset (none without it)."""
    if ctx.database != "PostgreSQL":
        return []
    sqlite_url = sqlite_dataset_url(ctx.quick)
    if not Path(sqlite_url.removeprefix("sqlite:///")).exists():
        return []
    from tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "SECRET_KEY": "bench", "TESTING": True,
                      "SERVER_NAME": "bench.local", "MAIL_SUPPRESS_SEND": True})
    with app.app_context():
        try:
            have = db.session.scalar(select(func.count(Action.id))) or 0
        finally:
            db.session.remove()
    if have < ctx.actions:
        return []
    sides = {"SQLite": BenchContext(app=app, database_url=sqlite_url, workdir=ctx.workdir / "turn-sqlite",
                                    quick=ctx.quick),
             "PostgreSQL": BenchContext(app=ctx.app, database_url=ctx.database_url,
                                        workdir=ctx.workdir / "turn-postgresql", quick=ctx.quick)}
    seconds = 5.0 if ctx.quick else ROUND_SECONDS
    rates: dict[str, list[float]] = {name: [] for name in sides}
    wrong = 0
    stamp = time.strftime("%H%M%S")
    with contextlib.ExitStack() as stack:
        served, people = {}, {}
        for name, side in sides.items():
            side.workdir.mkdir(parents=True, exist_ok=True)
            people[name] = [p for p in clients(side) if p[1]]
            served[name] = stack.enter_context(gunicorn(side.database_url, side.workdir))
            hammer(served[name], people[name], 2.0, f"turn warm-up {stamp}")
        for round_number in range(ROUNDS):
            for name in sides:
                saved, errors = hammer(served[name], people[name], seconds, f"turn {round_number} {stamp}")
                rates[name].append(saved / seconds)
                wrong += sum(errors.values())
    with app.app_context():
        db.engine.dispose()
    return [turn_about(rates, wrong, seconds)]
