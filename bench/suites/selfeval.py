"""Self-evaluation at national scale: one agreed MSG round per partnership, then the pages' work timed."""
from __future__ import annotations

import random
import statistics
import time

from sqlalchemy import event, select

from bench import BenchContext, Result
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.partnerships.models import Partnership
from tracker.selfeval import services
from tracker.selfeval.docx_export import export_round
from tracker.selfeval.models import RoundStatus, SelfEvaluationRound
from tracker.timeutil import today

SUITE = "Self-evaluation"
TITLE = "MSG self-evaluation (benchmark)"


def _rounds() -> list[SelfEvaluationRound]:
    """An agreed round per partnership, with evidence and proposed actions (made once, then reused)."""
    msg = frameworks.msg_framework() or frameworks.load_msg()
    rng = random.Random(4)
    for partnership in db.session.scalars(select(Partnership).order_by(Partnership.id)):
        exists = db.session.scalar(select(SelfEvaluationRound.id).where(
            SelfEvaluationRound.partnership_id == partnership.id, SelfEvaluationRound.title == TITLE))
        if exists:
            continue
        round_ = services.create_round(partnership=partnership, framework=msg, title=TITLE, actor_id=None)
        for rating in round_.ratings:
            if rating.item.local_completion:
                rating.level = rng.randrange(len(msg.levels))
                rating.evidence = "\n".join(f"Evidence point {n} for {rating.item.number}." for n in range(8))
                rating.proposed_actions = f"Improve {rating.item.number}\nReview {rating.item.number}"
        services.change_status(round_, RoundStatus.AGREED, actor_id=None)
    db.session.commit()
    return list(db.session.scalars(select(SelfEvaluationRound).where(SelfEvaluationRound.title == TITLE)))


def _timed(function, repeat: int) -> tuple[float, float]:
    """Median and worst time in milliseconds."""
    times = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def _queries(function) -> int:
    count = 0

    def count_query(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", count_query)
    try:
        db.session.expire_all()
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", count_query)
    return count


def run(ctx: BenchContext) -> list[Result]:
    repeat = 3 if ctx.quick else 10
    with ctx.app.app_context():
        rounds = _rounds()
        msg = rounds[0].framework
        round_id = rounds[0].id
        day = today()

        def overview():
            services.overview(services.load_round(round_id), day)

        def grid():
            services.benchmark(msg, None)

        def export():
            export_round(services.load_round(round_id))

        results = []
        for name, function in [("round overview (ratings, movement, action counts)", overview),
                               (f"benchmarking grid, {len(rounds)} partnerships", grid),
                               ("export a round to .docx", export)]:
            median, worst = _timed(function, repeat)
            results.append(Result(SUITE, name, median, "ms", f"median of {repeat}; worst {worst:.0f} ms; "
                                                              f"{_queries(function)} queries"))
        return results
