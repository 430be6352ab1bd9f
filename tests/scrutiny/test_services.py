"""Reports, recommendations, revision counting, two-step closure, verification and re-opening."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.scrutiny.helpers import PDF, audit_world
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.rag import Status
from tracker.scrutiny import services
from tracker.scrutiny.rules import RecStatus


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"))
    with app.app_context():
        yield audit_world()


def test_auditor_role_reads_like_a_viewer_and_has_no_other_power(w):
    auditor = w["auditor"]
    home = w["home"].id
    assert auditor.has_role(home, Role.VIEWER) and auditor.has_role(home, Role.AUDITOR)
    assert not auditor.has_role(home, Role.LEAD_OFFICER)
    assert not auditor.has_role(home, Role.PLAN_MANAGER)
    assert not w["manager"].has_role(home, Role.AUDITOR)
    with pytest.raises(NotAllowed):
        services.add_recommendation(w["report"], ref="R9", text="x", actor=auditor)
    with pytest.raises(NotAllowed):
        plans.record_progress(w["rec"].actions[0], status=Status.COMPLETE, narrative="done", actor=auditor)


def test_recommendation_creates_its_tracked_action(w):
    rec = w["rec"]
    action = rec.actions[0]
    assert action.plan_id == w["plan"].id and action.lead_officer_id == w["officer"].id
    assert action.due_end == dt.date(2026, 9, 30) and rec.grade.label == "Priority 1"
    assert services.status_of(rec) is RecStatus.OPEN


def test_grade_must_be_in_the_reports_scheme(w):
    with pytest.raises(RuleError) as refused:
        services.add_recommendation(w["report"], ref="R2", text="x", grade="High", actor=w["manager"])
    assert refused.value.field == "grade"


def test_revisions_are_counted_from_the_actions_history(w):
    rec, officer, manager = w["rec"], w["officer"], w["manager"]
    action = rec.actions[0]
    for month in ("December 2026", "March 2027", "June 2027"):
        plans.record_progress(action, status=Status.AT_RISK, narrative="Slipped", revised_timescale=month,
                              revision_reason="Staff vacancy", actor=officer)
    plans.record_progress(action, status=Status.AT_RISK, narrative="No change of date", actor=officer)
    plans.edit_action(action, expected_version=None, timescale="September 2027", revision_reason="Budget",
                      actor=manager)
    plans.edit_action(action, expected_version=None, lead_text="Finance", actor=manager)  # not a revision
    db.session.commit()
    assert services.revision_counts([rec]) == {rec.id: 4}
    assert services.revision_counts([rec], dt.date(2000, 1, 1)) == {rec.id: 0}
    assert services.rows([rec], dt.date(2026, 1, 1))[0].current == dt.date(2027, 9, 30)


def test_two_step_closure_verify_and_reopen_are_audited(w):
    rec, officer, auditor, manager = w["rec"], w["officer"], w["auditor"], w["manager"]
    action = rec.actions[0]
    with pytest.raises(RuleError):  # evidence is required
        services.complete_with_evidence(rec, action, narrative="Done", actor=officer)
    assert action.status is not Status.COMPLETE
    with pytest.raises(RuleError):  # only awaiting verification can be verified
        services.verify(rec, actor=auditor)
    services.complete_with_evidence(rec, action, narrative="Reconciled", actor=officer, filename="recon.pdf",
                                    data=PDF)
    db.session.commit()
    assert services.status_of(rec) is RecStatus.AWAITING
    assert services.rows([rec], dt.date(2026, 1, 1))[0].evidence == 1
    for nobody in (manager, officer, w["viewer"], w["other_auditor"]):
        with pytest.raises(NotAllowed):
            services.verify(rec, actor=nobody)
    services.reopen(rec, actor=auditor, reason="The reconciliation was not signed off.")
    db.session.commit()
    assert services.status_of(rec) is RecStatus.OPEN and action.status is Status.AT_RISK  # re-opened past its date: at risk, not on track
    assert "not signed off" in action.updates[-1].narrative
    with pytest.raises(RuleError):
        services.reopen(rec, actor=auditor, reason="again")
    plans.record_progress(action, status=Status.COMPLETE, narrative="Signed off", actor=officer)
    services.verify(rec, actor=auditor, note="Seen the signed reconciliation")
    db.session.commit()
    assert services.status_of(rec) is RecStatus.VERIFIED and rec.verified_by_id == auditor.id
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "audit_recommendation",
                                                            AuditEvent.entity_id == rec.id)).all()
    assert verbs == ["create", "reopen", "verify"]
    with pytest.raises(RuleError):
        services.reopen(rec, actor=auditor, reason="  ")


def test_another_partnerships_plan_or_committee_is_refused(w):
    other_plan_id = plans.create_plan(partnership_id=w["other"].id, framework_id=w["plan"].framework_id,
                                      name="Other plan").id
    scheme = services.schemes(w["home"].id)[0]
    with pytest.raises(RuleError) as refused:
        services.create_report(partnership_id=w["home"].id, plan_id=other_plan_id, title="X",
                               issued_on=dt.date(2026, 1, 1), scheme_id=scheme.id, actor=w["manager"])
    assert refused.value.field == "plan_id"
    with pytest.raises(NotAllowed):
        services.create_report(partnership_id=w["home"].id, plan_id=w["plan"].id, title="X",
                               issued_on=dt.date(2026, 1, 1), scheme_id=scheme.id, actor=w["outsider"])


def test_custom_grade_scheme(w):
    scheme = services.save_scheme(w["home"].id, "Red / amber / green", "Red, Amber, Green", actor=w["manager"])
    assert [g.label for g in scheme.grades] == ["Red", "Amber", "Green"]
    assert services.grade_for(scheme, "a").label == "Amber"
    with pytest.raises(NotAllowed):
        services.save_scheme(w["home"].id, "Mine", "A, B", actor=w["officer"])
