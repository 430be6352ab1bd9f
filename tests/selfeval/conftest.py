from __future__ import annotations

import pytest

from tests import factories
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.selfeval import services


@pytest.fixture
def msg(app):
    return factories.msg()


@pytest.fixture
def items(msg):
    return frameworks.items_by_number(msg)


@pytest.fixture
def draft(world, msg):
    """A draft round of the home partnership, nothing rated yet."""
    round_ = services.create_round(partnership=world.home, framework=msg, title="MSG self-evaluation 2019",
                                   actor_id=world.manager.id, agreed_at="IJB development session, 10 May 2019")
    db.session.commit()
    return round_


def rating_of(round_, number):
    return next(r for r in round_.ratings if r.item.number == number)


def rate_all(round_, level=2, *, actor_id=None, **overrides):
    """Rate every proposal for local completion (overrides: number -> level)."""
    for rating in round_.ratings:
        if rating.item.local_completion:
            services.rate(rating, actor_id=actor_id, level=overrides.get(rating.item.number, level),
                          evidence=f"Evidence for {rating.item.number}\nSecond paragraph",
                          participants="IJB members", proposed_actions=f"Improve {rating.item.number}",
                          reason="Correction" if round_.status != "draft" else None)
    db.session.flush()
