"""Sections that other features add to a committee's papers (risks, audit recommendations...).

A feature contributes one pure-data `Section` per plan and date: the paper builders (the .xlsx workbook,
the PDF paper and the .docx covering report) render every section the same way, so a feature never
touches a builder. A provider is a function `(session, plan, as_at: datetime.date) -> Section | None`
(None: nothing to show for this plan); it reads the database as the plan stood on `as_at` as far as its
own history allows, and returns text only (dates already in UK words, numbers as text).

Providers are listed in `providers()` by importing them, as blueprints are registered.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart of one section: bars of `values` over `labels`, with a colour key per label (tracker.rag)."""

    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    colours: tuple[str, ...] = ()  # a palette key per label ("red", "amber", "green", "blue", "grey")
    alt_text: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # "risks", "audit"
    title: str  # the sheet tab and the heading: "Risks"
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    summary: tuple[str, ...] = ()  # sentences for the paper's summary and the covering report
    report_heading: str = ""  # the covering report's section it fills ("Risk assessment"), or ""
    report_text: tuple[str, ...] = ()  # that section's paragraphs
    charts: tuple[Chart, ...] = ()
    widths: tuple[int, ...] = field(default=())  # column widths in characters, for the sheet
    flagged_rows: tuple[int, ...] = ()  # indexes of rows to draw attention to (shown first, marked)


Provider = Callable[..., "Section | None"]


def providers() -> tuple[Provider, ...]:
    """Every feature's section provider, in the order the papers show them."""
    from tracker.risks.papers import risk_section
    from tracker.scrutiny.section import audit_section

    return (risk_section, audit_section)


def sections_for(session, plan, as_at: dt.date) -> list[Section]:
    found = []
    for provide in providers():
        section = provide(session, plan, as_at)
        if section is not None:
            found.append(section)
    return found
