"""An import that leaves a plan ready to run: two lead columns, similar plans, the manager, assigning leads."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from tests import conftest, factories
from tests.imports.builders import plan_xlsx
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role, User
from tracker.errors import NotAllowed
from tracker.extensions import db
from tracker.imports import leads, services, xlsx_plan
from tracker.imports.models import ImportJob
from tracker.outbox.services import queued_to
from tracker.partnerships.models import Organisation
from tracker.plans.models import Action, Plan

DUNDEE = Path(__file__).parent.parent / "fixtures" / "dundee-carers-delivery-plan-2022.xlsx"
TWO_LEADS = ["Ref", "Action", "Responsible officer", "Partner organisations", "Timescale", "Notes"]
TWO_LEAD_ROWS = [
    ["1", "Agree a joint budget timetable", "Chief Finance Officer", "NHS Anytown/Anytown Council", "March 2030",
     "from the 2023 plan"],
    ["2", "Publish the directions policy", "Jo Bloggs", "Anytown Council", "Q3 2029/30", ""],
    ["3", "Refresh the engagement strategy", "jo.bloggs@example.scot", "Third Sector Interface", "Ongoing", ""],
    ["4", "Review the carers' pathway", "Head of Service", "Carers Centre; Head of Service", "June 2030", ""],
]


def sign_in_client(app, user):
    g.pop("_login_user", None)
    return conftest.sign_in_client(app, user)


# -- pure functions ------------------------------------------------------------------------------------------

def test_header_roles_for_officers_and_organisations():
    assert xlsx_plan.guess_role("Responsible officer") == "officer"
    assert xlsx_plan.guess_role("Lead officer") == "officer"
    assert xlsx_plan.guess_role("Partner organisations") == "lead"
    assert xlsx_plan.guess_role("Lead") == "lead"


@pytest.mark.parametrize("text, title", [
    ("Chief Finance Officer", True), ("Head of Service", True), ("Carers Lead", True), ("Service Manager", True),
    ("NHS Tayside", False), ("Dundee Carers Centre", False), ("Third Sector Interface", False),
])
def test_job_titles_are_told_from_organisations(text, title):
    assert leads.looks_like_job_title(text) is title


def test_a_title_is_kept_when_someone_made_it_an_organisation():
    resolved = [("Chief Officer", "Chief Officer", leads.EXACT), ("New Post Officer", "New Post Officer", leads.NEW)]
    kept, titles = leads.organisations_only(resolved, {"Chief Officer"})
    assert kept == [resolved[0]] and titles == ["New Post Officer"]


PEOPLE = [(1, "Jo Bloggs", "jo.bloggs@example.scot", "Carers Lead"),
          (2, "Sam Smith", "sam@example.scot", "Chief Finance Officer"),
          (3, "Alex Jones", "alex@example.scot", "Locality Manager"),
          (4, "Pat Jones", "pat@example.scot", "Locality Manager")]


@pytest.mark.parametrize("text, expected", [
    ("jo.bloggs@example.scot", (1, leads.BY_EMAIL)),
    ("Jo Bloggs", (1, leads.BY_NAME)),
    ("jo  bloggs", (1, leads.BY_NAME)),
    ("Chief Finance Officer", (2, leads.BY_TITLE)),
    ("Locality Manager", None),  # two people hold the post: nobody is guessed
    ("Dundee Carers Centre", None),
    ("", None),
])
def test_a_lead_text_suggests_one_person(text, expected):
    assert leads.suggest_user(text, PEOPLE) == expected


# -- the preview and the commit ------------------------------------------------------------------------------

def test_both_lead_columns_are_mapped_and_job_titles_never_become_organisations(app):
    factories.msg()
    partnership = factories.partnership("Anytown")
    parsed = services.read(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS))
    assert parsed.mapping["officer"] == "C" and parsed.mapping["lead"] == "D"
    preview = services.changes(parsed, partnership, "Anytown plan")
    assert preview["unused_columns"] == {"F": "Notes"}
    assert preview["new_organisations"] == ["Anytown Council", "Carers Centre", "NHS Anytown",
                                            "Third Sector Interface"]
    assert any("Head of Service" in p["message"] and "job title" in p["message"] for p in preview["problems"])
    services.apply(parsed, partnership, "Anytown plan", actor_id=None, preview=preview)
    db.session.commit()
    actions = {a.ref: a for a in db.session.scalar(select(Plan)).actions}
    assert actions["1"].lead_text == "Chief Finance Officer"
    assert [o.name for o in actions["1"].organisations] == ["Anytown Council", "NHS Anytown"]
    assert [o.name for o in actions["4"].organisations] == ["Carers Centre"]
    assert db.session.scalar(select(func.count(Organisation.id)).where(Organisation.name.like("%Head%"))) == 0


def test_an_unused_column_can_be_given_a_role(app):
    factories.msg()
    parsed = services.read(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS),
                           mapping={"ref": "A", "action": "B", "officer": "C", "lead": "D", "timescale": "E",
                                    "status": "F"})
    assert parsed.mapping["status"] == "F"


def test_new_organisations_can_be_left_out_and_the_manager_is_set(app, world):
    factories.msg()
    parsed = services.read(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS))
    summary = services.apply(parsed, world.home, "Anytown plan", actor_id=world.manager.id,
                             manager_id=world.manager.id, skip_organisations=["Third Sector Interface"])
    db.session.commit()
    plan = db.session.get(Plan, summary["plan_id"])
    assert plan.manager_id == world.manager.id
    assert summary["organisations_skipped"] == ["Third Sector Interface"]
    assert {a.ref: [o.name for o in a.organisations] for a in plan.actions}["3"] == []
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Third Sector Interface")) is None


def test_a_manager_from_another_partnership_is_refused_and_nothing_is_written(app, world):
    factories.msg()
    parsed = services.read(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS))
    with pytest.raises(Exception, match="plan manager in this partnership"):
        services.apply(parsed, world.home, "Anytown plan", actor_id=None, manager_id=world.outsider.id)
    db.session.rollback()
    assert db.session.scalar(select(Plan).where(Plan.name == "Anytown plan")) is None


def test_a_similar_plan_name_is_found_and_the_import_can_update_it(app, world):
    factories.msg()
    first = services.apply(services.read(DUNDEE), world.home, "A Caring Dundee 2: Carers Delivery Plan 2022",
                           actor_id=None)
    existing = db.session.get(Plan, first["plan_id"])
    db.session.commit()
    parsed = services.read(DUNDEE)
    name = services.default_plan_name(parsed, DUNDEE.name)
    assert name != existing.name
    job = services.create_job(services.check(DUNDEE), parsed, world.home, name, world.manager.id)
    assert job.preview["similar_plans"] == [{"id": existing.id, "name": existing.name}]
    services.retarget_job(job, existing.id)
    assert job.plan_name == existing.name and job.preview["plan_exists"] and not job.preview["similar_plans"]
    summary = services.commit_job(job, world.manager.id)
    db.session.commit()
    assert summary["plan_id"] == existing.id and summary["create"] == 0 and summary["update"] == 0
    assert db.session.scalar(select(func.count(Plan.id)).where(Plan.partnership_id == world.home.id)) == 2
    again = services.changes(services.read(DUNDEE), world.home, existing.name)
    assert again["counts"]["create"] == 0 and again["counts"]["update"] == 0  # idempotent


def test_another_partnerships_plan_cannot_be_the_target(app, world):
    factories.msg()
    parsed = services.read(DUNDEE)
    job = services.create_job(services.check(DUNDEE), parsed, world.home, "Dundee", world.manager.id)
    for plan_id in (world.other_plan.id, 2**63, -1):
        with pytest.raises(Exception, match="not found"):
            services.retarget_job(job, plan_id)
    assert job.plan_name == "Dundee"


# -- assigning leads -----------------------------------------------------------------------------------------

def _imported(world, **people):
    factories.msg()
    for email, (name, title) in people.items():
        factories.user(world.home, Role.LEAD_OFFICER, email=email, name=name).job_title = title
    db.session.flush()
    parsed = services.read(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS))
    job = services.create_job(services.check(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS)), parsed, world.home,
                              "Anytown plan", world.manager.id)
    services.commit_job(job, world.manager.id, manager_id=world.manager.id)
    db.session.commit()
    return job, db.session.get(Plan, job.summary["plan_id"])


def test_unassigned_leads_are_listed_with_suggestions_and_assigned_at_once(app, world):
    job, plan = _imported(world, **{"jo.bloggs@example.scot": ("Jo Bloggs", "Carers Lead"),
                                    "cfo@example.scot": ("Sam Smith", "Chief Finance Officer")})
    candidates = services.lead_candidates(world.home.id)
    found = {e["text"]: e for e in services.unassigned_leads(plan, candidates)}
    jo = db.session.scalar(select(User).where(User.email == "jo.bloggs@example.scot"))
    assert found["Jo Bloggs"]["suggested_id"] == jo.id and found["Jo Bloggs"]["suggested_how"] == "name"
    assert found["jo.bloggs@example.scot"]["suggested_id"] == jo.id
    assert found["Head of Service"]["suggested_id"] is None
    with pytest.raises(NotAllowed):
        services.assign_lead(plan, "Jo Bloggs", jo.id, actor=world.officer)
    moved = services.assign_lead(plan, "Jo Bloggs", jo.id, actor=world.manager)
    db.session.commit()
    assert [a.ref for a in moved] == ["2"] and moved[0].lead_officer_id == jo.id
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.entity_type == "action", AuditEvent.entity_id == moved[0].id, AuditEvent.verb == "update")) == 1
    assert "Jo Bloggs" not in {e["text"] for e in services.unassigned_leads(plan, candidates)}
    with pytest.raises(Exception, match="account in this partnership"):
        services.assign_lead(plan, "Head of Service", world.outsider.id, actor=world.manager)


def test_the_assign_leads_page_assigns_every_action_of_a_lead(app, world):
    job, plan = _imported(world, **{"cfo@example.scot": ("Sam Smith", "Chief Finance Officer")})
    client = sign_in_client(app, world.manager)
    page = client.get(f"/imports/{job.token}/leads").get_data(as_text=True)
    assert "Chief Finance Officer" in page and "matched on job title" in page
    unassigned = services.unassigned_leads(plan, services.lead_candidates(world.home.id))
    form = {f"lead_{i}": str(e["suggested_id"] or "") for i, e in enumerate(unassigned)}
    response = client.post(f"/imports/{job.token}/leads", data=form, follow_redirects=True)
    assert "Assigned lead officers to 1 action" in response.get_data(as_text=True)
    sam = db.session.scalar(select(User).where(User.email == "cfo@example.scot"))
    assert db.session.scalar(select(Action.lead_officer_id).where(Action.plan_id == plan.id, Action.ref == "1")) \
        == sam.id
    forged = {f"lead_{i}": str(world.outsider.id) for i in range(len(unassigned))}
    assert client.post(f"/imports/{job.token}/leads", data=forged).status_code == 400
    assert client.post(f"/imports/{job.token}/leads", data={"lead_0": "9" * 30}).status_code == 400


def test_an_administrator_invites_an_unmatched_lead_and_the_welcome_goes_through_the_outbox(app, world):
    job, plan = _imported(world)
    padmin = factories.user(world.home, Role.ADMIN, email="padmin@example.scot")
    db.session.commit()
    manager_page = sign_in_client(app, world.manager).get(f"/imports/{job.token}/leads").get_data(as_text=True)
    assert "Ask your partnership's administrator" in manager_page
    refused = sign_in_client(app, world.manager).post(f"/imports/{job.token}/leads/invite", data={
        "lead_text": "Head of Service", "name": "Hal Head", "email": "hal@example.scot"}, follow_redirects=True)
    assert "administer" in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "hal@example.scot")) is None
    client = sign_in_client(app, padmin)
    response = client.post(f"/imports/{job.token}/leads/invite", data={
        "lead_text": "Head of Service", "name": "Hal Head", "email": "hal@example.scot",
        "job_title": "Head of Service"}, follow_redirects=True)
    assert "lead officer of 1 action" in response.get_data(as_text=True)
    hal = db.session.scalar(select(User).where(User.email == "hal@example.scot"))
    assert hal.has_role(world.home.id, Role.LEAD_OFFICER) and not hal.has_role(world.home.id, Role.PLAN_MANAGER)
    assert db.session.scalar(select(Action.lead_officer_id).where(Action.plan_id == plan.id, Action.ref == "4")) \
        == hal.id
    messages = queued_to("hal@example.scot")
    assert len(messages) == 1 and "/auth/reset-password/" in messages[0][1]


def test_the_confirm_page_sets_the_manager_and_goes_on_to_assign_leads(app, world):
    factories.msg()
    deputy = factories.user(world.home, Role.PLAN_MANAGER, email="deputy@example.scot", name="Deputy Manager")
    db.session.commit()
    client = sign_in_client(app, world.manager)
    response = client.post("/imports/", data={
        "file": (io.BytesIO(plan_xlsx(TWO_LEADS, TWO_LEAD_ROWS)), "anytown.xlsx"), "partnership": str(world.home.id),
        "plan_name": "Anytown plan"}, content_type="multipart/form-data")
    job = db.session.scalar(select(ImportJob))
    page = client.get(response.location).get_data(as_text=True)
    assert page.index("Summary") < page.index('id="problems"') < page.index('id="rows"') < page.index("Import 4")
    assert 'selected value="%d"' % world.manager.id in page or f'value="{world.manager.id}" selected' in page
    forged = client.post(f"/imports/{job.token}/confirm", data={"manager": str(world.outsider.id),
                                                                "organisations_shown": "1"})
    assert forged.status_code == 400
    assert db.session.scalar(select(Plan).where(Plan.name == "Anytown plan")) is None
    confirmed = client.post(f"/imports/{job.token}/confirm", data={
        "manager": str(deputy.id), "organisations_shown": "1",
        "create_organisations": ["NHS Anytown", "Anytown Council"]})
    assert confirmed.status_code == 302 and confirmed.location.endswith(f"/imports/{job.token}/leads")
    plan = db.session.scalar(select(Plan).where(Plan.name == "Anytown plan"))
    assert plan.manager_id == deputy.id
    names = set(db.session.scalars(select(Organisation.name).where(Organisation.partnership_id == world.home.id)))
    assert {"NHS Anytown", "Anytown Council"} <= names and "Carers Centre" not in names
