"""Decisions about indicators and their values. Services flush, never commit; the caller commits once.

Values are append-only: entering a value for a period that already has one is a *correction*, a new
entry that replaces the old one, so the history of every figure a committee saw is kept.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker.cells import looks_like_formula
from tracker.auth.models import User
from tracker import text as texts
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.frameworks.models import FrameworkItem
from tracker.indicators.models import Dimension, Indicator, IndicatorBreakdown, IndicatorTarget, IndicatorValue, Unit
from tracker.numbers import paper_number
from tracker.periods import FREQUENCIES, Period, add_working_days, financial_year_of
from tracker.plans.models import Action, Plan, action_items
from tracker.rag import Rag, RagResult, against_target
from tracker.timeutil import long_date, utcnow

#: A period's value is due this many working days after the period ends (Scottish bank holidays excluded).
VALUE_DUE_WORKING_DAYS = 20
#: How many periods the trend chart, the data table and the committee workbook show.
TREND_PERIODS = 8
#: `enter_value` without a concurrency check.
UNCHECKED = object()
#: Two figures this close are the same (floating point).
_EPSILON = 1e-9


class IndicatorError(RuleError):
    """Bad input for an indicator or a value, with a message in plain words; nothing was changed."""


class NeedsConfirmation(IndicatorError):
    """A value so far from the previous period's (or the target) that it is probably a typing slip: the
    person confirms it (`confirmed=True`) and it is saved as entered."""

    def __init__(self, message: str):
        super().__init__(message, "confirm")


#: A value this many times the previous period's, or the target, asks for confirmation.
UNUSUAL_FACTOR = 10


def unusual(indicator: Indicator, period: Period, total: float) -> str | None:
    """Why `total` looks like a slip ("more than 10 times Q1's 40"), or None."""
    previous = current_values([indicator.id])[indicator.id].get(period.previous().start)
    for label, reference in ((f"{period.previous().label}'s value", previous.value if previous else None),
                             ("the target", target_for(indicator, period))):
        if reference and reference > 0 and abs(total) > UNUSUAL_FACTOR * reference:
            return f"more than {UNUSUAL_FACTOR} times {label} ({format_value(reference, indicator.unit)})"
    return None


class ValueChangedError(IndicatorError):
    """Someone entered a value for the period after the form was loaded; nothing was saved."""

    status = 409


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------


def unit_suffix(unit: Unit | str) -> str:
    """What follows a number of this unit in a sentence: '72%', '1,200 hours'."""
    return {Unit.PERCENTAGE: "%", Unit.HOURS: " hours"}.get(Unit(unit), "")


def format_value(value: float | None, unit: Unit | str) -> str:
    """A value as committee papers write it ('1,234', '31.5%'); empty when there is none."""
    if value is None:
        return ""
    return paper_number(value, 1) + unit_suffix(unit)


#: Which text type each field is: one line (names) or paragraphs (definitions, notes).
_ONE_LINE = {"name": 300, "source": 500}


def check_text(text: str | None, what: str) -> str:
    """Free text of the kind `what` is (tracker.text), stripped; refused if a spreadsheet would run it."""
    label = f"The {what}"
    if what in _ONE_LINE:
        text = texts.line(text, field=what, label=label, max_length=_ONE_LINE[what]) or ""
    else:
        text = texts.paragraphs(text, field=what, label=label, max_length=5_000) or ""
    if looks_like_formula(text):
        raise IndicatorError(f"The {what} starts with '{text[0]}', which a spreadsheet would run as a formula. "
                             "Remove that character or start with a word.")
    return text


@dataclass(frozen=True)
class BreakdownInput:
    """One part of a value as entered: e.g. (locality, 'Coldside', 42)."""

    dimension: Dimension
    category: str
    value: float


def check_breakdowns(unit: Unit | str, total: float | None, breakdowns: Sequence[BreakdownInput]) -> float:
    """The total a value should be stored with, after checking its breakdowns.

    Counts and hours add up: each dimension's parts must sum to the total, and a blank total is the sum
    of the parts. Percentages and rates do not add up, so they need a total of their own.
    """
    unit = Unit(unit)
    by_dimension: dict[Dimension, list[BreakdownInput]] = defaultdict(list)
    for part in breakdowns:
        if not part.category.strip():
            raise IndicatorError(f"Give a name for each {part.dimension.label.lower()} in the breakdown.")
        by_dimension[part.dimension].append(part)
    for dimension, parts in by_dimension.items():
        names = [p.category.strip().lower() for p in parts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise IndicatorError(f"The {dimension.label.lower()} breakdown lists '{duplicates[0]}' more than once.")
        if any(p.value < 0 for p in parts) and unit.adds_up:
            raise IndicatorError(f"A {dimension.label.lower()} figure is negative: counts and hours cannot be.")
    if not unit.adds_up or not by_dimension:
        if total is None:
            raise IndicatorError("Enter a value.")
        return total
    sums = {dimension: sum(p.value for p in parts) for dimension, parts in by_dimension.items()}
    if total is None:
        distinct = sorted(set(round(s, 6) for s in sums.values()))
        if len(distinct) > 1:
            raise IndicatorError("The breakdowns do not add up to the same total: "
                                 + ", ".join(f"{d.label.lower()} {format_value(s, unit)}" for d, s in sums.items())
                                 + ". Enter the total, then check the parts.")
        total = next(iter(sums.values()))
    for dimension, parts_sum in sums.items():
        if abs(parts_sum - total) > 1e-6:
            raise IndicatorError(f"The {dimension.label.lower()} breakdown adds up to {format_value(parts_sum, unit)}, "
                                 f"not the total of {format_value(total, unit)}.")
    return total


def direction_of_travel(previous: float | None, latest: float | None, *, higher_is_better: bool) -> str:
    """'Improving', 'Worsening' or 'No change' from one period to the next; 'Not enough data' without both."""
    if previous is None or latest is None:
        return "Not enough data"
    if abs(latest - previous) < _EPSILON:
        return "No change"
    return "Improving" if (latest > previous) == higher_is_better else "Worsening"


def value_due_on(period: Period) -> dt.date:
    """The day a period's value falls due: VALUE_DUE_WORKING_DAYS working days after the period ends."""
    return add_working_days(period.end, VALUE_DUE_WORKING_DAYS)


