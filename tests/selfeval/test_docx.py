"""The Word export: the national template's layout, readable by LibreOffice and by the .docx importer."""
from __future__ import annotations

import io
import subprocess

import docx
import pytest

from tests.conftest import FIXTURES
from tests.selfeval.conftest import rating_of
from tracker.demo.services import load_demo
from tracker.selfeval.docx_export import export_round
from tracker.selfeval.models import split_lines


@pytest.fixture
def glasgow_2019(app):
    return load_demo().rounds["Glasgow City"]


def proposal_tables(document):
    return [t for t in document.tables if t.rows[0].cells[0].text.startswith("Proposal ")]


def read_back(data: bytes) -> dict[str, dict]:
    """What the export says per proposal, read with python-docx: rating, evidence, actions."""
    document = docx.Document(io.BytesIO(data))
    result = {}
    for table in proposal_tables(document):
        number = table.rows[0].cells[0].text.split("\n")[0].removeprefix("Proposal ").strip()
        levels = [c.text for c in table.rows[1].cells[1:]]
        marks = [c.text.strip() for c in table.rows[3].cells[1:]]
        evidence_cell, actions_cell = table.rows[4].cells[1], table.rows[5].cells[1]
        result[number] = {
            "rating": levels[marks.index("X")] if "X" in marks else None,
            "marks": marks.count("X"),
            "evidence": [p.text for p in evidence_cell.paragraphs if p.text.strip()],
            "actions": [p.text for p in actions_cell.paragraphs if p.text.strip() and p.text != "None required"],
            "rows": [r.cells[0].text for r in table.rows],
        }
    return result


def test_export_has_the_template_layout(glasgow_2019):
    document = docx.Document(io.BytesIO(export_round(glasgow_2019)))
    front = document.tables[0]
    assert [r.cells[0].text for r in front.rows] == ["Name of Partnership", "Contact name and email address",
                                                     "Date of completion"]
    assert front.rows[2].cells[1].text == "08 May 2019"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings[0] == "Key Feature 1 Collaborative leadership and building relationships"
    assert len(headings) == 6
    tables = proposal_tables(document)
    assert len(tables) == 25
    assert [r.cells[0].text for r in tables[0].rows][1:6] == [
        "Rating", "Indicator", "Our Rating", "Evidence / Notes", "Proposed improvement actions"]
    assert tables[0].rows[0].cells[0].text == (
        "Proposal 1.1\nAll leadership development will be focused on shared and collaborative practice.")
    assert tables[0].rows[2].cells[1].text == "Lack of clear leadership and support for integration."
    evidence = tables[0].rows[4].cells[1].paragraphs
    assert len(evidence) == 15 and {p.style.name for p in evidence} == {"List Bullet"}


def test_export_matches_the_national_template_fixture_cell_for_cell(glasgow_2019):
    """The demo round was loaded from the 2019 return: the export says the same as the original file.

    (The original splits a few paragraphs in two where the demo data has one: compare the words.)
    """
    original = read_back((FIXTURES / "glasgow-msg-self-evaluation-2019.docx").read_bytes())
    exported = read_back(export_round(glasgow_2019))
    assert exported.keys() == original.keys()
    for number in original:
        assert exported[number]["rating"] == original[number]["rating"], number
        assert " ".join(exported[number]["evidence"]).split() == " ".join(original[number]["evidence"]).split()
        assert " ".join(exported[number]["actions"]).split() == " ".join(original[number]["actions"]).split()
        assert exported[number]["rows"] == original[number]["rows"], number


def test_each_rating_is_marked_once_in_its_own_column(glasgow_2019):
    exported = read_back(export_round(glasgow_2019))
    for rating in glasgow_2019.ratings:
        number = rating.item.number
        assert exported[number]["rating"] == rating.level_label, number
        assert exported[number]["marks"] == (1 if rating.level is not None else 0)
        assert exported[number]["evidence"] == (split_lines(rating.evidence) if rating.item.local_completion
                                                else [rating.item.note])
        assert exported[number]["actions"] == split_lines(rating.proposed_actions)
    assert exported["3.2"]["evidence"] == ["NOT FOR LOCAL COMPLETION - NATIONAL INSPECTORATE BODIES RESPONSIBLE"]


def test_an_edited_rating_is_exported(glasgow_2019):
    from tracker.selfeval import services

    rating = rating_of(glasgow_2019, "2.3")
    services.rate(rating, actor_id=None, level=3, evidence="Only this", participants=None,
                  proposed_actions="One\nTwo", reason="Test")
    exported = read_back(export_round(glasgow_2019))["2.3"]
    assert exported == {**exported, "rating": "Exemplary", "evidence": ["Only this"], "actions": ["One", "Two"]}


def test_export_opens_in_libreoffice(glasgow_2019, tmp_path, soffice):
    source = tmp_path / "round.docx"
    source.write_bytes(export_round(glasgow_2019))
    profile = tmp_path / "profile"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    pdf = tmp_path / "round.pdf"
    assert pdf.exists(), f"LibreOffice could not convert the export: {result.stdout} {result.stderr}"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000


def test_the_docx_importer_gives_back_the_same_ratings_evidence_and_actions(glasgow_2019, tmp_path):
    """Round trip through the project's own importer (tracker.imports.docx_selfeval).

    Mutations it catches: the export dropping the completion date (the check used to hide behind
    `hasattr(parsed, "completed_on")`), and a broken import of the importer (it was importorskip'd, so
    the test skipped instead of failing)."""
    from tracker.imports import docx_selfeval
    from tracker.imports.problems import ERROR

    path = tmp_path / "round.docx"
    path.write_bytes(export_round(glasgow_2019))
    parsed = docx_selfeval.parse(path)
    assert [p for p in parsed.problems if p.severity == ERROR] == []
    assert glasgow_2019.completed_on is not None
    assert parsed.completed_on == glasgow_2019.completed_on
    by_number = {row["number"]: row for row in parsed.rows}
    assert set(by_number) == {r.item.number for r in glasgow_2019.ratings}
    for rating in glasgow_2019.ratings:
        row = by_number[rating.item.number]
        if not rating.item.local_completion:
            assert row["rating"] is None, rating.item.number
            continue
        assert row["rating"] == rating.level_label, rating.item.number
        assert _lines(row["evidence"]) == split_lines(rating.evidence), rating.item.number
        assert _lines(row["actions"]) == split_lines(rating.proposed_actions), rating.item.number


def _lines(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return split_lines(value)
