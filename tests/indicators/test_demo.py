"""Demo data: Dundee's six indicators with illustrative values, loaded idempotently."""
from __future__ import annotations

from sqlalchemy import func, select

from tracker.demo.services import DEMO_STEPS, load_demo
from tracker.extensions import db
from tracker.indicators import services
from tracker.indicators.models import Indicator, IndicatorValue


def test_demo_loads_dundees_six_indicators_labelled_illustrative(app):
    assert "tracker.indicators.demo:load_demo_indicators" in DEMO_STEPS
    ctx = load_demo()
    db.session.commit()
    load_demo()
    db.session.commit()
    indicators = db.session.scalars(select(Indicator).order_by(Indicator.id)).all()
    assert len(indicators) == 6
    assert all("Illustrative figures" in i.definition for i in indicators)
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 5 * 8 + 2
    trends = services.indicators_for_plan(ctx.plans["Dundee"])
    by_name = {t.indicator.name: t for t in trends}
    survey = by_name["Percentage of carers who feel supported in their caring role"]
    assert [p.period.label for p in survey.points] == ["2021-23", "2023-25"]
    assert len(by_name["Number of carers supported via contracted services"].points) == 8
    assert {t.rag.rag.value for t in trends} == {"red", "amber", "green"}
    [by_locality] = services.breakdown_tables(by_name["Number of carers supported via contracted services"])
    assert len(by_locality.rows) == 8 and len(by_locality.periods) == 2
    assert sum(figures[-1] for _, figures in by_locality.rows) == 1865
