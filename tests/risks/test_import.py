"""Importing the Dundee report's risk tables (.docx) and a risk register (.xlsx): preview, apply, idempotent."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.imports.safety import ImportRefused
from tracker.risks import importers, queries, services

REPORT = Path(__file__).parents[1] / "fixtures" / "dundee-ijb-report-risk-assessment-2022.docx"


def test_the_dundee_report_risk_tables():
    parsed = importers.read(REPORT)
    assert parsed.problems == [] and parsed.kind == "docx"
    one, two = parsed.rows
    assert (one["inherent"], one["residual"], one["target"]) == ([3, 3], [2, 2], [2, 2])
    assert (two["inherent"], two["residual"], two["target"]) == ([3, 3], [3, 2], [3, 2])
    assert [r["inherent"][0] * r["inherent"][1] for r in parsed.rows] == [9, 9]
    assert [r["residual"][0] * r["residual"][1] for r in parsed.rows] == [4, 6]
    assert [r["target"][0] * r["target"][1] for r in parsed.rows] == [4, 6]
    assert (one["inherent_band"], one["residual_band"], two["target_band"]) == ("High", "Moderate", "Moderate")
    assert one["categories"] == "Financial, Political" and two["categories"] == ""
    assert one["mitigations"] == ("Refreshed Carers Strategy identifies priorities and resource requirements for "
                                  "the period of the strategy.")
    assert two["mitigations"].split("\n") == ["Key actions to be prioritised", "Timescales to be reviewed regularly",
                                              "Where possible recruitment to posts to be prioritised."]
    assert one["description"].startswith("A number of achievements to date")
    assert two["recommendation"].startswith("The risk level should be accepted")
    assert [r["reference"] for r in parsed.rows] == ["R1", "R2"]


def test_importing_the_report_twice_changes_nothing_the_second_time(world):
    services.set_matrix(world.home, 3, [("Low", 1), ("Moderate", 4), ("High", 9)], actor=world.admin)
    parsed = importers.read(REPORT)
    assert importers.preview(parsed, world.home, world.plan)[0].warnings == []
    items = importers.preview(parsed, world.other, None)  # the default 5 x 5: 9 is Moderate there
    assert "calls the inherent score 9 High; this partnership's matrix calls it Moderate" in items[0].warnings[0]
    assert [i.outcome for i in importers.preview(parsed, world.home, world.plan)] == ["new", "new"]
    assert importers.apply(parsed, world.home, world.plan, actor=world.manager) == \
        {"new": 2, "changed": 0, "unchanged": 0}
    db.session.commit()
    rows = {r.risk.reference: r for r in queries.register(plan=world.plan)[0]}
    assert rows["R1"].inherent.text(rows["R1"].matrix) == "9 (High): likelihood 3 x impact 3"
    assert (rows["R1"].residual.value, rows["R2"].residual.value) == (4, 6)
    assert rows["R1"].risk.category_list == ["Financial", "Political"]
    again = importers.read(REPORT)
    assert [i.outcome for i in importers.preview(again, world.home, world.plan)] == ["unchanged", "unchanged"]
    assert importers.apply(again, world.home, world.plan, actor=world.manager)["unchanged"] == 2
    db.session.commit()
    assert len(services.history(rows["R1"].risk)) == 1


def _register(rows, headings=("Ref", "Risk title", "Category", "Owner", "Inherent likelihood", "Inherent impact",
                              "Residual likelihood", "Residual impact", "Target likelihood", "Target impact",
                              "Action refs")) -> bytes:
    return factories.xlsx("Partnership risk register", headings, rows)


def test_an_xlsx_register_is_mapped_previewed_and_idempotent(world):
    data = _register([("R1", "Funding", "Financial", world.officer.email, 4, 4, 3, 2, 2, 2, "A1"),
                      ("R2", "Recruitment", "Workforce", "", 3, 3, 2, 2, "", "", "")])
    parsed = importers.read(data)
    assert parsed.headers["B"] == "Risk title"
    assert parsed.mapping["title"] == "B" and parsed.mapping["inherent_impact"] == "F"
    items = importers.preview(parsed, world.home, world.plan)
    assert [(i.outcome, i.errors) for i in items] == [("new", []), ("new", [])]
    importers.apply(parsed, world.home, world.plan, actor=world.manager)
    db.session.commit()
    rows = {r.risk.reference: r for r in queries.register(plan=world.plan)[0]}
    assert rows["R1"].risk.owner_id == world.officer.id and rows["R1"].risk.actions == [world.officer_action]
    assert rows["R2"].target.value == 4  # no target given: the residual
    changed = importers.read(_register([("R1", "Funding", "Financial", world.officer.email, 4, 4, 2, 2, 2, 2, "A1"),
                                        ("R2", "Recruitment", "Workforce", "", 3, 3, 2, 2, "", "", "")]))
    items = importers.preview(changed, world.home, world.plan)
    assert [(i.outcome, i.changes) for i in items] == [("changed", ["scores"]), ("unchanged", [])]
    importers.apply(changed, world.home, world.plan, actor=world.manager)
    db.session.commit()
    assert [h.residual.value for h in services.history(rows["R1"].risk)] == [4, 6]


@pytest.mark.parametrize("row,message", [
    (("R1", "@SUM(1+1)*cmd", "", "", 3, 3, 2, 2, 2, 2, ""), "formula"),
    (("R1", "Funding", "", "", 3, 3, 4, 4, 2, 2, ""), "higher than the inherent"),
    (("R1", "Funding", "", "", 9, 3, 2, 2, 2, 2, ""), "from 1 to 5"),
    (("R1", "Funding", "", "nobody@example.scot", 3, 3, 2, 2, 2, 2, ""), "no account"),
    (("R1", "Funding", "", "", 3, 3, 2, 2, 2, 2, "Z9"), "no action Z9"),
    (("", "Funding", "", "", 3, 3, 2, 2, 2, 2, ""), "reference"),
])
def test_bad_rows_are_refused_and_nothing_is_written(world, row, message):
    parsed = importers.read(_register([row]))
    items = importers.preview(parsed, world.home, world.plan)
    assert message in " ".join(items[0].errors)
    with pytest.raises(RuleError):
        importers.apply(parsed, world.home, world.plan, actor=world.manager)
    db.session.rollback()
    assert queries.register(partnership_id=world.home.id)[0] == []


def test_unsafe_files_are_refused_before_parsing():
    with pytest.raises(ImportRefused):
        importers.read(b"not a zip at all")
    with pytest.raises(ImportRefused):
        importers.read(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportRefused, match="heading"):
        importers.read(_register([("a", "b")], headings=("Colour", "Size")))