def target_for(indicator: Indicator, period: Period) -> float | None:
    """The target in force for a period: the yearly target for the financial year the period starts in,
    else the standing target."""
    year = financial_year_of(period.start)
    for yearly in indicator.targets:
        if yearly.financial_year == year:
            return yearly.target
    return indicator.target


# ---------------------------------------------------------------------------
# Indicators
# ---------------------------------------------------------------------------


def snapshot(indicator: Indicator) -> dict:
    return {
        "name": indicator.name,
        "definition": indicator.definition,
        "unit": indicator.unit,
        "frequency": indicator.frequency,
        "higher_is_better": indicator.higher_is_better,
        "target": indicator.target,
        "targets": {str(t.financial_year): t.target for t in indicator.targets},
        "source": indicator.source,
        "responsible_officer_id": indicator.responsible_officer_id,
        "starts_on": indicator.starts_on,
        "items": sorted(item.number for item in indicator.items),
    }


def _apply(indicator: Indicator, changes: dict) -> None:
    for key, value in changes.items():
        if key == "frequency":
            if value not in FREQUENCIES:
                raise IndicatorError(f"Choose how often the indicator is measured: {', '.join(FREQUENCIES)}.")
            indicator.frequency = value
        elif key == "unit":
            indicator.unit = Unit(value)
        elif key == "items":
            indicator.items = list(value)
        elif key == "yearly_targets":
            wanted = dict(value)
            indicator.targets = [t for t in indicator.targets if t.financial_year in wanted]
            for t in indicator.targets:
                t.target = wanted.pop(t.financial_year)
            indicator.targets.extend(IndicatorTarget(financial_year=y, target=v) for y, v in sorted(wanted.items()))
        elif key in {"name", "definition", "source"}:
            setattr(indicator, key, check_text(value, key))
        elif key == "responsible_officer_id":
            officer = db.session.get(User, value) if value is not None and texts.in_id_range(value) else None
            if value is not None and (officer is None or officer.role_in(indicator.plan.partnership_id) is None):
                raise IndicatorError("The responsible officer must have an account in this partnership.", key)
            indicator.responsible_officer_id = value
        elif key in {"higher_is_better", "target", "starts_on"}:
            setattr(indicator, key, value)
        else:
            raise TypeError(f"unknown indicator field {key!r}")
    if not indicator.name:
        raise IndicatorError("Enter the indicator's name.", "name")
    texts.date_in_range(indicator.starts_on, field="starts_on", label="The first period")
    indicator.starts_on = Period.containing(indicator.frequency, indicator.starts_on).start


