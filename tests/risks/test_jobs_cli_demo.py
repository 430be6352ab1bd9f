"""Review reminders (through the outbox, exactly once), `flask risks ...`, and the Dundee demo."""
from __future__ import annotations

import datetime as dt

from tracker.extensions import db
from tracker.outbox.services import queued_to
from tracker.risks import jobs, services
from tracker.risks.models import RiskReminder
from tracker.scheduler.jobs import JOBS


def test_the_owner_is_asked_once_when_the_review_date_passes(world, risk):
    services.edit_risk(risk, review_date=dt.date(2026, 3, 31), actor=world.manager)
    db.session.commit()
    assert jobs.queue_reminders(dt.date(2026, 3, 31)) == 0  # not yet passed
    assert jobs.queue_reminders(dt.date(2026, 4, 1)) == 1
    db.session.commit()
    assert jobs.queue_reminders(dt.date(2026, 4, 2)) == 0  # exactly once
    db.session.commit()
    messages = queued_to(world.officer.email)
    assert len(messages) == 1 and messages[0][0].kind == "risk_review"
    assert "R1" in messages[0][0].subject and f"/risks/{risk.id}/review" in messages[0][1]
    # a review sets a new date: a new reminder when that one passes
    services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="Quarterly review",
                         review_date=dt.date(2026, 6, 30), actor=world.officer)
    db.session.commit()
    assert jobs.queue_reminders(dt.date(2026, 7, 1)) == 1
    db.session.commit()
    assert db.session.query(RiskReminder).count() == 2


def test_the_job_is_scheduled():
    job = next(j for j in JOBS if j.id == "risk-reviews")
    assert job.resolve() is jobs.scheduled_run


def test_cli_list_matrix_and_import(app, world, risk, runner):
    result = runner.invoke(args=["risks", "list", "--partnership", "Home IJB"])
    assert result.exit_code == 0, result.output
    assert "R1\tFunding may not rise\tinherent 9 Moderate\tresidual 4 Low\ttarget 4 Low" in result.output
    result = runner.invoke(args=["risks", "list", "--partnership", "Nowhere"])
    assert result.exit_code != 0 and "No partnership" in result.output
    result = runner.invoke(args=["risks", "matrix", "--partnership", "Other IJB", "--size", "3",
                                 "--bands", "Low 1, Moderate 4, High 9"])
    assert result.exit_code == 0 and "3 x 3: Low 1-3, Moderate 4-6, High 9" in result.output
    result = runner.invoke(args=["risks", "matrix", "--partnership", "Other IJB", "--size", "3", "--bands", "Low 2"])
    assert result.exit_code == 1 and "Bands start at 1" in result.output


def test_the_demo_has_dundees_two_risks_flagged_on_the_plan(app, runner):
    from tracker.demo.services import load_demo
    from tracker.risks.demo import load_demo_risks

    ctx = load_demo()
    db.session.commit()
    load_demo_risks(ctx)  # idempotent
    db.session.commit()
    result = runner.invoke(args=["risks", "list", "--partnership", "Dundee"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("DIJB")]
    assert lines[0].startswith("DIJB72-2022 R1\t") and "inherent 9 High\tresidual 4 Moderate\ttarget 4 Moderate" in lines[0]
    assert "inherent 9 High\tresidual 6 Moderate\ttarget 6 Moderate" in lines[1]
    assert len(lines) == 2 and all("flagged: residual" in line for line in lines)
