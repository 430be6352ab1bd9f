"""Loading the national dataset, and the timescale interpreter's throughput."""
from __future__ import annotations

import random
import time

from sqlalchemy import func, select

from bench import BenchContext, Result
from bench.generate import generate, timescale_phrase
from tracker.extensions import db
from tracker.plans.models import Action
from tracker.timescales import _interpret_text, interpret

SUITE = "Foundation"


def ensure_dataset(ctx: BenchContext) -> list[Result]:
    """Generate the data unless this database already holds it; report the load if generated."""
    with ctx.app.app_context():
        have = 0
        if not ctx.extra.get("regenerate"):
            try:
                have = db.session.scalar(select(func.count(Action.id))) or 0
            except Exception:
                db.session.rollback()
        if have >= ctx.actions:
            ctx.extra["generated"] = None
            return [Result(SUITE, "dataset reused (run with --regenerate to time loading)", have, "actions")]
        db.drop_all()
        db.create_all()
        made = generate(partnerships=ctx.partnerships, actions=ctx.actions, updates=ctx.updates,
                        progress=lambda m: print("   ", m, flush=True))
        ctx.extra["generated"] = made
        rows = made.actions + made.updates
        return [
            Result(SUITE, "load national dataset (all rows)", made.seconds, "s",
                   f"{made.partnerships} partnerships, {made.users:,} users, {made.actions:,} actions, "
                   f"{made.updates:,} updates"),
            Result(SUITE, "load rate, actions + updates", rows / made.seconds, "rows/s", ""),
            *[Result(SUITE, f"load: {part}", seconds, "s", "") for part, seconds in made.timings.items()],
        ]


def timescale_throughput() -> list[Result]:
    rng = random.Random(7)
    phrases = [timescale_phrase(rng) for _ in range(200_000)]
    unique = sorted(set(phrases))
    started = time.perf_counter()
    for phrase in phrases:
        interpret(phrase)
    mixed = len(phrases) / (time.perf_counter() - started)
    raw = _interpret_text.__wrapped__  # the uncached function behind interpret's lru_cache
    results = [Result(SUITE, "timescale interpret, realistic mix (cached)", mixed, "calls/s",
                      f"{len(unique):,} distinct phrases in {len(phrases):,}")]
    started = time.perf_counter()
    for phrase in unique:
        raw(phrase, None)
    results.append(Result(SUITE, "timescale interpret, each phrase new (uncached)",
                          len(unique) / (time.perf_counter() - started), "calls/s", ""))
    return results


def run(ctx: BenchContext) -> list[Result]:
    return ensure_dataset(ctx) + timescale_throughput()