def _definer(actor, actor_id: int | None, plan: Plan) -> int | None:
    from tracker.indicators.permissions import can_define_indicators

    if actor is None:
        return actor_id
    if not can_define_indicators(actor, plan):
        raise NotAllowed("Only the plan's managers define its indicators.")
    return actor.id


def create_indicator(plan: Plan, *, name: str, frequency: str, starts_on: dt.date, actor_id: int | None = None,
                     actor=None, **fields) -> Indicator:
    """A new indicator on a plan. Fields: definition, unit, higher_is_better, target, yearly_targets
    ({financial year: target}), source, responsible_officer_id, items."""
    actor_id = _definer(actor, actor_id, plan)
    indicator = Indicator(plan=plan, definition="", source="", unit=Unit.COUNT, higher_is_better=True)
    _apply(indicator, {"name": name, "frequency": frequency, "starts_on": starts_on, **fields})
    db.session.add(indicator)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="indicator", entity_id=indicator.id, verb="create",
                 partnership_id=plan.partnership_id, plan_id=plan.id, after=snapshot(indicator),
                 summary=f"Created indicator {indicator.name}")
    return indicator


def edit_indicator(indicator: Indicator, *, actor_id: int | None = None, actor=None, **changes) -> Indicator:
    """Change an indicator's definition. Its frequency is fixed once values exist (they are per period)."""
    actor_id = _definer(actor, actor_id, indicator.plan)
    if "frequency" in changes and changes["frequency"] != indicator.frequency and _has_values(indicator):
        raise IndicatorError("The frequency cannot change once values have been entered: "
                             "they belong to periods of the current frequency.")
    before = snapshot(indicator)
    _apply(indicator, changes)
    old, new = audit.changes(before, snapshot(indicator))
    if old or new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="indicator", entity_id=indicator.id, verb="update",
                     partnership_id=indicator.plan.partnership_id, plan_id=indicator.plan_id, before=old, after=new,
                     summary=f"Edited indicator {indicator.name}")
    return indicator


def _has_values(indicator: Indicator) -> bool:
    return db.session.scalar(select(IndicatorValue.id).where(IndicatorValue.indicator_id == indicator.id)
                             .limit(1)) is not None


def plan_items(plan: Plan) -> list[FrameworkItem]:
    """The outcomes' priority areas or the proposals an indicator on this plan can evidence."""
    from tracker.frameworks.models import Theme

    return list(db.session.scalars(
        select(FrameworkItem).join(Theme).where(Theme.framework_id == plan.framework_id)
        .order_by(Theme.position, FrameworkItem.position)
    ))


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def current_values(indicator_ids: Iterable[int]) -> dict[int, dict[dt.date, IndicatorValue]]:
    """{indicator id: {period start: the entry in force}} in one query: the entries no correction replaced."""
    ids = list(indicator_ids)
    if not ids:
        return {}
    entries = db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.indicator_id.in_(ids)).order_by(IndicatorValue.id)
        .options(selectinload(IndicatorValue.breakdowns), selectinload(IndicatorValue.entered_by))
    ).all()
    replaced = {e.replaces_id for e in entries if e.replaces_id is not None}
    found: dict[int, dict[dt.date, IndicatorValue]] = {i: {} for i in ids}
    for entry in entries:
        if entry.id not in replaced:
            found[entry.indicator_id][entry.period_start] = entry  # the later of two racing first entries wins
    return found


