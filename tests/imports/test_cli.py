"""flask --app tracker import FILE --partnership NAME [--plan NAME] [--dry-run]."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests import factories
from tests.imports.builders import plan_xlsx
from tracker.extensions import db
from tracker.plans.models import Action, Plan

FIXTURES = Path(__file__).parent.parent / "fixtures"
DUNDEE = str(FIXTURES / "dundee-carers-delivery-plan-2022.xlsx")
GLASGOW = str(FIXTURES / "glasgow-msg-self-evaluation-2019.docx")


def _setup():
    factories.msg()
    factories.partnership("Dundee")
    db.session.commit()


def test_dry_run_prints_the_preview_and_writes_nothing(app, runner):
    _setup()
    result = runner.invoke(args=["import", DUNDEE, "--partnership", "Dundee", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "54 rows read" in result.output
    assert "50 to create, 0 to update, 0 unchanged." in result.output
    assert "row 6: create 1.1.3 | timescale 'Autumn 2022' -> due 2022-11-30" in result.output
    assert "WARNING: Delivery Plan, row 45, cell D45" in result.output
    assert "Dry run: nothing was written." in result.output
    assert db.session.scalar(select(func.count(Plan.id))) == 0


def test_import_then_import_again_updates_nothing(app, runner):
    _setup()
    result = runner.invoke(args=["import", DUNDEE, "--partnership", "Dundee", "--plan", "Carers plan"])
    assert result.exit_code == 0, result.output
    assert "Imported into 'Carers plan': 50 created, 0 updated, 0 unchanged." in result.output
    result = runner.invoke(args=["import", DUNDEE, "--partnership", "Dundee", "--plan", "Carers plan"])
    assert "0 created, 0 updated, 50 unchanged." in result.output
    assert db.session.scalar(select(func.count(Action.id))) == 50


def test_self_evaluation_import_prints_ratings(app, runner):
    _setup()
    result = runner.invoke(args=["import", GLASGOW, "--partnership", "Dundee"])
    assert result.exit_code == 0, result.output
    assert "Ratings in 'MSG self-evaluation 2019': 25 created" in result.output


def test_errors_exit_non_zero(app, runner, tmp_path):
    _setup()
    bad = tmp_path / "plan.xlsx"
    bad.write_bytes(b"Ref,Action\n")
    result = runner.invoke(args=["import", str(bad), "--partnership", "Dundee"])
    assert result.exit_code != 0 and "not an Excel .xlsx" in result.output
    headless = tmp_path / "headless.xlsx"
    headless.write_bytes(plan_xlsx(["Key deliverable", "Who", "When"], [["Do it", "Council", "2024"]]))
    result = runner.invoke(args=["import", str(headless), "--partnership", "Dundee"])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    result = runner.invoke(args=["import", str(headless), "--partnership", "Dundee", "--column", "action=A"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import", DUNDEE, "--partnership", "Nowhere"])
    assert result.exit_code != 0 and "No partnership is called 'Nowhere'" in result.output
