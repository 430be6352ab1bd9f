"""The plain snapshot a workbook is built from: no database, no request, JSON both ways.

An issued workbook stores this snapshot, so rebuilding it later shows the same figures
whatever has changed in the plan since.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import typing
from dataclasses import dataclass, field

from tracker.indicators.workbook import IndicatorPeriod, IndicatorSheetRow
from tracker.papers.sections import Chart, Section
from tracker.rag import Rag


@dataclass(slots=True)
class ActionRow:
    """One action as the workbook shows it."""

    action_id: int
    ref: str
    group: str  # the key feature or outcome it sits under ("1 Collaborative working ...")
    proposals: str  # linked proposals or priority areas ("1.1, 1.2")
    text: str
    lead_officer: str
    organisations: str
    timescale_text: str
    due: dt.date | None
    status: str  # tracker.rag.Status value
    rag: str  # tracker.rag.Rag value
    rag_text: str  # "Red: 47 days past due 31 March 2023"
    latest_update: str
    latest_update_on: dt.date | None
    days_overdue: int
    changed_this_quarter: bool
    # The latest move of the due date on or before the data-as-at date: why, who and when.
    moved_reason: str = ""
    moved_by: str = ""
    moved_on: dt.date | None = None


@dataclass(slots=True)
class ChangeRow:
    """A change since the previous quarter: new, completed, status moved, or date slipped."""

    action_id: int
    ref: str
    text: str
    kind: str  # one of CHANGE_KINDS
    before: str
    after: str
    times_date_moved: int
    reason: str = ""  # for "Date slipped": the reason given for the new timescale
    moved_by: str = ""
    moved_on: dt.date | None = None


CHANGE_KINDS = ("New", "Completed", "Status moved", "Date slipped")


@dataclass(slots=True)
class RatingRow:
    """A proposal's latest agreed self-evaluation rating beside the previous round's."""

    number: str
    title: str
    current: str
    previous: str
    movement: str  # "Up", "Down", "Same", "New rating", ""


@dataclass(slots=True)
class WorkbookData:
    plan_name: str
    partnership_name: str
    quarter: str  # "Q2 2023/24"
    as_at: dt.date
    group_label: str = "Key feature"  # the framework's theme label
    item_label: str = "Proposal"
    committee_name: str = ""
    meeting_date: dt.date | None = None
    compared_with: str = ""  # what Changes compares against, in words
    actions: list[ActionRow] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    self_evaluation: list[RatingRow] = field(default_factory=list)
    current_round: str = ""
    previous_round: str = ""
    indicators: list[IndicatorSheetRow] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)  # from tracker.papers.sections providers
    draft: bool = False  # not issued: DRAFT in the title, on every page and in the properties

    def to_json(self) -> str:
        return json.dumps(_plain(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WorkbookData:
        return _build(cls, json.loads(text))


def _plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_ROW_TYPES = {"actions": ActionRow, "changes": ChangeRow, "self_evaluation": RatingRow}


@functools.cache
def _date_fields(cls) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    return frozenset(name for name, hint in hints.items() if dt.date in (hint, *typing.get_args(hint)))


def _build(cls, raw: dict):
    dates = _date_fields(cls)
    values = {}
    for name, value in raw.items():
        if name in _ROW_TYPES and cls is WorkbookData:
            value = [_build(_ROW_TYPES[name], row) for row in value]
        elif name == "indicators" and cls is WorkbookData:
            value = [_indicator_row(row) for row in value]
        elif name == "sections" and cls is WorkbookData:
            value = [_section(row) for row in value]
        elif name in dates and value is not None:
            value = dt.date.fromisoformat(value)
        values[name] = value
    return cls(**values)


def _indicator_row(raw: dict) -> IndicatorSheetRow:
    periods = [IndicatorPeriod(**period) for period in raw.get("periods", [])]
    return IndicatorSheetRow(**{**raw, "periods": periods, "rag": Rag(raw["rag"])})


def _section(raw: dict) -> Section:
    charts = tuple(Chart(**{k: tuple(v) if isinstance(v, list) else v for k, v in chart.items()})
                   for chart in raw.get("charts", []))
    values = {k: tuple(tuple(r) for r in v) if k == "rows" else tuple(v) if isinstance(v, list) else v
              for k, v in raw.items() if k != "charts"}
    return Section(**values, charts=charts)