def value_history(indicator: Indicator) -> list[IndicatorValue]:
    """Every entry for the indicator, newest first: the audit trail of corrections."""
    return list(db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)
        .order_by(IndicatorValue.period_start.desc(), IndicatorValue.id.desc())
        .options(selectinload(IndicatorValue.entered_by))
    ))


def corrections(history: Sequence[IndicatorValue]) -> list[tuple[IndicatorValue, IndicatorValue]]:
    """(correction, the entry it replaced) pairs from value_history(), in its order."""
    by_id = {entry.id: entry for entry in history}
    return [(entry, by_id[entry.replaces_id]) for entry in history if entry.replaces_id in by_id]


def _same(entry: IndicatorValue, value: float, note: str, breakdowns: Sequence[BreakdownInput]) -> bool:
    mine = sorted((b.dimension.value, b.category.strip(), b.value) for b in breakdowns)
    theirs = sorted((Dimension(b.dimension).value, b.category, b.value) for b in entry.breakdowns)
    return abs(entry.value - value) < _EPSILON and entry.note == note and mine == theirs


def check_period(indicator: Indicator, period: Period, today: dt.date) -> None:
    """A value is entered for a period of the indicator's frequency, between 1990 and 2100, once it has ended."""
    if period.frequency != indicator.frequency:
        raise IndicatorError(f"{period.label} is not a {indicator.frequency} period.", "period")
    texts.date_in_range(period.start, field="period", label="The period")
    if period.end >= today:
        raise IndicatorError(f"{period.label} has not ended yet: its value can be entered from "
                             f"{long_date(period.end + dt.timedelta(days=1))}.", "period")


def enter_value(
    indicator: Indicator,
    period: Period,
    *,
    value: float | None,
    actor_id: int | None = None,
    note: str = "",
    breakdowns: Sequence[BreakdownInput] = (),
    expected_current_id: int | None | object = UNCHECKED,
    today: dt.date,
    via: str = "browser",
    confirmed: bool = False,
    actor=None,
) -> IndicatorValue | None:
    """Enter (or correct) the value for one period; None when it is unchanged.

    `expected_current_id` is the id of the entry the person saw (None: they saw no value); if someone
    has entered a value since, nothing is saved (ValueChangedError). Leave it out to skip the check.
    """
    if actor is not None:
        from tracker.indicators.permissions import can_enter_values

        if not can_enter_values(actor, indicator):
            raise NotAllowed("Only the indicator's responsible officer and the plan's managers enter its values.")
        actor_id = actor.id
    check_period(indicator, period, today)
    note = check_text(note, "note")
    total = check_breakdowns(indicator.unit, value, breakdowns)
    if indicator.unit is Unit.PERCENTAGE and not 0 <= total <= 100:
        raise IndicatorError(f"{format_value(total, Unit.COUNT)} is not a percentage: enter a number from 0 to 100.")
    if indicator.unit.adds_up and total < 0:
        raise IndicatorError("Counts and hours cannot be negative.")
    current = current_values([indicator.id])[indicator.id].get(period.start)
    reason = None if confirmed else unusual(indicator, period, total)
    if reason and not (current is not None and _same(current, total, note, breakdowns)):
        raise NeedsConfirmation(f"{format_value(total, indicator.unit)} for {period.label} is {reason}. "
                                "Check it, then tick 'This figure is right' and save again.")
    if expected_current_id is not UNCHECKED and (current.id if current else None) != expected_current_id:
        raise ValueChangedError(f"Someone entered a value for {period.label} while you were editing. "
                                "Check the value now shown and enter yours again if it is still right.")
    if current is not None and _same(current, total, note, breakdowns):
        return None
    entry = IndicatorValue(indicator_id=indicator.id, period_start=period.start, value=total, note=note,
                           replaces_id=current.id if current else None, entered_by_id=actor_id, entered_at=utcnow())
    entry.breakdowns = [IndicatorBreakdown(dimension=b.dimension, category=b.category.strip(), value=b.value)
                        for b in breakdowns]
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone corrected the same entry at the same moment (replaces_id is unique); the caller rolls back.
        raise ValueChangedError(f"Someone corrected {period.label} at the same moment. "
                                "Check the value now shown and enter yours again if it is still right.") from None
    unit = indicator.unit
    audit.record(
        user_id=actor_id, entity_type="indicator", entity_id=indicator.id,
        verb="correct value" if current else "enter value",
        partnership_id=indicator.plan.partnership_id, plan_id=indicator.plan_id,
        before={"period": period.label, "value": current.value, "note": current.note} if current else None,
        after={"period": period.label, "value": total, "note": note, "value_id": entry.id, "via": via,
               "breakdowns": [[b.dimension.value, b.category, b.value] for b in breakdowns]},
        summary=(f"Corrected {period.label} of {indicator.name} from {format_value(current.value, unit)} "
                 f"to {format_value(total, unit)}" if current
                 else f"Entered {format_value(total, unit)} for {period.label} of {indicator.name}"),
    )
    return entry


