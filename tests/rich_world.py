"""A richer world than conftest's: a real object of every kind, people in every role, an API token each.

`build_world()` needs an app context and an empty database; it commits. Everything named in `RichWorld.ids`
belongs to the HOME partnership, so a URL built from them is one the home partnership's people may reach and
another partnership's people may not. `RichWorld.people` maps a role name (the matrix's column) to its user.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tests import factories
from tracker.admin import services as admin_services
from tracker.api import tokens
from tracker.auth import services as auth_services
from tracker.auth.models import Membership, Role, User
from tracker.committees import services as committees
from tracker.committees.models import CommitteeKind
from tracker.evidence import services as evidence
from tracker.extensions import db
from tracker.imports import services as imports
from tracker.indicators import services as indicators
from tracker.jobs.models import Job
from tracker.risks import services as risks
from tracker.scrutiny import services as scrutiny
from tracker.selfeval import services as selfeval
from tracker.workbooks import services as workbooks
from tracker.workbooks.models import ReturnUpload

FIXTURES = Path(__file__).parent / "fixtures"
DUNDEE = FIXTURES / "dundee-carers-delivery-plan-2022.xlsx"

#: The matrix's columns, in order: who is asking.
ROLES = (
    "anon",        # not signed in
    "norole",      # signed in, no role in any partnership
    "viewer",      # home: Viewer
    "carer",       # home: Viewer, and a member of the committee ("Carer representative")
    "former",      # was a committee member; every role in home since removed
    "officer",     # home: Lead officer, leads the action in the URL
    "colleague",   # home: Lead officer, leads another action
    "manager",     # home: Plan manager (the plan's manager)
    "padmin",      # home: Administrator (partnership administrator)
    "o_manager",   # other partnership: Plan manager
    "o_admin",     # other partnership: Administrator
    "site",        # site administrator
    "auditor",     # home: Auditor (reads as a viewer; verifies and re-opens audit recommendations)
)


@dataclass
class RichWorld:
    home: object
    other: object
    people: dict[str, User | None]
    #: A second home account that also works in the other partnership (a national adviser): the user in URLs.
    national: User
    plan: object
    other_plan: object
    action: object
    colleague_action: object
    other_action: object
    committee: object
    meeting: object
    member: object
    workbook: object
    indicator: object
    round: object
    rating: object
    proposed: object
    job: object
    upload: object
    organisation: object
    #: an audit report, its recommendation (whose action the officer leads) and evidence (a file) on the action
    #: a password-reset token (of the no-role account), for /auth/reset-password/<token>
    reset_token: str
    report: object = None
    recommendation: object = None
    evidence: object = None
    #: role name -> plain API token of that person
    api_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> dict[str, object]:
        """URL arguments, by the name the URL rules give them."""
        return {
            "plan_id": self.plan.id, "action_id": self.action.id, "committee_id": self.committee.id,
            "meeting_id": self.meeting.id, "member_id": self.member.id, "workbook_id": self.workbook.id,
            "indicator_id": self.indicator.id, "start": self.indicator.first_period.start.isoformat(),
            "round_id": self.round.id, "item_id": self.rating.item_id, "proposed_id": self.proposed.id,
            "token": self.job.token, "upload_id": self.upload.id, "organisation_id": self.organisation.id,
            "partnership_id": self.home.id, "user_id": self.national.id,
            "token_id": self.officer_token_id, "change": "disable", "job_id": self.background_job_id, "update_id": self.update.id,
            "risk_id": self.risk.id if self.risk is not None else 0,
            "report_id": self.report.id, "recommendation_id": self.recommendation.id,
            "evidence_id": self.evidence.id, "target": "action", "target_id": self.action.id,
            "send_id": self.send_id,
        }

    #: the officer's own API token, for /auth/api-tokens/<token_id>/revoke
    officer_token_id: int = 0
    #: a queued background job (tracker.jobs) of the home plan manager
    background_job_id: int = 0
    #: a risk on the plan, owned by the officer, mitigated by the officer's action
    risk: object = None
    #: the officer's progress update on `action` (correctable for 24 hours)
    update: object = None
    #: an uncertain e-mail in the outbox (to no account), for /admin/outbox/<send_id>/resend
    send_id: int = 0


def build_world() -> RichWorld:
    home = factories.partnership("Home IJB")
    other = factories.partnership("Other IJB")
    mk = factories.user
    people: dict[str, User | None] = {
        "anon": None,
        "norole": mk(None, None, email="norole@example.scot", name="No Role"),
        "viewer": mk(home, Role.VIEWER, email="viewer@example.scot", name="Vera Viewer"),
        "carer": mk(home, Role.VIEWER, email="carer@example.scot", name="Carol Carer"),
        "former": mk(home, Role.VIEWER, email="former@example.scot", name="Fred Former"),
        "officer": mk(home, Role.LEAD_OFFICER, email="officer@example.scot", name="Olive Officer"),
        "colleague": mk(home, Role.LEAD_OFFICER, email="colleague@example.scot", name="Colin Colleague"),
        "manager": mk(home, Role.PLAN_MANAGER, email="manager@example.scot", name="Mina Manager"),
        "padmin": mk(home, Role.ADMIN, email="padmin@example.scot", name="Pat Admin"),
        "o_manager": mk(other, Role.PLAN_MANAGER, email="omanager@example.scot", name="Otto Manager"),
        "o_admin": mk(other, Role.ADMIN, email="oadmin@example.scot", name="Oona Admin"),
        "site": mk(None, None, is_admin=True, email="site@example.scot", name="Sita Site"),
        "auditor": mk(home, Role.AUDITOR, email="auditor@example.scot", name="Audrey Auditor"),
    }
    national = mk(home, Role.LEAD_OFFICER, email="national@example.scot", name="Nat National")
    national.memberships.append(Membership(partnership_id=other.id, role=Role.VIEWER))
    db.session.flush()

    manager, officer = people["manager"], people["officer"]
    plan = factories.plan(home, "Home action plan", manager=manager)
    other_plan = factories.plan(other, "Other action plan", manager=people["o_manager"])
    action = factories.action(plan, lead=officer, ref="A1")
    colleague_action = factories.action(plan, lead=people["colleague"], ref="A2")
    other_action = factories.action(other_plan, lead=people["o_manager"], ref="B1")
    organisation = factories.organisation(home, "Home Carers Centre")
    from tracker.plans import services as plan_services

    update = plan_services.record_progress(action, author_id=officer.id, status=action.status,
                                           narrative="Started the carers' survey.")

    committee = committees.save_committee(None, partnership_id=home.id, name="Carers Partnership",
                                          kind=CommitteeKind.CARERS_PARTNERSHIP, papers_due_working_days=10,
                                          plans=[plan], actor_id=manager.id)
    member = committees.add_member(committee, people["carer"], "Carer representative", actor_id=manager.id)
    committees.add_member(committee, people["former"], "Service-user representative", actor_id=manager.id)
    meeting = committees.add_meeting(committee, dt.date.today() + dt.timedelta(days=60), "Next meeting",
                                     actor_id=manager.id)
    workbook, _ = workbooks.issue_workbook(plan, workbooks.quarter_for_meeting(meeting), committee=committee,
                                           meeting=meeting, actor_id=manager.id)
    # Every role of the former member is removed, as a partnership administrator would on the users page.
    admin_services.set_roles(people["former"], {home.id: None}, actor_id=people["padmin"].id)

    indicator = indicators.create_indicator(plan, name="Carers with support plans", frequency="quarterly",
                                            starts_on=dt.date(2023, 4, 1), unit="count", target=450.0,
                                            higher_is_better=True, responsible_officer_id=officer.id,
                                            actor_id=manager.id)
    round_ = selfeval.create_round(partnership=home, framework=factories.msg(), title="MSG self-evaluation 2019",
                                   actor_id=manager.id)
    rating = next(r for r in round_.ratings if r.item.local_completion)
    selfeval.rate(rating, actor_id=manager.id, level=1, evidence="Some evidence", participants="IJB members",
                  proposed_actions="Agree the set-aside budget\nPublish the reserves policy")
    db.session.flush()
    proposed = rating.proposed[0]

    checked = imports.check(DUNDEE)
    job = imports.create_job(checked, imports.read(checked), home, "Imported plan", manager.id)
    upload = ReturnUpload(plan_id=plan.id, user_id=officer.id, filename="return.xlsx", rows=[])
    db.session.add(upload)
    background = Job(kind="backup", title="A backup of the whole database", owner_id=manager.id)
    db.session.add(background)
    db.session.flush()
    report = scrutiny.create_report(partnership_id=home.id, plan_id=plan.id, title="Carers funding audit",
                                    issued_on=dt.date(2026, 3, 31), scheme_id=scrutiny.schemes(home.id)[0].id,
                                    committee_id=committee.id, actor_id=manager.id)
    recommendation = scrutiny.add_recommendation(report, ref="R1", text="Reconcile carers funding.", grade="1",
                                                 agreed_date=dt.date(2030, 3, 31), lead_officer_id=officer.id,
                                                 actor_id=manager.id)
    evidence_row = evidence.add_evidence("action", action.id, filename="minutes.pdf",
                                         data=b"%PDF-1.4\n%%EOF\n", actor_id=officer.id)
    _, reset_token = auth_services.start_password_reset(people["norole"].email)

    api_tokens = {}
    officer_token_id = 0
    for role, person in people.items():
        if person is not None:
            token, api_tokens[role] = tokens.create_token(person, f"{role} token")
            if role == "officer":
                officer_token_id = token.id
    db.session.commit()
    world = RichWorld(home=home, other=other, people=people, national=national, plan=plan, other_plan=other_plan,
                      action=action, colleague_action=colleague_action, other_action=other_action,
                      committee=committee, meeting=meeting, member=member, workbook=workbook,
                      indicator=indicator, round=round_, rating=rating, proposed=proposed, job=job, upload=upload,
                      organisation=organisation, reset_token=reset_token, api_tokens=api_tokens,
                      report=report, recommendation=recommendation, evidence=evidence_row)
    world.officer_token_id = officer_token_id
    world.background_job_id = background.id
    world.risk = risks.create_risk(home, reference="R1", title="Funding may not rise", inherent=(3, 3),
                                   residual=(2, 2), target=(2, 2), owner_id=officer.id, plans=[plan],
                                   actions=[action], actor_id=manager.id)
    world.send_id = _uncertain_email()
    db.session.commit()
    world.update = update
    return world


def _uncertain_email() -> int:
    """An e-mail whose connection broke after the final dot: the Outbox page lists it for a person."""
    from tracker.outbox import services as outbox
    from tracker.reminders.models import ReminderSend, SendStatus

    send_id = outbox.enqueue(kind="papers_issued", key="world:1", to="member@elsewhere.example",
                             subject="Papers for the meeting", body="The papers are ready.")
    db.session.execute(db.update(ReminderSend).where(ReminderSend.id == send_id).values(
        status=SendStatus.UNCERTAIN, attempts=1, last_error="No reply after the final dot: timed out"))
    return send_id
