"""The demo's illustrative Dundee internal audit report: four graded recommendations in various states."""
from __future__ import annotations

from sqlalchemy import func, select

from tracker import timeutil
from tracker.demo.services import DEMO_STEPS, load_demo
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.papers.sections import sections_for
from tracker.scrutiny import services
from tracker.scrutiny.demo import PLAN, TITLE
from tracker.scrutiny.models import AuditReport, Recommendation
from tracker.scrutiny.rules import RecStatus


def test_demo_audit_report(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path))
    with app.app_context():
        assert "tracker.scrutiny.demo:load_demo_audit" in DEMO_STEPS
        ctx = load_demo()
        db.session.commit()
        load_demo()
        db.session.commit()
        report = db.session.scalar(select(AuditReport).where(AuditReport.title == TITLE))
        assert db.session.scalar(select(func.count(Recommendation.id))) == 4
        rows = {r.rec.ref: r for r in services.rows(list(report.recommendations), timeutil.today())}
        assert rows["IA R1"].revisions == 2
        assert rows["IA R2"].status is RecStatus.AWAITING and rows["IA R2"].evidence == 1
        assert rows["IA R3"].status is RecStatus.VERIFIED
        assert rows["IA R4"].status is RecStatus.OPEN
        assert {r.grade for r in rows.values()} == {"Priority 1", "Priority 2", "Priority 3"}
        assert db.session.scalar(select(func.count(Evidence.id))) == 2
        assert report.committee.name == "Performance and Audit Committee"
        assert ctx.plans[PLAN] in report.committee.plans
        [section] = [s for s in sections_for(db.session, ctx.plans[PLAN], timeutil.today()) if s.key == "audit"]
        assert len(section.rows) == 4
