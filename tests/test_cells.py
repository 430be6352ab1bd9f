"""One rule, in tracker.cells, for text a spreadsheet would run as a formula; every exporter uses it."""
from __future__ import annotations

import pathlib
import re

import pytest

from tracker.cells import FORMULA_PREFIXES, looks_like_formula

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tracker"


@pytest.mark.parametrize("text", ["=1+1", "+44 1382", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts(text):
    assert looks_like_formula(text)


@pytest.mark.parametrize("text", ["Carers", "", " =1", "#N/A", "1-2", None, 12])
def test_not_formula_starts(text):
    assert not looks_like_formula(text)


def test_no_module_keeps_its_own_list_of_formula_starts():
    """Mutation it catches: a module defining its own prefixes again (as plans/export.py and
    indicators/services.py once did, one with '-' and one without)."""
    own = re.compile(r"""\(\s*["']=["']\s*,\s*["']\+["']""")
    found = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py")
             if path.name != "cells.py" and own.search(path.read_text(encoding="utf-8"))]
    assert found == []
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}
