"""Demo self-evaluation data: Glasgow's 2020 draft round and an illustrative Dundee round for benchmarking."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker.demo.services import DUNDEE, GLASGOW, DemoContext, normalise_text
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.plans.models import Action
from tracker.selfeval import services
from tracker.selfeval.models import RoundStatus, SelfEvaluationRound

GLASGOW_2020 = "MSG self-evaluation 2020"
DUNDEE_2019 = "MSG self-evaluation 2019 (illustrative)"

#: Glasgow's 2020 draft: the 2019 rating moved for these proposals; None is not rated yet.
GLASGOW_2020_CHANGES = {"1.2": 2, "2.3": 1, "3.5": 1, "4.2": 2, "2.5": 2, "6.3": 0, "6.2": None}

#: Dundee's illustrative ratings (0 Not yet established ... 3 Exemplary), proposals for local completion only.
DUNDEE_LEVELS = {
    "1.1": 1, "1.2": 2, "1.3": 3, "2.1": 2, "2.2": 1, "2.3": 0, "2.4": 2, "2.5": 2, "2.6": 1,
    "3.1": 2, "3.4": 1, "3.5": 0, "4.1": 2, "4.2": 1, "4.3": 2, "4.4": 1, "4.5": 2,
    "5.1": 1, "5.2": 2, "6.1": 2, "6.2": 3, "6.3": 2,
}


def load_demo_selfeval(ctx: DemoContext) -> None:
    """Link Glasgow's 2019 proposed actions to its tracked actions, then add the 2020 and Dundee rounds."""
    manager = ctx.users["manager@demo.scot"]
    glasgow_2019 = ctx.rounds[GLASGOW]
    _link_glasgow_2019(ctx, glasgow_2019, manager.id)
    _glasgow_2020(ctx, glasgow_2019, manager.id)
    _dundee_2019(ctx, manager.id)


def _find_round(partnership_id: int, title: str) -> SelfEvaluationRound | None:
    return db.session.scalar(select(SelfEvaluationRound).where(
        SelfEvaluationRound.partnership_id == partnership_id, SelfEvaluationRound.title == title))


def _link_glasgow_2019(ctx: DemoContext, round_: SelfEvaluationRound, actor_id: int) -> None:
    actions = {normalise_text(a.text): a for a in db.session.scalars(
        select(Action).where(Action.plan_id == ctx.plans[GLASGOW].id))}
    for rating in round_.ratings:
        for proposed in rating.proposed:
            action = actions.get(normalise_text(proposed.text))
            if proposed.action_id is None and action is not None:
                services.link_proposed_action(proposed, action=action, actor_id=actor_id)


def _glasgow_2020(ctx: DemoContext, previous: SelfEvaluationRound, actor_id: int) -> None:
    if _find_round(ctx.partnerships[GLASGOW].id, GLASGOW_2020) is not None:
        return
    round_ = services.start_next_round(previous, title=GLASGOW_2020, actor_id=actor_id,
                                       completed_on=dt.date(2020, 3, 4))
    before = {r.item_id: r.level for r in previous.ratings}
    for rating in round_.ratings:
        if not rating.item.local_completion:
            continue
        number = rating.item.number
        changed = number in GLASGOW_2020_CHANGES
        level = GLASGOW_2020_CHANGES[number] if changed else before[rating.item_id]
        evidence = rating.evidence
        if changed and level is not None:
            evidence += "\nMarch 2020 review: the rating was revisited at the IJB development session."
        services.rate(rating, actor_id=actor_id, level=level, evidence=evidence,
                      participants="IJB members, senior management team, third sector interface",
                      proposed_actions="")


def _dundee_2019(ctx: DemoContext, actor_id: int) -> None:
    partnership = ctx.partnerships[DUNDEE]
    if _find_round(partnership.id, DUNDEE_2019) is not None:
        return
    msg = frameworks.msg_framework() or frameworks.load_msg()
    round_ = services.create_round(
        partnership=partnership, framework=msg, title=DUNDEE_2019, actor_id=actor_id,
        completed_on=dt.date(2019, 6, 12),
        agreed_at="Illustrative demo data, not Dundee's actual return: IJB development session, 12 June 2019",
        contact="Demo contact, Dundee Health and Social Care Partnership",
    )
    for rating in round_.ratings:
        level = DUNDEE_LEVELS.get(rating.item.number)
        if level is None:
            continue
        label = msg.levels[level].lower()
        services.rate(
            rating, actor_id=actor_id, level=level,
            evidence=f"Illustrative: the partnership judged this proposal {label}.\n"
                     "Illustrative: evidence was drawn from IJB papers and a staff survey.",
            participants="IJB members and senior officers (illustrative)",
            proposed_actions="Illustrative: agree an improvement action with the lead officer." if level < 2 else "",
        )
    services.change_status(round_, RoundStatus.AGREED, actor_id=actor_id)
