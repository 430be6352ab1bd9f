"""Demo data: an illustrative internal audit report on the Dundee partnership's carers funding.

Four graded recommendations in various states: one revised twice (and overdue), one closed by management with
evidence attached and awaiting verification, one verified by the auditor, one on track. Illustrative only: the
report, its findings and its people are invented for the demonstration.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from tracker.auth import services as auth_services
from tracker.auth.models import Role
from tracker.committees.models import Committee, CommitteeKind
from tracker.evidence import services as evidence
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Plan
from tracker.rag import Status
from tracker.scrutiny import services
from tracker.scrutiny.models import AuditReport

TITLE = "Carers funding: internal audit report 2025/26 (illustrative)"
PLAN = "Audit recommendations 2025/26 (illustrative)"
AUDITOR = ("auditor@demo.scot", "Ailsa Auditor", "Chief internal auditor")

#: (ref, grade, finding, recommendation, response, agreed date)
RECOMMENDATIONS = [
    ("R1", "1", "Carers Act funding allocations are not reconciled to the financial ledger, so unspent funding "
     "is not identified in year.", "Reconcile carers funding allocations to the ledger every quarter and report "
     "variances to the Carers Partnership.", "Agreed. Finance and the carers lead will reconcile quarterly.",
     dt.date(2025, 9, 30)),
    ("R2", "2", "Eligibility criteria for short breaks are not published, and decisions vary between teams.",
     "Publish the short breaks eligibility criteria and brief all assessment teams.",
     "Agreed. The criteria will be published with the Short Breaks Services Statement.", dt.date(2026, 3, 31)),
    ("R3", "2", "The budget-setting report does not show how Carers Act funding is used.",
     "Show Carers Act funding and its planned use in the annual budget-setting report.",
     "Agreed for the 2026/27 budget.", dt.date(2026, 3, 31)),
    ("R4", "3", "Monitoring returns from commissioned carer organisations are not checked against contracts.",
     "Check monitoring returns against contract outcomes every six months.",
     "Agreed. Contract officers will add the check to the review cycle.", dt.date(2027, 6, 30)),
]

DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
            b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n"
            b"%%EOF\n")


#: The report's own calendar starts here; the demo moves it so that the actions are agreed on the day the
#: demo's plans are (tracker.demo.services.DemoDates), keeping the intervals between the dates.
REPORT_ACTIONS_AGREED = dt.date(2025, 7, 1)
_SHIFT = dt.timedelta(0)


def _day(day: dt.date) -> dt.date:
    return day + _SHIFT


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(_day(day), dt.time(10), tzinfo=dt.timezone.utc)


def load_demo_audit(ctx) -> None:
    """The Dundee internal audit report and its four recommendations. Idempotent."""
    from tracker.demo.services import DUNDEE, ILLUSTRATIVE

    global _SHIFT
    _SHIFT = ctx.dates.agreed_on - REPORT_ACTIONS_AGREED

    partnership = ctx.partnerships[DUNDEE]
    email, name, title = AUDITOR
    auditor = auth_services.find_by_email(email) or auth_services.create_user(
        email=email, name=name, job_title=title, password=current_app.config["DEMO_PASSWORD"],
        memberships={partnership.id: Role.AUDITOR})
    ctx.users[email] = auditor
    if db.session.scalar(select(AuditReport.id).where(AuditReport.partnership_id == partnership.id,
                                                      AuditReport.title == TITLE)):
        return
    manager, officer = ctx.users["manager@demo.scot"], ctx.users["dundee.officer@demo.scot"]
    committee = db.session.scalar(select(Committee).where(Committee.partnership_id == partnership.id,
                                                          Committee.kind == CommitteeKind.PAC))
    scheme = services.schemes(partnership.id)[0]
    plan = db.session.scalar(select(Plan).where(Plan.partnership_id == partnership.id, Plan.name == PLAN)) or \
        plans.create_plan(partnership_id=partnership.id, framework_id=ctx.plans[DUNDEE].framework_id, name=PLAN,
                          manager_id=manager.id, actor_id=manager.id,
                          description="The actions management agreed in response to audit recommendations. "
                                      + ILLUSTRATIVE)
    ctx.plans[PLAN] = plan
    if committee is not None and plan not in committee.plans:
        committee.plans.append(plan)
    report = services.create_report(
        partnership_id=partnership.id, plan_id=plan.id, title=TITLE, issued_on=_day(dt.date(2025, 6, 20)),
        scheme_id=scheme.id, auditor_kind="internal", auditor_name="Dundee City Council Internal Audit (illustrative)",
        assurance="limited", committee_id=committee.id if committee else None, actor_id=manager.id)
    recs = {}
    for ref, grade, finding, text, response, agreed in RECOMMENDATIONS:
        recs[ref] = services.add_recommendation(
            report, ref=f"IA {ref}", text=text, finding=finding, grade=grade, response=response, agreed_date=_day(agreed),
            lead_officer_id=officer.id, status=Status.ON_TRACK, actor_id=manager.id, at=_at(REPORT_ACTIONS_AGREED))
    # R1: revised twice, now at risk.
    action = recs["R1"].actions[0]
    for day, revised, reason in ((dt.date(2025, 9, 22), dt.date(2026, 3, 31), "Illustrative: ledger codes were restructured."),
                                 (dt.date(2026, 3, 20), dt.date(2027, 1, 31), "Illustrative: a finance staff vacancy.")):
        plans.record_progress(action, author_id=officer.id, status=Status.AT_RISK, at=_at(day), revised_timescale=_day(revised),
                              narrative="The first reconciliation is not complete.", revision_reason=reason)
    # R2: complete with evidence, awaiting verification.
    action = recs["R2"].actions[0]
    update = plans.record_progress(action, author_id=officer.id, status=Status.COMPLETE, at=_at(dt.date(2026, 3, 25)),
                                   narrative="Criteria published on the partnership website; teams briefed.")
    evidence.add_evidence("update", update.id, filename="short-breaks-eligibility-criteria.pdf", data=DEMO_PDF,
                          title="Short breaks eligibility criteria (published)", actor_id=officer.id)
    # R3: complete and verified by the auditor.
    action = recs["R3"].actions[0]
    update = plans.record_progress(action, author_id=officer.id, status=Status.COMPLETE, at=_at(dt.date(2026, 2, 27)),
                                   narrative="The 2026/27 budget report shows Carers Act funding by use.")
    evidence.add_evidence("update", update.id, url="https://www.dundeehscp.com/", actor_id=officer.id,
                          title="IJB budget-setting report 2026/27")
    services.verify(recs["R3"], actor_id=auditor.id, at=_at(dt.date(2026, 4, 15)),
                    note="Seen in the budget report approved by the IJB.")
    db.session.flush()
