"""One set of colours for Status and RAG in every chart, table and page: the workbook, the PDF paper and the
web pages (as CSS custom properties, `css()`), so On track is always green and At risk always amber.

RAG fills are tracker.rag's (AA contrast with their text colours); a status takes the colour of the RAG it
usually carries, with greys and a lighter blue for the states that have no RAG of their own.
"""
from __future__ import annotations

from tracker.rag import Rag, Status

#: {palette key: (fill, text)} as six hex digits; the keys `sections.Chart.colours` may name.
COLOURS: dict[str, tuple[str, str]] = {
    "red": (Rag.RED.hex, Rag.RED.text_hex),
    "amber": (Rag.AMBER.hex, Rag.AMBER.text_hex),
    "green": (Rag.GREEN.hex, Rag.GREEN.text_hex),
    "blue": (Rag.BLUE.hex, Rag.BLUE.text_hex),
    "grey": (Rag.NONE.hex, Rag.NONE.text_hex),
    "lightblue": ("9CC3E6", "000000"),
    "darkgrey": ("5E5E5E", "FFFFFF"),
}

RAG_KEYS = {Rag.RED: "red", Rag.AMBER: "amber", Rag.GREEN: "green", Rag.BLUE: "blue", Rag.NONE: "grey"}
STATUS_KEYS = {
    Status.NOT_STARTED: "grey",
    Status.ON_TRACK: "green",
    Status.AT_RISK: "amber",
    Status.ONGOING: "lightblue",
    Status.COMPLETE: "blue",
    Status.SUPERSEDED: "darkgrey",
}


def fill(key: str) -> str:
    return COLOURS.get(key, COLOURS["grey"])[0]


def text_colour(key: str) -> str:
    return COLOURS.get(key, COLOURS["grey"])[1]


def status_fill(status: Status | str) -> str:
    return fill(STATUS_KEYS[Status(status)])


def rag_fill(rag: Rag | str) -> str:
    return fill(RAG_KEYS[Rag(rag)])


def css() -> str:
    """The palette as CSS custom properties (--app-colour-green, --app-status-on_track...) for the pages."""
    lines = [f"--app-colour-{key}: #{fill_hex}; --app-colour-{key}-text: #{text_hex};"
             for key, (fill_hex, text_hex) in COLOURS.items()]
    lines += [f"--app-status-{status.value}: #{fill(key)};" for status, key in STATUS_KEYS.items()]
    return ":root { " + " ".join(lines) + " }"
