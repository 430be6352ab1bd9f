"""Demo data: Dundee's six carers indicators with illustrative values (a DEMO_STEPS entry)."""
from __future__ import annotations

from sqlalchemy import select

from tracker.demo.services import DUNDEE, data
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.indicators import services
from tracker.indicators.models import Dimension, Indicator, IndicatorValue
from tracker.periods import Period
from tracker.timeutil import today

ILLUSTRATIVE = "Illustrative figures for the demonstration, not Dundee's published data."

#: name -> (definition, higher is better, target, source, responsible officer, priority areas, values oldest first)
#: Quarterly values fill the last eight complete quarters; the biennial survey has two results.
DETAILS = {
    "Percentage of carers who feel supported in their caring role": (
        "Percentage of carers answering positively to 'I feel supported to continue caring' in the national "
        "Health and Care Experience Survey (every two years).",
        True, 35.0, "Health and Care Experience Survey", "dundee.officer@demo.scot", ["2.4", "4.1"], [29.6, 31.0]),
    "Number of carers supported via contracted services": (
        "Carers receiving support from services the partnership contracts (carers centre, advocacy, "
        "short breaks) in the quarter.", True, 1900.0, "Contract monitoring returns", "dundee.officer@demo.scot",
        ["2.4"], [1640, 1672, 1705, 1731, 1768, 1790, 1822, 1865]),
    "Number of Carers with Adult Carer Support Plans in place": (
        "Adult carers with a current Adult Carer Support Plan at the end of the quarter.", True, 450.0,
        "Social work case management system", "dundee.officer@demo.scot", ["4.1"],
        [360, 371, 379, 388, 395, 401, 406, 412]),
    "Number of Carers accessing short breaks": (
        "Carers who had a short break (respite) funded or arranged by the partnership in the quarter.", True, 300.0,
        "Short breaks service returns", "officer@demo.scot", ["4.4"], [262, 270, 281, 276, 290, 297, 305, 318]),
    "Number of hours of respite provided related to carers support": (
        "Hours of respite care provided to give carers a break, in the quarter.", True, 12000.0,
        "Commissioned services returns", "officer@demo.scot", ["4.4"],
        [10400, 10650, 10820, 11010, 11150, 11300, 11420, 11520]),
    "Number of carers supported through the SDS process": (
        "Carers with a self-directed support option agreed for their own support in the quarter.", True, 250.0,
        "Self-directed support records", "dundee.officer@demo.scot", ["4.2"],
        [181, 188, 196, 203, 209, 215, 224, 232]),
}


#: Dundee's eight localities and an illustrative share of carers in each, for the contracted services breakdown.
LOCALITY_SHARES = {"Coldside": 0.15, "East End": 0.14, "Lochee": 0.16, "Maryfield": 0.11, "North East": 0.11,
                   "Strathmartine": 0.14, "The Ferry": 0.09, "West End": 0.10}
BROKEN_DOWN = "Number of carers supported via contracted services"


def locality_breakdown(total: float) -> list[services.BreakdownInput]:
    """The total split across the localities, whole numbers that add up to it."""
    parts = {name: round(total * share) for name, share in LOCALITY_SHARES.items()}
    parts["Coldside"] += int(total) - sum(parts.values())
    return [services.BreakdownInput(Dimension.LOCALITY, name, float(value)) for name, value in parts.items()]


def load_demo_indicators(ctx) -> None:
    """Dundee's indicators on its delivery plan, each with illustrative values. Idempotent."""
    plan = ctx.plans[DUNDEE]
    items = frameworks.items_by_number(plan.framework)
    manager = ctx.users["manager@demo.scot"]
    latest_quarter = Period.containing("quarterly", today()).previous()
    quarters = [latest_quarter]
    while len(quarters) < 8:
        quarters.insert(0, quarters[0].previous())
    for spec in data("dundee_carers_2022")["indicators"]:
        definition, higher, target, source, officer, areas, values = DETAILS[spec["name"]]
        indicator = db.session.scalar(select(Indicator).where(Indicator.plan_id == plan.id,
                                                              Indicator.name == spec["name"]))
        if spec["frequency"] == "biennial":
            periods = [Period.parse("biennial", "2021-23"), Period.parse("biennial", "2023-25")]
        else:
            periods = quarters
        if indicator is None:
            indicator = services.create_indicator(
                plan, name=spec["name"], frequency=spec["frequency"], starts_on=periods[0].start,
                actor_id=manager.id, unit=spec["unit"], definition=f"{definition} {ILLUSTRATIVE}",
                higher_is_better=higher, target=target, source=source,
                responsible_officer_id=ctx.users[officer].id, items=[items[n] for n in areas])
        has_values = db.session.scalar(select(IndicatorValue.id).where(IndicatorValue.indicator_id == indicator.id)
                                       .limit(1))
        if has_values is None:
            for index, (period, value) in enumerate(zip(periods, values)):
                parts = locality_breakdown(value) if spec["name"] == BROKEN_DOWN and index >= len(values) - 2 else []
                services.enter_value(indicator, period, value=float(value), note="Illustrative figure.",
                                     breakdowns=parts, actor_id=ctx.users[officer].id, today=today(), via="demo")
    db.session.flush()
