"""The .docx self-evaluation parser: the real Glasgow return and the ways other returns differ."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.imports.builders import selfeval_docx
from tracker.imports import docx_selfeval

FIXTURES = Path(__file__).parent.parent / "fixtures"
GLASGOW = FIXTURES / "glasgow-msg-self-evaluation-2019.docx"
SEED = Path(__file__).parents[2] / "tracker" / "demo" / "data" / "glasgow_2019.json"


def test_glasgow_return_matches_the_seed_data():
    parsed = docx_selfeval.parse(GLASGOW)
    seed = {p["number"]: p for p in json.loads(SEED.read_text())["proposals"]}
    assert parsed.partnership == "Glasgow City HSCP"
    assert parsed.completed_on == dt.date(2019, 5, 8)
    assert [row["number"] for row in parsed.rows] == list(seed)
    for row in parsed.rows:
        expected = seed[row["number"]]
        assert (row["rating"], row["evidence"], row["actions"]) == (
            expected["rating"], expected["evidence"], expected["actions"]), row["number"]
    not_local = [row["number"] for row in parsed.rows if row["not_for_local_completion"]]
    assert not_local == ["3.2", "3.3", "5.3"]
    assert set(parsed.rows[0]) == {"number", "title", "rating", "rating_suggested", "evidence", "actions",
                                   "not_for_local_completion"}
    assert parsed.rows[0]["title"].startswith("All leadership development")


def _one(**proposal):
    proposal = {"number": "3.4", "title": "Improved strategic planning", "level": 2, **proposal}
    return docx_selfeval.parse(selfeval_docx([proposal])).rows[0]


@pytest.mark.parametrize("heading", ["row", "paragraph", "split", "indicator"])
def test_heading_in_first_row_paragraph_above_split_rows_or_called_indicator(heading):
    row = _one(heading=heading)
    assert row["number"] == "3.4"
    assert row["title"] == "Improved strategic planning"


@pytest.mark.parametrize("mark", ["X", "x", "\u0425", "\u0445", "\u03a7", "\u03c7", "✓", "✔", "√"])
def test_marks_in_any_alphabet_or_ticks(mark):
    assert _one(mark=mark, level=1)["rating"] == "Partly established"


def test_missing_mark_is_reported_and_the_agreed_rating_offered():
    parsed = docx_selfeval.parse(selfeval_docx([{
        "number": "2.1", "title": "Finance", "level": None,
        "evidence": ["Discussed at the session.", "A rating of 'Partly established' was agreed by the group."],
    }]))
    row = parsed.rows[0]
    assert row["rating"] is None
    assert row["rating_suggested"] == "Partly established"
    assert any("No level is marked" in p.message and "Partly established" in p.message and p.sheet == "Proposal 2.1"
               for p in parsed.problems)


def test_bullets_inside_one_paragraph_and_broken_bullets():
    row = _one(evidence=["• First point • Second point", "Third point that runs over", "two paragraphs"],
               actions=["- Do this", "- Do that"])
    assert row["evidence"] == ["First point", "Second point", "Third point that runs over two paragraphs"]
    assert row["actions"] == ["Do this", "Do that"]


def test_none_required_gives_no_actions_and_not_for_local_completion_is_recognised():
    row = _one(actions=["None required"])
    assert row["actions"] == []
    row = _one(level=None, evidence=["NOT FOR LOCAL COMPLETION - NATIONAL BODIES RESPONSIBLE"])
    assert row["not_for_local_completion"] is True
    assert row["evidence"] == []


def test_a_table_without_a_number_is_an_error():
    parsed = docx_selfeval.parse(selfeval_docx([{"number": "x.y", "title": "T", "heading": "paragraph", "level": 0}]))
    assert parsed.rows == []
    assert any(p.severity == "error" and "no proposal number" in p.message for p in parsed.problems)
