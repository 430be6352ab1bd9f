"""The demo reads as today: dated relative to the day it is loaded, labelled illustrative."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from tracker.committees.models import Committee
from tracker.demo.services import DemoDates, load_demo, months_before, shift_years
from tracker.extensions import db
from tracker.rag import Rag
from tracker.timeutil import local_date


@pytest.mark.parametrize("text,years,expected", [
    ("March 2023", 3, "March 2026"), ("2022/23", 3, "2025/26"), ("Development work", 3, "Development work"),
    ("Autumn 2022", 0, "Autumn 2022"), ("Scottish Government funding 2022", 1, "Scottish Government funding 2023"),
])
def test_shift_years(text, years, expected):
    assert shift_years(text, years) == expected


def test_months_before_keeps_the_day_or_the_months_end():
    assert months_before(dt.date(2026, 12, 1), 18) == dt.date(2025, 6, 1)
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 12, 15), -1) == dt.date(2027, 1, 15)


@pytest.mark.parametrize("today", [dt.date(2026, 12, 1), dt.date(2031, 5, 20)])
def test_the_demo_reads_as_today(app, today):
    ctx = load_demo(today=today)
    db.session.commit()
    dates = DemoDates(today)
    assert 17 <= (today - dates.agreed_on).days / 30.4 <= 19
    rags = Counter()
    for plan in ctx.plans.values():
        assert "Illustrative" in plan.description
        for action in plan.actions:
            assert local_date(action.created_at) == dates.agreed_on
            rags[action.rag(today).rag] += 1
    total = sum(rags.values())
    assert rags[Rag.GREEN] + rags[Rag.BLUE] > total / 2, rags
    assert 0 < rags[Rag.RED] < total / 5, rags
    slipped = [u for plan in ctx.plans.values() for a in plan.actions for u in a.updates if u.revision_reason]
    assert slipped and all(u.revision_reason.startswith("Illustrative") for u in slipped)
    for committee in db.session.scalars(select(Committee)):
        days = [m.held_on for m in committee.meetings]
        upcoming = [d for d in days if d >= today]
        assert any(d < today for d in days), committee.name
        assert upcoming and min(upcoming) <= months_before(today, -2), committee.name
        assert all(d.weekday() < 5 for d in days)
