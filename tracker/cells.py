"""One rule for text that a spreadsheet program would run as a formula, for every workbook the app writes.

A cell whose text starts with one of FORMULA_PREFIXES is written as a text cell with Excel's quotePrefix, so it
shows as written and stays text even after someone edits it (CSV/formula injection, OWASP's list of starts).
"""
from __future__ import annotations

#: '=' '+' '-' '@' start a formula; a leading tab or carriage return hides one from a quick look.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: object) -> bool:
    """True for text that a spreadsheet would read as a formula (or a command) if typed into a cell."""
    return isinstance(text, str) and text.startswith(FORMULA_PREFIXES)
