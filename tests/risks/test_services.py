"""The rules behind every door: permissions, append-only reviews, the flag, the matrix."""
from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import AppendOnlyError
from tracker.rag import Status
from tracker.risks import queries, services
from tracker.risks.models import RiskReview, RiskStatus


def test_a_review_appends_and_never_overwrites(world, risk):
    first = services.latest_reviews([risk.id])[risk.id]
    services.review_risk(risk, inherent=(3, 3), residual=(3, 2), target=(2, 2), reason="Recruitment slipped",
                         actor=world.officer)
    db.session.commit()
    history = services.history(risk)
    assert [h.residual.value for h in history] == [6, 4]
    assert history[0].reviewed_by_id == world.officer.id and history[0].reason == "Recruitment slipped"
    assert history[1].id == first.id and history[1].residual.value == 4
    first.reason = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(RiskReview, first.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_who_may_write(world, risk):
    with pytest.raises(NotAllowed):
        services.create_risk(world.home, reference="R2", title="x", inherent=(1, 1), residual=(1, 1),
                             target=(1, 1), actor=world.viewer)
    with pytest.raises(NotAllowed):
        services.create_risk(world.home, reference="R2", title="x", inherent=(1, 1), residual=(1, 1),
                             target=(1, 1), actor=world.officer)  # owners edit their risks, managers add
    with pytest.raises(NotAllowed):
        services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="x", actor=world.viewer)
    with pytest.raises(NotAllowed):
        services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="x",
                             actor=world.other_officer)
    with pytest.raises(NotAllowed):
        services.set_status(risk, RiskStatus.CLOSED, reason="x", actor=world.outsider)
    services.set_status(risk, RiskStatus.TOLERATED, reason="Accepted by the IJB", actor=world.officer)
    assert risk.status is RiskStatus.TOLERATED


def test_field_rules(world, risk):
    base = dict(reference="R2", title="Another", inherent=(3, 3), residual=(2, 2), target=(2, 2), actor=world.manager)
    with pytest.raises(Conflict):
        services.create_risk(world.home, **{**base, "reference": "R1"})
    with pytest.raises(RuleError, match="higher than the inherent"):
        services.create_risk(world.home, **{**base, "residual": (4, 4)})
    with pytest.raises(RuleError, match="from 1 to 5"):
        services.create_risk(world.home, **{**base, "inherent": (6, 1)})
    with pytest.raises(RuleError, match="one line"):
        services.create_risk(world.home, **{**base, "title": "Bad\r\nSubject: x"})
    with pytest.raises(RuleError, match="formula"):
        services.create_risk(world.home, **{**base, "title": "=HYPERLINK(\"x\")"})
    with pytest.raises(RuleError, match="own actions"):
        services.create_risk(world.home, **{**base, "actions": [world.outsider_action]})
    with pytest.raises(RuleError, match="own partnership"):
        services.create_risk(world.home, **{**base, "plans": [world.other_plan]})
    with pytest.raises(RuleError, match="owner"):
        services.create_risk(world.home, **{**base, "owner_id": world.outsider.id})
    with pytest.raises(RuleError, match="owner"):
        services.create_risk(world.home, **{**base, "owner_id": 2**40})
    with pytest.raises(RuleError, match="why"):
        services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="  ", actor=world.manager)
    with pytest.raises(Conflict):
        services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="x",
                             expected_version=risk.version + 1, actor=world.manager)
    db.session.rollback()
    assert len(services.history(risk)) == 1


def test_closed_risks_are_reopened_before_review(world, risk):
    services.set_status(risk, RiskStatus.CLOSED, reason="Funding confirmed", actor=world.manager)
    with pytest.raises(RuleError, match="closed"):
        services.review_risk(risk, inherent=(3, 3), residual=(2, 2), target=(2, 2), reason="x", actor=world.manager)
    with pytest.raises(RuleError, match="already"):
        services.set_status(risk, RiskStatus.CLOSED, reason="again", actor=world.manager)
    services.set_status(risk, RiskStatus.OPEN, reason="Funding withdrawn", actor=world.manager)
    assert [h.status for h in services.history(risk)] == [RiskStatus.OPEN, RiskStatus.CLOSED, RiskStatus.OPEN]


def test_the_flag_appears_when_an_action_goes_overdue_and_clears_when_complete(world, risk):
    day = dt.date.today()
    assert queries.rows_for([risk], day)[0].flag is None
    late = factories.action(world.plan, lead=world.officer, ref="A9", timescale="March 2020")
    services.edit_risk(risk, actions=[world.officer_action, late], actor=world.manager)
    db.session.commit()
    assert queries.rows_for([risk], day)[0].flag == "residual 4 assumes 2 actions, 1 overdue"
    assert [r.risk.id for r in queries.flagged_risks_for(world.manager, day)] == [risk.id]
    assert [r.risk.id for r in queries.flagged_risks_for(world.officer, day)] == [risk.id]  # the owner
    assert queries.flagged_risks_for(world.outsider, day) == []
    assert queries.flagged_risks_for(world.viewer, day) == []
    plans.record_progress(late, author_id=world.officer.id, status=Status.COMPLETE, narrative="Done")
    db.session.commit()
    assert queries.rows_for([risk], day)[0].flag is None
    assert queries.flagged_risks_for(world.manager, day) == []


def test_at_risk_actions_flag_too(world, risk):
    plans.record_progress(world.officer_action, author_id=world.officer.id, status=Status.AT_RISK,
                          narrative="Posts not filled")
    db.session.commit()
    assert queries.rows_for([risk], dt.date.today())[0].flag == "residual 4 assumes 1 action, 1 at risk"


def test_the_matrix_is_per_partnership(world, risk):
    services.set_matrix(world.other, 3, [("Low", 1), ("Moderate", 4), ("High", 9)], actor=world.admin)
    assert services.matrix_for(world.other.id).band(9).name == "High"
    assert services.matrix_for(world.home.id).band(9).name == "Moderate"
    with pytest.raises(NotAllowed):
        services.set_matrix(world.home, 3, [("Low", 1)], actor=world.outsider)
    with pytest.raises(NotAllowed):  # a partnership setting: its administrators set it, not its plan managers
        services.set_matrix(world.home, 3, [("Low", 1)], actor=world.manager)
    services.review_risk(risk, inherent=(4, 4), residual=(2, 2), target=(2, 2), reason="Worse", actor=world.manager)
    with pytest.raises(RuleError, match="beyond 3 x 3"):
        services.set_matrix(world.home, 3, [("Low", 1), ("High", 9)], actor=world.admin)


def test_register_filters(world, risk):
    services.create_risk(world.home, reference="R2", title="Recruitment", inherent=(5, 5), residual=(4, 4),
                         target=(2, 2), categories="Workforce", actor=world.manager)
    db.session.commit()
    every = queries.register(partnership_id=world.home.id)[0]
    assert [r.risk.reference for r in every] == ["R2", "R1"]  # highest residual first
    F = queries.RegisterFilters
    assert [r.risk.reference for r in queries.register(partnership_id=world.home.id,
                                                       filters=F(category="financial"))[0]] == ["R1"]
    assert [r.risk.reference for r in queries.register(partnership_id=world.home.id,
                                                       filters=F(band="High"))[0]] == ["R2"]
    assert [r.risk.reference for r in queries.register(partnership_id=world.home.id,
                                                       filters=F(owner_id=world.officer.id))[0]] == ["R1"]
    assert queries.register(partnership_id=world.home.id, filters=F(flagged=True))[0] == []
    assert [r.risk.reference for r in queries.register(plan=world.plan)[0]] == ["R1"]
