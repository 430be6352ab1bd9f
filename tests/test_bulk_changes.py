"""Bulk changes ask first and can be undone: re-assigning an officer's actions, disabling an officer who
leads open actions; and the user page saves every field the pressed button submits."""
from __future__ import annotations

from sqlalchemy import select

from tests import factories
from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action


def lead_of(action) -> int | None:
    db.session.expire_all()
    return db.session.get(Action, action.id).lead_officer_id


def test_bulk_reassign_shows_the_count_first_and_moves_nothing_until_confirmed(world, client_as):
    """Found: bulk re-assign moved 26 actions with no confirmation and no undo."""
    extra = factories.action(world.plan, lead=world.officer, ref="A9")
    db.session.commit()
    client = client_as(world.manager)
    data = {"from_user": str(world.officer.id), "to_user": str(world.other_officer.id), "scope": "plan"}
    asked = client.post(f"/plans/{world.plan.id}/reassign", data=data)
    assert asked.status_code == 200 and "Move 2 open actions from" in asked.text
    assert lead_of(world.officer_action) == lead_of(extra) == world.officer.id
    done = client.post(f"/plans/{world.plan.id}/reassign", data={**data, "confirmed": "yes"})
    assert done.status_code == 302 and lead_of(extra) == world.other_officer.id
    page = client.get(done.location)
    assert "2 actions now led by" in page.text and "Undo" in page.text
    ids = ",".join(str(i) for i in sorted([world.officer_action.id, extra.id]))
    undone = client.post(f"/plans/{world.plan.id}/reassign/undo", data={
        "from_user": str(world.officer.id), "to_user": str(world.other_officer.id), "actions": ids})
    assert undone.status_code == 302
    assert lead_of(world.officer_action) == lead_of(extra) == world.officer.id
    assert "Undone: 2 actions moved back." in client.get(undone.location).text


def test_undo_leaves_actions_changed_since_and_other_partnerships_alone(world, client_as):
    plans.reassign_actions(plans=[world.plan], from_user_id=world.officer.id, to_user_id=world.other_officer.id)
    plans.edit_action(world.officer_action, expected_version=None, lead_officer_id=world.manager.id)
    db.session.commit()
    client = client_as(world.manager)
    client.post(f"/plans/{world.plan.id}/reassign/undo", data={
        "from_user": str(world.officer.id), "to_user": str(world.other_officer.id),
        "actions": f"{world.officer_action.id},{world.outsider_action.id},99999999999999999999"})
    assert lead_of(world.officer_action) == world.manager.id
    assert lead_of(world.outsider_action) == world.outsider.id


def test_the_undo_is_for_the_plans_managers_only(world, client_as):
    plans.reassign_actions(plans=[world.plan], from_user_id=world.officer.id, to_user_id=world.other_officer.id)
    db.session.commit()
    response = client_as(world.officer).post(f"/plans/{world.plan.id}/reassign/undo", data={
        "from_user": str(world.officer.id), "to_user": str(world.other_officer.id),
        "actions": str(world.officer_action.id)})
    assert response.status_code == 403 and lead_of(world.officer_action) == world.other_officer.id


# --------------------------------------------------------------------------- disabling an officer
def test_disabling_an_officer_with_open_actions_asks_and_offers_to_reassign(world, client_as):
    """Found: disabling an officer with open actions gave no warning and the plan still listed them as lead."""
    client = client_as(world.admin)
    asked = client.post(f"/admin/users/{world.officer.id}/disable")
    assert asked.status_code == 200 and "leads 1 open action" in asked.text
    assert f'name="to_{world.home.id}"' in asked.text
    db.session.expire_all()
    assert db.session.get(User, world.officer.id).active
    done = client.post(f"/admin/users/{world.officer.id}/disable", data={
        "confirmed": "yes", f"to_{world.home.id}": str(world.other_officer.id)})
    assert done.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, world.officer.id).active
    assert lead_of(world.officer_action) == world.other_officer.id
    page = client.get(done.location)
    assert "1 open action moved" in page.text and "Undo: enable the account and give back the 1 action" in page.text
    moved = f"{world.officer_action.id}:{world.other_officer.id}"
    assert f'value="{moved}"' in page.text
    client.post(f"/admin/users/{world.officer.id}/enable", data={"moved": moved})
    db.session.expire_all()
    assert db.session.get(User, world.officer.id).active and lead_of(world.officer_action) == world.officer.id
    verbs = [e.verb for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user"))]
    assert verbs.count("disable") == 1 and verbs.count("enable") == 1


def test_disabling_without_reassigning_says_who_still_leads(world, client_as):
    client = client_as(world.admin)
    client.post(f"/admin/users/{world.officer.id}/disable", data={"confirmed": "yes"})
    db.session.expire_all()
    assert not db.session.get(User, world.officer.id).active
    assert "1 open action still names them as lead" in client.get(f"/admin/users/{world.officer.id}").text


def test_an_officer_without_open_actions_is_disabled_at_once(world, client_as):
    assert client_as(world.admin).post(f"/admin/users/{world.viewer.id}/disable").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, world.viewer.id).active


# --------------------------------------------------------------------------- the user page
def test_one_button_saves_the_job_title_and_the_roles(world, client_as):
    """Found: editing a job title and pressing "Save roles" silently dropped the change."""
    client = client_as(world.admin)
    page = client.get(f"/admin/users/{world.officer.id}")
    assert page.text.count("<form method=\"post\" action=\"/admin/users/") == 1 or "Save roles" not in page.text
    assert "Save roles" not in page.text and "Save changes" in page.text
    response = client.post(f"/admin/users/{world.officer.id}", data={
        "name": world.officer.name, "email": world.officer.email, "job_title": "Carers lead",
        "with_roles": "yes", f"role_{world.home.id}": "plan_manager", f"role_{world.other.id}": ""})
    assert response.status_code == 302
    db.session.expire_all()
    officer = db.session.get(User, world.officer.id)
    assert officer.job_title == "Carers lead" and officer.role_in(world.home.id) is Role.PLAN_MANAGER


def test_a_refused_role_change_saves_no_details_either(world, client_as):
    client = client_as(world.admin)
    response = client.post(f"/admin/users/{world.officer.id}", data={
        "name": world.officer.name, "email": world.officer.email, "job_title": "Carers lead",
        "with_roles": "yes", f"role_{world.home.id}": "emperor"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world.officer.id).job_title != "Carers lead"
