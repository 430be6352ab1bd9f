"""The committee paper as an accessible PDF, from the same WorkbookData snapshot as the workbook.

HTML from templates/papers/paper.html, laid out by WeasyPrint as tagged PDF (PDF/UA-1: headings, tables with
header cells, document title and language), in a plain font. No browser or office suite is needed.
"""
from __future__ import annotations

import datetime as dt
import functools
import types
from collections import Counter, OrderedDict

from flask import current_app

from tracker.papers import palette
from tracker.papers.charts import Bar, bar_chart_svg
from tracker.rag import Rag, Status
from tracker.workbooks.builder import (RAG_ORDER, STATUS_ORDER, headlines, left_out, moved_text, summary_figures,
                                       title_of)
from tracker.workbooks.data import WorkbookData

PDF_MIMETYPE = "application/pdf"


def paper_context(data: WorkbookData) -> dict:
    statuses = Counter(a.status for a in data.actions)
    rags = Counter(a.rag for a in data.actions)
    status_bars = [Bar(s.label, statuses[s.value], palette.STATUS_KEYS[s]) for s in STATUS_ORDER]
    rag_bars = [Bar(r.label, rags[r.value], palette.RAG_KEYS[r]) for r in RAG_ORDER]
    groups: OrderedDict[str, list] = OrderedDict()
    for row in data.actions:
        groups.setdefault(row.group, []).append(row)
    section_charts = [
        (section, [bar_chart_svg(chart.title, [Bar(label, value, colour) for label, value, colour in zip(
            chart.labels, chart.values, chart.colours or ("blue",) * len(chart.labels))],
            description=chart.alt_text) for chart in section.charts])
        for section in data.sections if section.rows or section.summary
    ]
    return {
        "data": data, "title": title_of(data), "figures": summary_figures(data), "headlines": headlines(data),
        "status_bars": status_bars, "rag_bars": rag_bars, "groups": groups, "left_out": left_out(data),
        "status_chart": bar_chart_svg("Actions by status", status_bars,
                                      description="The same figures are in the table after the chart."),
        "rag_chart": bar_chart_svg("Actions by RAG", rag_bars,
                                   description="The same figures are in the table after the chart."),
        "section_charts": section_charts, "moved_text": moved_text, "Status": Status, "Rag": Rag,
        "palette": palette, "palette_css": palette.css(),
    }


def paper_html(data: WorkbookData) -> str:
    # The template alone, without the web pages' context (no user, no request: the CLI and the scheduler).
    return current_app.jinja_env.get_template("papers/paper.html").render(**paper_context(data))


def build_pdf(data: WorkbookData) -> bytes:
    """The paper as tagged PDF bytes (needs an app context for the templates). The same snapshot gives the
    same bytes, so a few recent ones are kept: laying out a long paper takes seconds."""
    return _pdf_of(paper_html(data), data.plan_name, data.quarter, data.as_at)


def _remember_page_references() -> None:
    """WeasyPrint's tagging asks pydyf for `PDF.page_references` once per structure element (every table
    cell), and pydyf builds that tuple of every page afresh each time: quadratic in a long paper (most of the
    time for 10,000 actions). Remember the tuple until a page is added (pages are only ever appended)."""
    import pydyf

    built = pydyf.PDF.page_references
    if getattr(built.fget, "tracker_remembered", False):
        return

    def page_references(pdf):
        count = len(pdf.pages["Kids"])
        known = pdf.__dict__.get("_tracker_page_references")
        if known is None or known[0] != count:
            known = pdf.__dict__["_tracker_page_references"] = (count, built.fget(pdf))
        return known[1]

    remembered = property(page_references, doc=built.__doc__)
    page_references.tracker_remembered = True
    pydyf.PDF.page_references = remembered


def _no_fetching(url: str, *args, **kwargs):
    """The paper is self-contained (inline SVG and styles): nothing is fetched, whatever a text says."""
    raise ValueError(f"Not fetched: {url[:80]}")


@functools.lru_cache(maxsize=8)
def _pdf_of(html_text: str, plan_name: str, quarter: str, as_at: dt.date) -> bytes:
    from weasyprint import HTML

    _remember_page_references()
    data = types.SimpleNamespace(plan_name=plan_name, quarter=quarter, as_at=as_at)
    created = dt.datetime.combine(data.as_at, dt.time(9, 0)).isoformat()
    html = HTML(string=html_text, url_fetcher=_no_fetching)
    return html.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True, custom_metadata=True,
                          pdf_identifier=f"{data.plan_name} {data.quarter} {created}".encode()[:64] or None)
