"""The access bugs the permission matrix found, each with a real (complete) request and its effect on the data.

The matrix (tests/test_permission_matrix.py) sends empty forms; these send what a person would, so they show
what is actually changed. Each bug is a strict xfail: when the fix lands the test passes, turns XPASS (red) and
its mark must be removed. The neighbouring doors that already refuse are tested here too, unmarked.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.page_clients import client_as  # noqa: F401  (fixture)
from tests.rich_world import build_world
from tracker.auth.models import Membership, Role
from tracker.extensions import db
from tracker.plans.models import Action
from tracker.rag import Status
from tracker.workbooks.models import ReturnUpload


@pytest.fixture
def rich(app):
    return build_world()


def _role(user_id: int, partnership_id: int) -> Role | None:
    db.session.expire_all()
    return db.session.scalar(select(Membership.role).where(Membership.user_id == user_id,
                                                           Membership.partnership_id == partnership_id))


# Roles of an account that is also in another partnership ------------------------------------------------------


def test_partnership_admin_cannot_change_the_details_of_an_account_in_two_partnerships(rich, client_as):
    response = client_as(rich.people["padmin"]).post(f"/admin/users/{rich.national.id}", data={
        "name": "Renamed", "email": rich.national.email})
    assert response.status_code == 403


@pytest.mark.parametrize("admin,partnership", [("padmin", "home"), ("o_admin", "other")])
def test_partnership_admin_cannot_change_the_roles_of_an_account_in_two_partnerships(rich, client_as, admin,
                                                                                     partnership):
    partnership_id = getattr(rich, partnership).id
    before = _role(rich.national.id, partnership_id)
    response = client_as(rich.people[admin]).post(f"/admin/users/{rich.national.id}/roles",
                                                  data={f"role_{partnership_id}": ""})  # remove the role
    after = _role(rich.national.id, partnership_id)
    assert (response.status_code, after) in {(403, before), (404, before)}, (response.status_code, before, after)


def test_site_admin_can_change_the_roles_of_an_account_in_two_partnerships(rich, client_as):
    response = client_as(rich.people["site"]).post(f"/admin/users/{rich.national.id}/roles",
                                                   data={f"role_{rich.home.id}": "viewer",
                                                         f"role_{rich.other.id}": "viewer"})
    assert response.status_code == 302
    assert _role(rich.national.id, rich.home.id) is Role.VIEWER


# A former committee member -------------------------------------------------------------------------------------


def test_removing_the_last_role_also_took_the_former_member_off_the_committee(rich):
    former = rich.people["former"]
    assert former.memberships == [] and not any(m.user_id == former.id for m in rich.committee.members)


@pytest.mark.parametrize("path", ["/committees/{committee}", "/workbooks/{workbook}/download"])
def test_a_former_committee_member_no_longer_sees_the_committee_or_its_papers(rich, client_as, path):
    url = path.format(committee=rich.committee.id, workbook=rich.workbook.id)
    with client_as(rich.people["former"]).get(url) as response:
        assert response.status_code == 404, (url, response.status_code, response.headers.get("Content-Type"))


@pytest.mark.parametrize("path", ["/committees/{committee}", "/workbooks/{workbook}/download"])
def test_a_current_committee_member_sees_the_committee_and_its_papers(rich, client_as, path):
    url = path.format(committee=rich.committee.id, workbook=rich.workbook.id)
    with client_as(rich.people["carer"]).get(url) as response:
        assert response.status_code == 200


# A lead officer marks their action Superseded --------------------------------------------------------------------


def _status(action_id: int) -> Status:
    db.session.expire_all()
    return Status(db.session.get(Action, action_id).status)


def test_a_lead_officer_cannot_supersede_on_the_supersede_page(rich, client_as):
    action = rich.action
    response = client_as(rich.people["officer"]).post(f"/actions/{action.id}/supersede", data={
        "version": str(action.version), "replacement": str(rich.colleague_action.id), "note": "Replaced by A2"})
    assert response.status_code == 403
    assert _status(action.id) is Status.ON_TRACK


def test_a_lead_officer_cannot_choose_superseded_in_the_update_form(rich, client_as):
    action = rich.action
    response = client_as(rich.people["officer"]).post(f"/actions/{action.id}", data={
        "version": str(action.version), "status": "superseded", "narrative": "Replaced by A2"})
    assert response.status_code == 400
    assert _status(action.id) is Status.ON_TRACK


def test_a_lead_officer_cannot_supersede_through_the_api(rich, app):
    action = rich.action
    client = app.test_client()
    response = client.post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Replaced by A2", "version": action.version},
        headers={"Authorization": f"Bearer {rich.api_tokens['officer']}"})
    status = _status(action.id)
    assert response.status_code in (400, 403) and status is Status.ON_TRACK, (response.status_code, status)


def test_a_lead_officer_cannot_supersede_through_the_update_return(rich, client_as):
    action = rich.action
    upload = ReturnUpload(plan_id=rich.plan.id, user_id=rich.people["officer"].id, filename="return.xlsx", rows=[{
        "row": 2, "ref": action.ref, "action_id": action.id, "version": action.version,
        "current_status": "On track", "status": "Superseded", "narrative": "Replaced by A2",
        "revised_timescale": None, "reason": None}])
    db.session.add(upload)
    db.session.commit()
    client_as(rich.people["officer"]).post(f"/returns/{upload.id}/confirm")
    assert _status(action.id) is Status.ON_TRACK


def test_a_plan_manager_can_supersede_through_the_api(rich, app):
    action = rich.action
    response = app.test_client().post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Replaced by A2", "version": action.version,
        "superseded_by_id": rich.colleague_action.id},
        headers={"Authorization": f"Bearer {rich.api_tokens['manager']}"})
    assert response.status_code == 201 and _status(action.id) is Status.SUPERSEDED
