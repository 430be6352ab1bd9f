"""One set of rules behind every door (issue 11): the services decide; web, API, Excel return and CLI agree.

Each test here failed before the rules moved into the services: the API, the update return and the admin
pages let through what the web form refused.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.workbooks.test_returns import column, download, save, upload
from tracker import text as texts
from tracker.auth.models import Membership, Role, User
from tracker.committees import services as committees
from tracker.committees.models import CommitteeKind, CommitteeMember, Meeting
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status
from tracker.workbooks.returns import SHEET


def _update_counts() -> int:
    return db.session.scalar(select(func.count(ProgressUpdate.id)))


# --------------------------------------------------------------------------- the same verdict at each door

#: (inputs, field the refusal names). Each is refused by the web form, the API and the Excel return alike.
BAD_UPDATES = [
    ({"narrative": "", "revised_timescale": "", "reason": ""}, "narrative"),
    ({"narrative": "Staffing\x00", "revised_timescale": "", "reason": ""}, "narrative"),
    ({"narrative": "Staffing", "revised_timescale": "next spring-ish", "reason": "Procurement"}, "revised_timescale"),
    ({"narrative": "Staffing", "revised_timescale": "June 3031", "reason": "Procurement"}, "revised_timescale"),
    ({"narrative": "Staffing", "revised_timescale": "June 2031", "reason": ""}, "revision_reason"),
]


def _web(client, action, values):
    return client.post(f"/actions/{action.id}", data={
        "version": str(action.version), "status": "at_risk", "narrative": values["narrative"],
        "revised_timescale": values["revised_timescale"], "revision_reason": values["reason"]})


def _api(client, action, values):
    body = {"status": "at_risk", "narrative": values["narrative"], "version": action.version}
    if values["revised_timescale"]:
        body["revised_timescale"] = values["revised_timescale"]
    if values["reason"]:
        body["revision_reason"] = values["reason"]
    return client.post(f"/api/v1/actions/{action.id}/updates", json=body)


def _return(client, plan, values):
    """None when the text cannot be put in a spreadsheet at all (openpyxl, like Excel, refuses NUL)."""
    if "\x00" in values["narrative"]:
        return None
    wb = download(client, plan.id)
    ws = wb[SHEET]
    ws.cell(row=2, column=column("Status")).value = "At risk"
    ws.cell(row=2, column=column("Progress update")).value = values["narrative"] or None
    ws.cell(row=2, column=column("Revised timescale")).value = values["revised_timescale"] or None
    ws.cell(row=2, column=column("Reason for the new timescale")).value = values["reason"] or None
    return upload(client, plan.id, save(wb))


@pytest.mark.parametrize("values, field", BAD_UPDATES, ids=[f for _, f in BAD_UPDATES])
def test_a_bad_progress_update_is_refused_at_every_door_and_changes_nothing(world, client_as, api, values, field):
    action = world.officer_action
    due, text = action.due_end, action.timescale_text
    # The service itself.
    with pytest.raises(RuleError) as refused:
        plans.record_progress(action, actor=world.officer, status=Status.AT_RISK, narrative=values["narrative"],
                              revised_timescale=values["revised_timescale"] or None,
                              revision_reason=values["reason"] or None)
    assert refused.value.field == field
    db.session.rollback()
    # The web form.
    assert _web(client_as(world.officer), action, values).status_code == 400
    # The API.
    response = _api(api(world.officer), action, values)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    # The Excel update return: a problem in the preview, nothing to save.
    officer = client_as(world.officer)
    response = _return(officer, world.plan, values)
    if response is not None:
        assert response.status_code == 302
        preview = officer.get(response.headers["Location"]).get_data(as_text=True)
        assert "0 update(s) to record" in preview and "1 problem(s)" in preview
    db.session.expire_all()
    assert _update_counts() == 0
    assert (action.due_end, action.timescale_text) == (due, text)


def test_an_unreadable_revised_timescale_in_a_return_never_wipes_the_due_date(world, client_as):
    """The finding: "next spring-ish" passed the preview and the action lost its due date for good."""
    client = client_as(world.officer)
    action = world.officer_action
    due = action.due_end
    wb = download(client, world.plan.id)
    ws = wb[SHEET]
    ws.cell(row=2, column=column("Progress update")).value = "Procurement delayed"
    ws.cell(row=2, column=column("Revised timescale")).value = "next spring-ish"
    ws.cell(row=2, column=column("Reason for the new timescale")).value = "Council timetable moved"
    response = upload(client, world.plan.id, save(wb))
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We could not read a date from" in preview and "cell G2" in preview
    upload_id = db.session.scalar(select(func.max(ProgressUpdate.id)))  # none yet
    assert upload_id is None
    from tracker.workbooks.models import ReturnUpload

    client.post(f"/returns/{db.session.scalar(select(ReturnUpload.id))}/confirm")
    db.session.expire_all()
    assert action.due_end == due and action.timescale_kind == "dated"


# --------------------------------------------------------------------------- the API


def test_the_api_refuses_what_the_form_refuses(world, api):
    client = api(world.officer)
    action = world.officer_action
    url = f"/api/v1/actions/{action.id}/updates"
    cases = [
        ({"status": "on_track", "narrative": "", "version": action.version}, "narrative"),
        ({"status": "on_track", "narrative": "a\x07b", "version": action.version}, "narrative"),
        ({"status": "on_track", "narrative": "ok", "revised_timescale": None, "revision_reason": "x",
          "version": action.version}, "revised_timescale"),
        ({"status": "on_track", "narrative": "ok", "version": action.version, "extra": 1}, "extra"),
    ]
    for body, field in cases:
        response = client.post(url, json=body)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == field
    response = client.post(url, json={"status": "superseded", "narrative": "Replaced", "version": action.version})
    assert response.status_code == 403
    assert _update_counts() == 0


def test_per_page_beyond_the_maximum_is_refused_not_capped(world, api):
    response = api(world.manager).get(f"/api/v1/plans/{world.plan.id}/actions?per_page=101")
    assert response.status_code == 400
    assert response.get_json()["field"] == "per_page"
    assert api(world.manager).get(f"/api/v1/plans/{world.plan.id}/actions?per_page=100").status_code == 200


@pytest.mark.parametrize("path", ["/plans/99999999999999999999", "/plans/9223372036854775808",
                                  "/actions/18446744073709551616", "/plans/1?lead=99999999999999999999",
                                  "/committees/9223372036854775808"])
def test_ids_beyond_64_bits_are_not_found(world, client_as, path):
    path = path.replace("/plans/1?", f"/plans/{world.plan.id}?")
    response = client_as(world.manager).get(path)
    assert response.status_code in (200, 404) and response.status_code != 500
    if "?" not in path:
        assert response.status_code == 404


def test_api_ids_beyond_64_bits_are_not_found(world, api):
    assert api(world.manager).get("/api/v1/plans/9223372036854775808").status_code == 404
    assert api(world.manager).get("/api/v1/actions/99999999999999999999/updates").status_code == 404


def test_json_nested_100000_deep_is_a_400(world, api):
    body = "[" * 100_000 + "]" * 100_000
    response = api(world.officer).post(f"/api/v1/actions/{world.officer_action.id}/updates", data=body,
                                       content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]


def test_the_openapi_document_says_what_the_api_enforces():
    from tracker.api.openapi import document

    doc = document()
    new = doc["components"]["schemas"]["NewProgressUpdate"]
    assert new["dependentRequired"] == {"revised_timescale": ["revision_reason"]}
    assert "narrative" in new["required"] and {"required": ["superseded_by_id"]} in new["then"]["anyOf"]
    per_page = next(p for p in doc["paths"]["/api/v1/plans/{plan_id}/actions"]["get"]["parameters"]
                    if p["name"] == "per_page")
    assert per_page["schema"]["maximum"] == 100


# --------------------------------------------------------------------------- supersede


def test_a_lead_officer_cannot_supersede_and_a_manager_must_name_the_replacement(world, client_as):
    action = world.officer_action
    with pytest.raises(NotAllowed):
        plans.record_progress(action, actor=world.officer, status=Status.SUPERSEDED, narrative="Replaced",
                              superseded_by_id=world.colleague_action.id)
    db.session.rollback()
    with pytest.raises(RuleError) as refused:
        plans.record_progress(action, actor=world.manager, status=Status.SUPERSEDED, narrative="Replaced")
    assert refused.value.field == "superseded_by_id"
    db.session.rollback()
    with pytest.raises(RuleError):  # another partnership's action cannot replace it
        plans.record_progress(action, actor=world.manager, status=Status.SUPERSEDED, narrative="Replaced",
                              superseded_by_id=world.outsider_action.id)
    db.session.rollback()
    response = client_as(world.officer).post(f"/actions/{action.id}", data={
        "version": str(action.version), "status": "superseded", "narrative": "Replaced"})
    assert response.status_code == 400  # not a choice on the lead officer's form
    assert _update_counts() == 0


# --------------------------------------------------------------------------- names: CR/LF and control characters


@pytest.mark.parametrize("name", ["Jo\r\nBcc: everyone@example.com", "Jo\x00", "Jo\u2028Smith", " "])
def test_names_with_line_breaks_or_control_characters_are_refused(world, client_as, name):
    from tracker.admin import services as admin

    users_before = db.session.scalar(select(func.count(User.id)))
    with pytest.raises(RuleError) as refused:
        admin.create_user(name=name, email="new@example.scot", job_title=None,
                          roles={world.home.id: Role.VIEWER}, is_admin=False, actor=world.admin)
    assert refused.value.field == "name"
    db.session.rollback()
    response = client_as(world.admin).post("/admin/users/new", data={
        "name": name, "email": "new@example.scot", f"role_{world.home.id}": Role.VIEWER.value})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(User.id))) == users_before
    committee_count = len(committees.visible_committees(world.admin))
    with pytest.raises(RuleError):
        committees.save_committee(None, partnership_id=world.home.id, name=name, kind=CommitteeKind.PAC,
                                  papers_due_working_days=10, plans=[], actor=world.manager)
    db.session.rollback()
    assert len(committees.visible_committees(world.admin)) == committee_count


def test_text_types_store_exactly_what_they_return(world):
    assert texts.paragraphs("Line one\r\nLine two\rthree\t ") == "Line one\nLine two\nthree"
    assert texts.line("  Carers Centre  ") == "Carers Centre"
    name = "النساء Women’s Aid 👩"
    plan = plans.create_plan(partnership_id=world.home.id, framework_id=world.plan.framework_id, name=name,
                             actor=world.manager)
    db.session.commit()
    db.session.expire_all()
    assert plan.name == name


# --------------------------------------------------------------------------- meetings and dates


@pytest.mark.parametrize("held_on", [dt.date(1, 1, 1), dt.date(1989, 12, 31), dt.date(2101, 1, 1)])
def test_meetings_outside_1990_to_2100_are_refused_and_the_committee_page_still_works(
        world, client_as, held_on):
    committee = committees.save_committee(None, partnership_id=world.home.id, name="PAC",
                                          kind=CommitteeKind.PAC, papers_due_working_days=10, plans=[world.plan])
    db.session.commit()
    with pytest.raises(RuleError) as refused:
        committees.add_meeting(committee, held_on, None, actor=world.manager)
    assert refused.value.field == "held_on"
    db.session.rollback()
    client = client_as(world.manager)
    client.post(f"/committees/{committee.id}/meetings", data={"held_on": held_on.isoformat().rjust(10, "0")})
    assert db.session.scalar(select(func.count(Meeting.id))) == 0
    assert client.get(f"/committees/{committee.id}").status_code == 200


# --------------------------------------------------------------------------- access


def test_a_partnership_admin_cannot_change_roles_of_an_account_that_also_works_elsewhere(world, client_as):
    home_admin = factories.user(world.home, Role.ADMIN, email="home.admin@example.scot")
    national = factories.user(world.home, Role.VIEWER, email="national@example.scot")
    national.memberships.append(Membership(partnership_id=world.other.id, role=Role.VIEWER))
    db.session.commit()
    response = client_as(home_admin).post(f"/admin/users/{national.id}/roles",
                                          data={f"role_{world.home.id}": Role.ADMIN.value})
    assert response.status_code == 403
    db.session.expire_all()
    assert national.role_in(world.home.id) is Role.VIEWER


def test_removing_the_last_role_removes_committee_membership_and_access_to_its_papers(world, client_as):
    from tracker.admin import services as admin

    carer = factories.user(world.home, Role.VIEWER, email="carer.rep@example.scot")
    committee = committees.save_committee(None, partnership_id=world.home.id, name="Carers partnership",
                                          kind=CommitteeKind.SPG, papers_due_working_days=10, plans=[world.plan])
    committees.add_member(committee, carer, "Carer representative", actor=world.manager)
    db.session.commit()
    client = client_as(carer)
    assert client.get(f"/committees/{committee.id}").status_code == 200
    admin.set_roles(carer, {world.home.id: None}, actor=world.admin)
    db.session.commit()
    assert db.session.scalar(select(func.count(CommitteeMember.id))) == 0
    assert client.get(f"/committees/{committee.id}").status_code == 404
    from tracker.audit.models import AuditEvent

    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "remove_member")) is not None


def test_services_check_permission_whatever_the_door(world):
    with pytest.raises(NotAllowed):
        plans.create_action(plan=world.plan, text="Sneaky", actor=world.officer)
    with pytest.raises(NotAllowed):
        plans.edit_plan(world.other_plan, actor=world.manager, name="Mine now")
    with pytest.raises(NotAllowed):
        plans.record_progress(world.colleague_action, actor=world.officer, status=Status.ON_TRACK, narrative="x")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Action.id))) == 3


def test_the_plan_manager_cannot_be_someone_from_another_partnership(world):
    with pytest.raises(RuleError) as refused:
        plans.edit_plan(world.plan, actor=world.manager, manager_id=world.outsider.id)
    assert refused.value.field == "manager_id"
    with pytest.raises(RuleError) as refused:
        plans.edit_action(world.officer_action, expected_version=None, actor=world.manager,
                          lead_officer_id=world.outsider.id)
    assert refused.value.field == "lead_officer_id"


def test_the_navigation_offers_import_only_to_those_who_may_import(world, client_as):
    """The nav showed Import to lead officers, viewers and carer representatives, who then got a 403."""
    assert 'href="/imports/"' not in client_as(world.officer).get("/").text.replace("/imports/upload", "/imports/")
    for person in (world.officer, world.viewer):
        page = client_as(person).get("/").text
        assert ">Import<" not in page
    assert ">Import<" in client_as(world.manager).get("/").text


# ------------------------------------------------------------------- status rules on the edit form too (audit)

def _edit(client, action, **changes):
    data = {"version": str(action.version), "ref": action.ref, "text": action.text,
            "timescale": action.timescale_text or "", "status": Status(action.status).value,
            "lead_officer_id": str(action.lead_officer_id or ""), "lead_text": action.lead_text or ""}
    return client.post(f"/actions/{action.id}/edit", data={**data, **changes})


def test_the_edit_form_meets_the_updates_status_rules(world, client_as, api):
    """The manager's edit form saved Superseded with no replacement, and On track on an overdue action with no
    new timescale, both of which the update form, the supersede form and the API refuse."""
    manager = client_as(world.manager)
    action = world.officer_action
    refused = _edit(manager, action, status="superseded")
    assert refused.status_code == 400 and "use Supersede on its page" in refused.text
    late = factories.action(world.plan, ref="LATE", lead=world.officer, timescale="March 2020", status=Status.AT_RISK)
    db.session.commit()
    assert api(world.manager).post(f"/api/v1/actions/{late.id}/updates", json={
        "status": "on_track", "narrative": "Fine", "version": late.version}).status_code == 400
    refused = _edit(manager, late, status="on_track")
    assert refused.status_code == 400 and "cannot be on track as it stands" in refused.text
    moved_back = _edit(manager, action, timescale="March 2020", revision_reason="Typed wrongly")
    assert moved_back.status_code == 400 and "cannot stay on track" in moved_back.text
    db.session.expire_all()
    assert (action.status, action.due_end.year, late.status) == (Status.ON_TRACK, 2030, Status.AT_RISK)
    # With a timescale still to come it saves; and an edit that touches neither status nor timescale is not stopped.
    assert _edit(manager, late, status="on_track", timescale="March 2031", revision_reason="Re-planned").status_code == 302
    plans.edit_action(late, expected_version=None, timescale="March 2020", as_written=True)  # (time passes)
    db.session.commit()
    assert _edit(manager, late, text="Corrected wording").status_code == 302


def test_a_replacement_in_an_archived_plan_is_refused_at_every_door(world, client_as, api):
    archived = factories.plan(world.home, "Old plan", manager=world.manager)
    old = factories.action(archived, lead=world.officer, ref="Z1")
    db.session.commit()
    plans.archive_plan(archived, actor=world.manager)
    db.session.commit()
    action = world.officer_action
    answer = api(world.manager).post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Replaced", "version": action.version, "superseded_by_id": old.id})
    assert answer.status_code == 400 and answer.get_json()["field"] == "superseded_by_id"
    assert "archived plan" in answer.get_json()["error"]
    assert client_as(world.manager).post(f"/actions/{action.id}/supersede", data={
        "version": str(action.version), "replacement": str(old.id), "note": "Replaced"}).status_code == 400
    with pytest.raises(RuleError, match="archived plan"):
        plans.record_progress(action, actor=world.manager, status=Status.SUPERSEDED, narrative="Replaced",
                              superseded_by_id=old.id)
    db.session.rollback()
    db.session.expire_all()
    assert action.status is Status.ON_TRACK and action.superseded_by_id is None


def test_an_action_back_in_play_no_longer_names_a_replacement(world, client_as, api):
    action = world.officer_action
    plans.record_progress(action, actor=world.manager, status=Status.SUPERSEDED, narrative="Replaced",
                          superseded_by_id=world.colleague_action.id)
    db.session.commit()
    answer = api(world.manager).post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "at_risk", "narrative": "Back on", "version": action.version})
    assert answer.status_code == 201 and answer.get_json()["action"]["superseded_by_id"] is None
    plans.record_progress(action, actor=world.manager, status=Status.SUPERSEDED, narrative="Replaced again",
                          superseded_by_id=world.colleague_action.id)
    db.session.commit()
    assert _edit(client_as(world.manager), action, status="at_risk").status_code == 302
    db.session.expire_all()
    assert action.status is Status.AT_RISK and action.superseded_by_id is None


def test_the_api_says_plainly_what_is_wrong_with_an_empty_revised_timescale(world, api):
    """The API answered "revised_timescale": "" with "Give a revision_reason". Its document says the field is
    sent only when the date moves (and a schema-violating request is never accepted): it says so now; the
    reason for a real new timescale is the service's rule, in the service's words."""
    action = world.officer_action
    answer = api(world.officer).post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "at_risk", "narrative": "Staffing", "revised_timescale": " ", "version": action.version})
    assert answer.status_code == 400 and answer.get_json()["field"] == "revised_timescale"
    assert "leave it out when the timescale does not change" in answer.get_json()["error"]
    refused = api(world.officer).post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "at_risk", "narrative": "Staffing", "revised_timescale": "June 2031", "version": action.version})
    assert refused.status_code == 400 and refused.get_json()["field"] == "revision_reason"


def test_the_action_form_shows_every_fields_refusal_at_once(world, client_as):
    """The form showed one refusal a submit: the missing text, then the taken reference, then the timescale."""
    response = client_as(world.manager).post(f"/plans/{world.plan.id}/actions/new", data={
        "ref": world.officer_action.ref, "text": "", "timescale": "next-ish", "status": "not_started",
        "lead_officer_id": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field, words in [("text", "Enter the action"), ("ref", "is already used in this plan"),
                         ("timescale", "next-ish")]:
        assert f'id="{field}-error"' in page and words in page, field
    assert 'value="next-ish"' in page  # what was typed is kept
    assert db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == world.plan.id)) == 2
    with pytest.raises(RuleError) as refused:  # the service's one refusal reads as its first, for other doors
        plans.create_action(plan=world.plan, text="", ref=world.officer_action.ref, actor=world.manager)
    assert refused.value.field == "text" and [e.field for e in refused.value.errors] == ["text", "ref"]


def test_the_api_marks_an_action_no_longer_needed_as_the_web_does(world, api):
    """The web's Supersede form offers "no longer needed"; the API could only name a replacement."""
    action = world.officer_action
    client = api(world.manager)
    both = client.post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Dropped", "version": action.version, "no_longer_needed": True,
        "superseded_by_id": world.colleague_action.id})
    assert both.status_code == 400 and both.get_json()["field"] == "superseded_by_id"
    assert client.post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "at_risk", "narrative": "Dropped", "version": action.version,
        "no_longer_needed": True}).status_code == 400
    assert client.post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Dropped", "version": action.version,
        "no_longer_needed": "yes"}).status_code == 400
    done = client.post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "superseded", "narrative": "Dropped: the service it improved has closed.",
        "version": action.version, "no_longer_needed": True})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["action"]["status"] == "superseded" and done.get_json()["action"]["superseded_by_id"] is None
    assert api(world.officer).post(f"/api/v1/actions/{world.colleague_action.id}/updates", json={
        "status": "superseded", "narrative": "Dropped", "version": world.colleague_action.version,
        "no_longer_needed": True}).status_code in (403, 404)  # a lead officer cannot supersede
