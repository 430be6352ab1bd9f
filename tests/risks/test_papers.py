"""The Risks section of the committee papers, as a pure function of the database."""
from __future__ import annotations

import datetime as dt

from tests import factories
from tracker.extensions import db
from tracker.papers.sections import providers, sections_for
from tracker.risks import services
from tracker.risks.models import RiskReview
from tracker.risks.papers import risk_section
from tracker.timeutil import LONDON


def _backdate(risk, when: dt.datetime) -> None:
    db.session.query(RiskReview).filter(RiskReview.risk_id == risk.id).update({"reviewed_at": when})


def test_risk_section(world, risk):
    assert risk_section in providers()
    _backdate(risk, dt.datetime(2026, 5, 1, 12, tzinfo=LONDON))  # last quarter (Q1 2026/27)
    services.set_matrix(world.home, 3, [("Low", 1), ("Moderate", 4), ("High", 9)], actor=world.admin)
    late = factories.action(world.plan, lead=world.officer, ref="A9", timescale="March 2020")
    second = services.create_risk(world.home, reference="R2", title="=Recruitment delays".lstrip("="),
                                  inherent=(3, 3), residual=(3, 2), target=(3, 2), plans=[world.plan], actions=[late],
                                  mitigations="Key actions to be prioritised", actor=world.manager)
    _backdate(second, dt.datetime(2026, 5, 1, 12, tzinfo=LONDON))
    services.review_risk(risk, inherent=(3, 3), residual=(3, 2), target=(2, 2), reason="Worse", actor=world.manager)
    db.session.flush()
    db.session.query(RiskReview).filter(RiskReview.reason == "Worse").update(
        {"reviewed_at": dt.datetime(2026, 8, 1, 12, tzinfo=LONDON)})
    db.session.commit()

    section = risk_section(db.session, world.plan, dt.date(2026, 8, 15))
    assert section.key == "risks" and section.title == "Risks" and section.report_heading == "Risk assessment"
    assert [row[0] for row in section.rows] == ["R2", "R1"]  # flagged first
    assert section.flagged_rows == (0,)
    r2, r1 = section.rows
    assert r2[section.columns.index("Flag")] == "residual 6 assumes 1 action, 1 overdue"
    assert r1[section.columns.index("Inherent")] == "9 High"
    assert r1[section.columns.index("Residual")] == "6 Moderate"
    assert r1[section.columns.index("Target")] == "4 Moderate"
    assert r1[section.columns.index("Movement since last quarter")] == "Up from 4"
    assert r2[section.columns.index("Movement since last quarter")] == "No change"
    assert all(isinstance(cell, str) for row in section.rows for cell in row)  # text-only cells
    assert len(section.widths) == len(section.columns)
    assert [c.title for c in section.charts] == ["Residual scores by band", "Inherent scores by band"]
    assert section.charts[0].values == (0, 2, 0) and section.charts[1].values == (0, 0, 2)
    assert "Inherent risk level: Likelihood 3 x Impact 3 = Risk Scoring 9 (High)" in section.report_text
    assert "Mitigating actions: Key actions to be prioritised; A9" in " ".join(section.report_text)
    # as the plan stood in May: R1 before its review
    earlier = risk_section(db.session, world.plan, dt.date(2026, 5, 15))
    r1_then = next(row for row in earlier.rows if row[0] == "R1")
    assert r1_then[section.columns.index("Residual")] == "4 Moderate"
    # no risks, no section
    assert risk_section(db.session, world.other_plan, dt.date(2026, 8, 15)) is None
    assert [s.key for s in sections_for(db.session, world.plan, dt.date(2026, 8, 15))] == ["risks"]
