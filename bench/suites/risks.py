"""Risk registers at national scale: 40 risks per partnership (31 partnerships), each on the partnership's
first plan with two mitigating actions and three reviews.

Measures the register page (as a member of the partnership, through the app's test client) and the Risks section of
the committee papers, and asserts their query counts do not grow with the number of risks (10 risks against
40). The rows it adds are removed at the end, so the dataset stays as the generator made it.
"""
from __future__ import annotations

import datetime as dt
import statistics
import time

from sqlalchemy import delete, event, insert, select

from bench import BenchContext, Result
from bench.suites.foundation import ensure_dataset
from tracker.auth.models import Membership, User
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan
from tracker.risks.models import Risk, RiskReview, risk_actions, risk_plans
from tracker.risks.papers import risk_section
from tracker.timeutil import today, utcnow

SUITE = "Risks"
PREFIX = "BENCH-"
PER_PARTNERSHIP = 40


def _remove() -> None:
    ids = select(Risk.id).where(Risk.reference.startswith(PREFIX)).scalar_subquery()
    for table in (risk_actions, risk_plans):
        db.session.execute(delete(table).where(table.c.risk_id.in_(ids)))
    db.session.execute(delete(RiskReview).where(RiskReview.risk_id.in_(ids)))
    db.session.execute(delete(Risk).where(Risk.reference.startswith(PREFIX)))
    db.session.commit()


def _seed(per_partnership: int, start: int = 0) -> dict[int, Plan]:
    """`per_partnership` more risks in every partnership (references from `start`); {partnership id: plan}."""
    now = utcnow()
    plans = {}
    for partnership_id in db.session.scalars(select(Partnership.id)):
        plan = db.session.scalar(select(Plan).where(Plan.partnership_id == partnership_id).order_by(Plan.id).limit(1))
        if plan is not None:
            plans[partnership_id] = plan
    db.session.execute(insert(Risk), [
        {"partnership_id": pid, "reference": f"{PREFIX}{n:03d}", "title": f"Bench risk {n}", "description": "",
         "categories": ["Financial", "Workforce", "Clinical"][n % 3], "mitigations": "", "recommendation": "",
         "status": "open", "created_at": now, "version": 1}
        for pid in plans for n in range(start, start + per_partnership)])
    risks = db.session.execute(select(Risk.id, Risk.partnership_id).where(
        Risk.reference.startswith(PREFIX), Risk.reference >= f"{PREFIX}{start:03d}")).all()
    actions = {pid: db.session.scalars(select(Action.id).where(Action.plan_id == plan.id).limit(20)).all()
               for pid, plan in plans.items()}
    db.session.execute(insert(risk_plans), [{"risk_id": rid, "plan_id": plans[pid].id} for rid, pid in risks])
    links = [{"risk_id": rid, "action_id": a} for rid, pid in risks
             for a in {actions[pid][rid % len(actions[pid])], actions[pid][(rid * 7) % len(actions[pid])]}
             if actions[pid]]
    if links:
        db.session.execute(insert(risk_actions), links)
    db.session.execute(insert(RiskReview), [
        {"risk_id": rid, "reviewed_at": now - dt.timedelta(days=90 * (2 - k)), "reason": "Bench", "status": "open",
         "inherent_likelihood": 4, "inherent_impact": 4, "residual_likelihood": 2 + (rid + k) % 3,
         "residual_impact": 3, "target_likelihood": 2, "target_impact": 2}
        for rid, _ in risks for k in range(3)])
    db.session.commit()
    return plans


def _count(function) -> int:
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        db.session.expire_all()
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def _timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(ctx: BenchContext) -> list[Result]:
    # Run alone: make sure the national data is there (after the foundation suite it is; counting again could
    # regenerate it, the other suites having added or removed a few actions).
    results = ensure_dataset(ctx) if "generated" not in ctx.extra else []
    with ctx.app.app_context():
        _remove()
        try:
            plans = _seed(10)
            pid, plan = next(iter(plans.items()))
            reader = db.session.scalar(select(User).join(Membership).where(Membership.partnership_id == pid)
                                       .order_by(User.id).limit(1))
            if reader is None:
                return results + [Result(SUITE, "skipped: no one in the first partnership", 0, "users")]
            client = ctx.app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = reader.get_id()
                session["_fresh"] = True
            day = today()

            def page():
                response = client.get(f"/risks/partnerships/{pid}")
                assert response.status_code == 200, response.status_code

            def section():
                risk_section(db.session, db.session.get(Plan, plan.id), day)

            page()  # the first request also sets up the session: counted from the second on, as every later one
            few = (_count(page), _count(section))
            started = time.perf_counter()
            _seed(PER_PARTNERSHIP - 10, start=10)
            seeded = time.perf_counter() - started
            many = (_count(page), _count(section))
            assert few == many, f"queries grow with the number of risks: {few} for 10 risks, {many} for 40"
            total = len(plans) * PER_PARTNERSHIP
            results += [
                Result(SUITE, "seed risks", seeded, "s", f"{total:,} risks in {len(plans)} partnerships"),
                Result(SUITE, "register page, 40 risks (median)", _timed(page, 5) * 1000, "ms", "with two heat maps"),
                Result(SUITE, "register page: queries", many[0], "queries", f"the same for 10 risks ({few[0]})"),
                Result(SUITE, "Risks section for a plan (median)", _timed(section, 5) * 1000, "ms",
                       f"{PER_PARTNERSHIP} risks"),
                Result(SUITE, "Risks section: queries", many[1], "queries", f"the same for 10 risks ({few[1]})"),
            ]
            return results
        finally:
            db.session.rollback()
            _remove()
