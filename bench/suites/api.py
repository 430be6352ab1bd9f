"""The JSON API on the biggest plan, the sign-in limit check, and the cost of a password check."""
from __future__ import annotations

import datetime as dt
import statistics
import time

from sqlalchemy import delete, event, func, select

from tracker.api import tokens
from tracker.auth import throttle
from tracker.auth.models import ApiToken, Membership, Role, SignInAttempt
from tracker.auth.passwords import hash_password, verify_password
from bench import BenchContext, Result
from tracker.extensions import db
from tracker.plans.models import Action, Plan
from tracker.timeutil import utcnow

SUITE = "API and sign-in"


def _timed(fn, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _queries(fn) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def api_requests(ctx: BenchContext) -> list[Result]:
    repeat = 5 if ctx.quick else 20
    with ctx.app.app_context():
        plan_id, size = db.session.execute(
            select(Action.plan_id, func.count(Action.id)).group_by(Action.plan_id)
            .order_by(func.count(Action.id).desc()).limit(1)).one()
        partnership_id = db.session.get(Plan, plan_id).partnership_id
        manager = db.session.scalar(select(Membership).where(Membership.partnership_id == partnership_id,
                                                             Membership.role == Role.PLAN_MANAGER)).user
        token, secret = tokens.create_token(manager, "benchmark")
        db.session.commit()
        token_id = token.id
        action_id = db.session.scalar(select(Action.id).where(Action.plan_id == plan_id).limit(1))
    client = ctx.app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    def get(path):
        def call():
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        return call

    results = []
    try:
        for label, path in [
            ("GET /plans", "/api/v1/plans"),
            (f"GET /plans/id/actions, 100 a page ({size:,}-action plan)", f"/api/v1/plans/{plan_id}/actions?per_page=100"),
            ("... filtered rag=red", f"/api/v1/plans/{plan_id}/actions?rag=red&per_page=100"),
            ("GET /actions/id", f"/api/v1/actions/{action_id}"),
            ("GET /actions/id/updates", f"/api/v1/actions/{action_id}/updates"),
        ]:
            median, p95 = _timed(get(path), repeat)
            with ctx.app.app_context():
                queries = _queries(get(path))
            results.append(Result(SUITE, label, median, "ms", f"p95 {p95:.0f} ms, {queries} queries"))
    finally:
        with ctx.app.app_context():
            db.session.execute(delete(ApiToken).where(ApiToken.id == token_id))
            db.session.commit()
    return results


def sign_in_checks(ctx: BenchContext) -> list[Result]:
    """The limit check with a day's worth of failures in the table (an attack from many addresses)."""
    rows = 2_000 if ctx.quick else 50_000
    with ctx.app.app_context():
        now = utcnow()
        db.session.execute(SignInAttempt.__table__.insert(), [
            {"email": f"guess{n % 5000}@example.scot", "ip": f"10.{n % 250}.{n // 250 % 250}.1",
             "at": now - dt.timedelta(seconds=n % 86_000)} for n in range(rows)])
        db.session.commit()
        try:
            median, p95 = _timed(lambda: throttle.locked_until("guess7@example.scot", "10.7.0.1"), 50)
        finally:
            db.session.execute(delete(SignInAttempt).where(SignInAttempt.email.like("guess%@example.scot")))
            db.session.commit()
    password_hash = hash_password("bench-password-2026")
    verify, _ = _timed(lambda: verify_password(password_hash, "bench-password-2026"), 5)
    return [
        Result(SUITE, f"sign-in limit check ({rows:,} recent failures stored)", median, "ms", f"p95 {p95:.1f} ms"),
        Result(SUITE, "Argon2id password check (19 MiB, 2 passes)", verify, "ms", "per sign-in attempt"),
    ]


def run(ctx: BenchContext) -> list[Result]:
    return api_requests(ctx) + sign_in_checks(ctx)