def enter_total(indicator: Indicator, period: Period, *, value: float | None, note: str,
                actor_id: int | None = None, expected_current_id: int | None, today: dt.date,
                confirmed: bool = False, actor=None) -> IndicatorValue | None:
    """Enter a period's total from the grid, keeping its breakdown: a total that would no longer match
    the parts of a count or hours is refused (change those on the period's own page)."""
    current = current_values([indicator.id])[indicator.id].get(period.start)
    if value is None:
        if current is None:
            if note.strip():
                raise IndicatorError(f"Enter a value for {period.label} to go with the note.")
            return None
        raise IndicatorError(f"Enter a value for {period.label}: a value cannot be removed, only corrected.")
    parts = [BreakdownInput(Dimension(b.dimension), b.category, b.value)
             for b in (current.breakdowns if current else [])]
    if parts and indicator.unit.adds_up and abs(value - current.value) > _EPSILON:
        raise IndicatorError(f"{period.label} has a breakdown: change its value on the period's own page "
                             "so the parts still add up.")
    return enter_value(indicator, period, value=value, note=note, breakdowns=parts, actor_id=actor_id,
                       expected_current_id=expected_current_id, today=today, confirmed=confirmed, actor=actor)


# ---------------------------------------------------------------------------
# Trends and RAG
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    period: Period
    value: float | None
    target: float | None
    entry: IndicatorValue | None = None


@dataclass
class Trend:
    """An indicator's last periods with values and targets, and what they say."""

    indicator: Indicator
    points: list[Point]
    rag: RagResult
    direction: str
    latest: Point | None = None

    def format(self, value: float | None) -> str:
        return format_value(value, self.indicator.unit)


@dataclass(frozen=True)
class BreakdownTable:
    """One dimension's breakdown across the trend's periods: rows of (group, [value or None per period])."""

    dimension: Dimension
    periods: list[Period]
    rows: list[tuple[str, list[float | None]]]


def breakdown_tables(trend: Trend) -> list[BreakdownTable]:
    """Breakdowns by locality and by protected characteristic over the trend's periods (those with any)."""
    with_parts = [p for p in trend.points if p.entry is not None and p.entry.breakdowns]
    tables = []
    for dimension in Dimension:
        groups: dict[str, dict[dt.date, float]] = {}
        for point in with_parts:
            for part in point.entry.breakdowns:
                if Dimension(part.dimension) is dimension:
                    groups.setdefault(part.category, {})[point.period.start] = part.value
        if groups:
            periods = [p.period for p in with_parts]
            rows = [(name, [values.get(p.start) for p in periods]) for name, values in sorted(groups.items())]
            tables.append(BreakdownTable(dimension, periods, rows))
    return tables


def trend_periods(indicator: Indicator, values: dict[dt.date, IndicatorValue], today: dt.date,
                  count: int = TREND_PERIODS) -> list[Period]:
    """The last `count` periods up to the latest one that has ended or has a value, not before the first."""
    last = Period.containing(indicator.frequency, today).previous()
    if values:
        newest = Period.containing(indicator.frequency, max(values))
        last = max(last, newest)
    first = indicator.first_period
    if values:
        first = min(first, Period.containing(indicator.frequency, min(values)))
    periods = [last]
    while len(periods) < count and periods[-1] > first:
        periods.append(periods[-1].previous())
    return [p for p in reversed(periods) if p >= first]


