"""Archiving a plan: only its managers, audited, hidden from lists, digests, workbooks and the API; restorable."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEvent
from tracker.errors import Conflict, NotAllowed
from tracker.extensions import db
from tracker.plans import queries, services
from tracker.plans.models import Action, Plan
from tracker.reminders import services as reminders
from tracker.timeutil import today
from tracker.workbooks import services as workbooks


def test_only_the_plans_managers_archive_and_restore_it_with_an_audit_trail(app, world):
    for person in (world.officer, world.viewer, world.outsider):
        with pytest.raises(NotAllowed):
            services.archive_plan(world.plan, actor=person)
    assert world.plan.archived_at is None
    services.archive_plan(world.plan, actor=world.manager)
    db.session.commit()
    assert world.plan.archived_at is not None
    with pytest.raises(Conflict):
        services.archive_plan(world.plan, actor=world.manager)
    with pytest.raises(NotAllowed):
        services.restore_plan(world.plan, actor=world.officer)
    services.restore_plan(world.plan, actor=world.manager)
    db.session.commit()
    assert world.plan.archived_at is None
    with pytest.raises(Conflict):
        services.restore_plan(world.plan, actor=world.manager)
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "plan",
                                                              AuditEvent.entity_id == world.plan.id)
                               .order_by(AuditEvent.id)).all()
    assert verbs[-2:] == ["archive", "restore"]
    assert db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == world.plan.id)) == 2


def test_an_archived_plan_is_hidden_everywhere_but_kept(app, world, client_as, api):
    overdue = world.officer_action
    overdue.due_end = dt.date(2020, 1, 31)
    db.session.commit()
    assert any(r.user_id == world.officer.id for r in reminders.due_reminders(today()))
    services.archive_plan(world.plan, actor=world.manager)
    db.session.commit()
    manager = client_as(world.manager)
    assert "Home action plan" not in manager.get("/plans").get_data(as_text=True)
    assert queries.my_actions(world.officer, today()).total == 0
    assert "Home action plan" not in [p["name"] for p in api(world.manager).get("/api/v1/plans").get_json()["items"]]
    assert not any(r.user_id == world.officer.id for r in reminders.due_reminders(today()))
    assert world.plan not in [wanted[0] for wanted in workbooks.due_issues(today())]
    listed = manager.get("/plans/archived").get_data(as_text=True)
    restore = f"/plans/{world.plan.id}/restore"
    assert "Home action plan" in listed and restore in listed
    assert restore not in client_as(world.viewer).get("/plans/archived").get_data(as_text=True)
    assert manager.get(f"/plans/{world.plan.id}").status_code == 200  # its page and history stay readable
    restored = manager.post(f"/plans/{world.plan.id}/restore")
    assert restored.status_code == 302
    assert db.session.get(Plan, world.plan.id).archived_at is None
    assert "Home action plan" in manager.get("/plans").get_data(as_text=True)


def test_the_archive_page_asks_first_and_others_are_refused(app, world, client_as):
    manager = client_as(world.manager)
    page = manager.get(f"/plans/{world.plan.id}/archive").get_data(as_text=True)
    assert "2 open actions" in page and "Nothing is deleted" in page
    assert client_as(world.officer).post(f"/plans/{world.plan.id}/archive").status_code == 403
    assert client_as(world.outsider).post(f"/plans/{world.plan.id}/archive").status_code == 404
    assert client_as(world.manager).post(f"/plans/{2**40}/archive").status_code == 404
    assert db.session.get(Plan, world.plan.id).archived_at is None
    assert manager.post(f"/plans/{world.plan.id}/archive").status_code == 302
    assert db.session.get(Plan, world.plan.id).archived_at is not None
