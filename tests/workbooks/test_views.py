"""Committee pages, issuing from a meeting, and downloads."""
from __future__ import annotations

import datetime as dt
import hashlib
import io

import openpyxl
from sqlalchemy import select

from tracker.audit.models import AuditEvent
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.extensions import db
from tracker.workbooks.models import IssuedWorkbook


def make_committee(world, *, meeting_on: dt.date | None = None) -> Committee:
    committee = Committee(partnership_id=world.home.id, name="Carers Partnership",
                          kind=CommitteeKind.CARERS_PARTNERSHIP)
    committee.plans.append(world.plan)
    committee.members.append(CommitteeMember(user=world.viewer, role_label="Carer representative"))
    committee.meetings.append(Meeting(held_on=meeting_on or dt.date.today() + dt.timedelta(days=60)))
    db.session.add(committee)
    db.session.commit()
    return committee


def test_members_list_committees_of_their_partnership_only(world, client_as):
    committee = make_committee(world)
    page = client_as(world.viewer).get("/committees/").get_data(as_text=True)
    assert "Carers Partnership" in page and "Papers due" in page
    assert "Carers Partnership" not in client_as(world.outsider).get("/committees/").get_data(as_text=True)
    assert client_as(world.outsider).get(f"/committees/{committee.id}").status_code == 404
    detail = client_as(world.viewer).get(f"/committees/{committee.id}").get_data(as_text=True)
    assert "Carer representative" in detail and "Add a member" not in detail


def test_plan_managers_create_and_manage_committees(world, client_as):
    client = client_as(world.manager)
    assert client_as(world.viewer).get("/committees/new").status_code == 403
    form = {"partnership_id": world.home.id, "name": "Performance and Audit Committee", "kind": "pac",
            "papers_due_working_days": "8", "plans": [str(world.plan.id), str(world.other_plan.id)]}
    response = client.post("/committees/new", data=form)  # another partnership's plan: refused
    assert response.status_code == 400 and "is not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(Committee.id)) is None
    response = client.post("/committees/new", data={**form, "plans": [str(world.plan.id)]})
    assert response.status_code == 302
    committee = db.session.scalar(select(Committee).where(Committee.name == "Performance and Audit Committee"))
    assert committee.papers_due_working_days == 8 and committee.plans == [world.plan]
    client.post(f"/committees/{committee.id}/members", data={"user_id": world.viewer.id,
                                                            "role_label": "Service-user representative"})
    client.post(f"/committees/{committee.id}/meetings", data={"held_on": "2031-01-29", "title": "January"})
    db.session.expire_all()
    assert [(m.user_id, m.role_label) for m in committee.members] == [(world.viewer.id,
                                                                        "Service-user representative")]
    assert [m.held_on for m in committee.meetings] == [dt.date(2031, 1, 29)]
    verbs = set(db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "committee")))
    assert verbs == {"create", "add_member", "add_meeting"}
    # Another partnership's user cannot be added; a viewer cannot change anything.
    client.post(f"/committees/{committee.id}/members", data={"user_id": world.outsider.id, "role_label": "X"})
    assert client_as(world.viewer).post(f"/committees/{committee.id}/meetings",
                                        data={"held_on": "2031-02-01"}).status_code == 403
    db.session.expire_all()
    assert len(committee.members) == 1 and len(committee.meetings) == 1


def test_issue_now_stores_once_emails_and_members_download_the_same_bytes(app, world, client_as):
    committee = make_committee(world)
    meeting = committee.meetings[0]
    client = client_as(world.manager)
    client.post(f"/committees/{committee.id}/meetings/{meeting.id}/issue")
    client.post(f"/committees/{committee.id}/meetings/{meeting.id}/issue")
    [issued] = db.session.scalars(select(IssuedWorkbook)).all()
    assert [m["To"].addresses[0].addr_spec for m in _delivered(app)] == [world.viewer.email]
    response = client_as(world.viewer).get(f"/workbooks/{issued.id}/download")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == issued.sha256 == response.headers["X-Checksum-SHA256"]
    assert client_as(world.outsider).get(f"/workbooks/{issued.id}/download").status_code == 404
    detail = client_as(world.viewer).get(f"/committees/{committee.id}").get_data(as_text=True)
    assert issued.sha256 in detail
    # A meeting with issued papers stays on record.
    client.post(f"/committees/{committee.id}/meetings/{meeting.id}/remove")
    assert db.session.get(Meeting, meeting.id) is not None


def test_draft_workbook_download(world, client_as):
    response = client_as(world.viewer).get(f"/plans/{world.plan.id}/workbook?quarter=Q2+2023/24")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb["Summary"]["B3"].value == "Q2 2023/24"
    assert client_as(world.outsider).get(f"/plans/{world.plan.id}/workbook").status_code == 404


def test_forged_form_without_csrf_token_changes_nothing(make_app, world):
    """Mutation it catches: a client that is not signed in (`app.test_client()` for `sign_in_client`), whose
    post is a 302 to the sign-in page: that used to pass as "refused". Now the refusal must be CSRF's 400,
    and the same post with the page's token must work."""
    import re

    from tests.conftest import sign_in_client

    app = make_app(WTF_CSRF_ENABLED=True)
    committee = make_committee(world)
    with app.app_context():
        manager = db.session.get(type(world.manager), world.manager.id)
        client = sign_in_client(app, manager)
        page = client.get(f"/committees/{committee.id}")
        assert page.status_code == 200
        response = client.post(f"/committees/{committee.id}/meetings", data={"held_on": "2031-01-29"})
        assert response.status_code == 400
        db.session.expire_all()
        assert len(db.session.get(Committee, committee.id).meetings) == 1
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        response = client.post(f"/committees/{committee.id}/meetings",
                               data={"held_on": "2031-01-29", "csrf_token": token})
        assert response.status_code == 302 and "/auth/sign-in" not in response.location
    db.session.expire_all()
    assert len(db.session.get(Committee, committee.id).meetings) == 2


def test_edit_committee_and_remove_a_member(world, client_as):
    committee = make_committee(world)
    client = client_as(world.manager)
    page = client.get(f"/committees/{committee.id}/edit").get_data(as_text=True)
    assert 'value="Carers Partnership"' in page
    response = client.post(f"/committees/{committee.id}/edit", data={
        "name": "Carers Partnership Board", "kind": "carers_partnership", "papers_due_working_days": "12"})
    assert response.status_code == 302
    member = committee.members[0]
    client.post(f"/committees/{committee.id}/members/{member.id}/remove")
    db.session.expire_all()
    committee = db.session.get(Committee, committee.id)
    assert (committee.name, committee.papers_due_working_days, committee.plans) == ("Carers Partnership Board",
                                                                                    12, [])
    assert committee.members == []
    assert client_as(world.viewer).get(f"/committees/{committee.id}/edit").status_code == 403
    assert client_as(world.outsider).post(f"/committees/{committee.id}/edit").status_code == 404


def _delivered(app) -> list:
    """What has been e-mailed once the outbox is delivered (the scheduler does it every minute)."""
    from tracker.outbox.services import deliver_pending

    deliver_pending()
    return app.extensions.get("outbox", [])
