"""A risk register's columns mapped like a plan's: every heading with its field, the unused columns listed, the
kept sheet read again with the chosen mapping, then confirmed; importing again changes nothing."""
from __future__ import annotations

import io
import re

import pytest

from tests import factories
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.risks import importers, queries
from tracker.risks.models import Risk

HEADINGS = ("Ref", "Risk title", "Inherent likelihood", "Inherent impact", "Residual L", "Residual I", "Lead")


def _book(rows, headings=HEADINGS) -> bytes:
    return factories.xlsx("Risk register 2026/27", headings, rows)


def _rows(world):
    return [("R1", "Funding may not rise", 3, 3, 2, 2, world.officer.email),
            ("R2", "Recruitment delays", 4, 4, 3, 2, "")]


CHOSEN = {"reference": "A", "title": "B", "inherent_likelihood": "C", "inherent_impact": "D",
          "residual_likelihood": "E", "residual_impact": "F", "owner": "G"}


# --------------------------------------------------------------------------- pure
def test_the_guess_reads_what_it_can_and_the_chosen_mapping_reads_the_rest(world):
    parsed = importers.read(_book(_rows(world)))
    assert parsed.sheet.header_row == 2 and parsed.headers["E"] == "Residual L"
    assert parsed.mapping == {"reference": "A", "title": "B", "inherent_likelihood": "C", "inherent_impact": "D",
                              "residual": "E"}  # "Residual I" and "Lead" are not guessed
    assert parsed.unused_columns == {"F": "Residual I", "G": "Lead"}
    assert any("residual level '2'" in p for p in parsed.problems)
    again = importers.rows_from_sheet(parsed.sheet, CHOSEN)
    assert again.problems == [] and again.unused_columns == {}
    assert [(r["reference"], r["residual"], r["owner"]) for r in again.rows] == [
        ("R1", [2, 2], world.officer.email), ("R2", [3, 2], "")]
    # the sheet survives the token's round trip
    assert importers.Sheet.from_dict(parsed.sheet.to_dict()) == parsed.sheet


@pytest.mark.parametrize("mapping,words", [
    ({"title": "B", "inherent": "C", "residual": "E"}, "references"),
    ({"reference": "A", "inherent": "C", "inherent_likelihood": "D", "residual": "E"}, "not both"),
    ({"reference": "A", "inherent_likelihood": "C", "residual": "E"}, "inherent impact column too"),
    ({"reference": "A", "inherent": "C"}, "residual level"),
    ({"reference": "A", "inherent": "C", "residual": "E", "owner_id": "G"}, "from the list"),
])
def test_mappings_the_rows_cannot_be_read_with_are_refused(mapping, words):
    with pytest.raises(RuleError, match=words):
        importers.check_mapping(mapping)


def test_a_mapping_naming_a_missing_column_is_refused(world):
    parsed = importers.read(_book(_rows(world)))
    with pytest.raises(RuleError, match="does not have"):
        importers.rows_from_sheet(parsed.sheet, {**CHOSEN, "owner": "Z"})


# --------------------------------------------------------------------------- the pages
def _token(html: str, form_action: str) -> str:
    form = re.search(rf'<form method="post" action="[^"]*{form_action}"[^>]*>(.*?)</form>', html, re.S)[1]
    return re.search(r'name="token"[^>]*value="([^"]+)"', form)[1]


def _columns(mapping: dict) -> dict:
    return {f"column_{letter}": role for role, letter in mapping.items()}


def test_remap_then_confirm_through_the_pages(world, client_as):
    client = client_as(world.manager)
    base = f"/risks/partnerships/{world.home.id}/import"
    page = client.post(base, data={"file": (io.BytesIO(_book(_rows(world))), "register.xlsx"),
                                   "plan_id": str(world.plan.id)})
    html = page.get_data(True)
    assert page.status_code == 200
    for letter in "ABCDEFG":  # every heading has its select, with "Not used"
        assert f'id="column_{letter}"' in html
    assert "Column G: Lead" in html and ">Not used<" in html
    assert '2 columns are not imported: F “Residual I”, G “Lead”' in html
    assert "import/confirm" not in html  # the guessed mapping leaves the residual unreadable
    kept = _token(html, "import/mapping")

    page = client.post(f"{base}/mapping", data={"token": kept, **_columns(CHOSEN)})
    html = page.get_data(True)
    assert page.status_code == 200 and "not imported:" not in html and html.count(">New<") == 2
    assert 'id="column_G"' in html and re.search(r'<option selected value="owner">|value="owner" selected', html)
    confirm = _token(html, "import/confirm")
    assert db.session.query(Risk).count() == 0  # nothing is saved before the confirmation

    done = client.post(f"{base}/confirm", data={"token": confirm})
    assert done.status_code == 302
    rows = {r.risk.reference: r for r in queries.register(partnership_id=world.home.id)[0]}
    assert (rows["R1"].residual.value, rows["R2"].residual.value) == (4, 6)
    assert rows["R1"].risk.owner_id == world.officer.id and rows["R1"].risk.plans == [world.plan]

    again = client.post(f"{base}/confirm", data={"token": confirm}, follow_redirects=True)
    assert "Imported: 0 new, 0 changed, 2 unchanged." in again.get_data(True)
    assert db.session.query(Risk).count() == 2


def test_bad_mappings_and_forged_tokens_change_nothing(world, client_as):
    client = client_as(world.manager)
    base = f"/risks/partnerships/{world.home.id}/import"
    html = client.post(base, data={"file": (io.BytesIO(_book(_rows(world))), "register.xlsx")}).get_data(True)
    kept = _token(html, "import/mapping")

    twice = client.post(f"{base}/mapping", data={"token": kept, **_columns(CHOSEN), "column_G": "title"})
    assert twice.status_code == 400 and "Title is chosen twice" in twice.get_data(True)
    half = client.post(f"{base}/mapping", data={"token": kept, **_columns(CHOSEN), "column_F": ""})
    assert half.status_code == 400 and "Choose the residual impact column too" in half.get_data(True)
    forged = client.post(f"{base}/mapping", data={"token": kept, **_columns(CHOSEN), "column_G": "owner_id"})
    assert forged.status_code == 400
    changed = client.post(f"{base}/mapping", data={"token": kept[:-2] + "xx", **_columns(CHOSEN)})
    assert changed.status_code == 302 and changed.headers["Location"].endswith(base)
    assert client.post(f"{base}/mapping", data=_columns(CHOSEN)).status_code == 400
    # another partnership's manager cannot read it (404), nor replay it into their own register (400)
    other = client_as(world.outsider)
    assert other.post(f"{base}/mapping", data={"token": kept, **_columns(CHOSEN)}).status_code == 404
    assert other.post(f"/risks/partnerships/{world.other.id}/import/mapping",
                      data={"token": kept, **_columns(CHOSEN)}).status_code == 400
    assert db.session.query(Risk).count() == 0


def test_a_report_has_no_column_mapping(world, client_as):
    from pathlib import Path

    report = Path(__file__).parents[1] / "fixtures" / "dundee-ijb-report-risk-assessment-2022.docx"
    client = client_as(world.manager)
    base = f"/risks/partnerships/{world.home.id}/import"
    html = client.post(base, data={"file": (io.BytesIO(report.read_bytes()), "report.docx")}).get_data(True)
    assert "import/mapping" not in html and 'id="import-preview"' in html
    token = _token(html, "import/confirm")
    assert client.post(f"{base}/mapping", data={"token": token}).status_code == 400