def build_trend(indicator: Indicator, values: dict[dt.date, IndicatorValue], today: dt.date,
                count: int = TREND_PERIODS) -> Trend:
    points = []
    for period in trend_periods(indicator, values, today, count):
        entry = values.get(period.start)
        points.append(Point(period, entry.value if entry else None, target_for(indicator, period), entry))
    with_values = [p for p in points if p.value is not None]
    latest = with_values[-1] if with_values else None
    previous = with_values[-2] if len(with_values) > 1 else None
    rag = against_target(latest.value if latest else None, latest.target if latest else None,
                         higher_is_better=indicator.higher_is_better, suffix=unit_suffix(indicator.unit))
    if latest is not None and rag.rag is not Rag.NONE:
        rag = RagResult(rag.rag, f"{rag.reason} ({latest.period.label})", 0)
    direction = direction_of_travel(previous.value if previous else None, latest.value if latest else None,
                                    higher_is_better=indicator.higher_is_better)
    return Trend(indicator, points, rag, direction, latest)


def indicators_query():
    return select(Indicator).options(
        selectinload(Indicator.targets), selectinload(Indicator.responsible_officer), selectinload(Indicator.items),
    )


def trends(indicators: Sequence[Indicator], today: dt.date, count: int = TREND_PERIODS) -> list[Trend]:
    values = current_values(i.id for i in indicators)
    return [build_trend(i, values[i.id], today, count) for i in indicators]


def indicators_for_plan(plan: Plan, today: dt.date | None = None) -> list[Trend]:
    """The plan's indicators with their latest value, RAG and direction, for the plan page (two queries)."""
    from tracker.timeutil import today as uk_today

    indicators = db.session.scalars(indicators_query().where(Indicator.plan_id == plan.id)
                                    .order_by(Indicator.name)).all()
    return trends(indicators, today or uk_today())


def related_actions(indicator: Indicator) -> list[Action]:
    """The plan's actions on the priority areas or proposals the indicator evidences: what should move it."""
    item_ids = [item.id for item in indicator.items]
    if not item_ids:
        return []
    return list(db.session.scalars(
        select(Action).join(action_items)
        .where(Action.plan_id == indicator.plan_id, action_items.c.item_id.in_(item_ids))
        .distinct().order_by(Action.id).options(selectinload(Action.lead_officer))
    ))


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------


def due_indicator_values(today: dt.date) -> list[tuple[User, Indicator, Period]]:
    """Values that are due and not entered: (who should enter it, indicator, period), oldest period first.

    A period's value is due VALUE_DUE_WORKING_DAYS working days after it ends; periods before the
    indicator's first period are never due. It goes to the responsible officer, or to the plan's
    manager when the indicator has none. Archived plans are left out. Two queries whatever the size.
    """
    indicators = db.session.scalars(
        select(Indicator).join(Plan).where(Plan.archived_at.is_(None))
        .options(selectinload(Indicator.responsible_officer), selectinload(Indicator.plan).selectinload(Plan.manager))
        .order_by(Indicator.id)
    ).all()
    entered: dict[int, set[dt.date]] = defaultdict(set)
    if indicators:
        rows = db.session.execute(
            select(IndicatorValue.indicator_id, IndicatorValue.period_start).distinct()
            .where(IndicatorValue.indicator_id.in_([i.id for i in indicators]))
        )
        for indicator_id, start in rows:
            entered[indicator_id].add(start)
    due: list[tuple[User, Indicator, Period]] = []
    for indicator in indicators:
        officer = indicator.responsible_officer or indicator.plan.manager
        if officer is None or not officer.active:
            continue
        period = indicator.first_period
        while value_due_on(period) <= today:
            if period.start not in entered[indicator.id]:
                due.append((officer, indicator, period))
            period = period.next()
    due.sort(key=lambda row: (row[2].end, row[1].id))
    return due
