"""Audit recommendations through the API: a partnership's reports and recommendations and one recommendation,
read with the pages' visibility rules; another partnership's ids are not found."""
from __future__ import annotations

import pytest

from tests.conftest import api_client
from tests.scrutiny.helpers import PDF, audit_world
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.rag import Status
from tracker.scrutiny import services


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"))
    with app.app_context():
        world = audit_world()
        world["api"] = lambda user: api_client(app, user)
        yield world


def test_reports_list_grade_status_dates_revisions_and_actions(w):
    rec, officer = w["rec"], w["officer"]
    action = rec.actions[0]
    for month in ("December 2026", "March 2027"):
        plans.record_progress(action, status=Status.AT_RISK, narrative="Slipped", revised_timescale=month,
                              revision_reason="Staff vacancy", actor=officer)
    db.session.commit()
    services.complete_with_evidence(rec, action, narrative="Done.", actor=officer, title="Reconciliation",
                                    filename="proof.pdf", data=PDF)
    db.session.commit()
    for who in ("viewer", "auditor", "manager", "officer"):
        response = w["api"](w[who]).get(f"/api/v1/partnerships/{w['home'].id}/audit-reports")
        assert response.status_code == 200
        (report,) = response.get_json()["items"]
        assert report["title"] == "Carers funding" and report["assurance"] == "limited"
        (item,) = report["recommendations"]
        assert item["ref"] == "R1" and item["grade"] == "Priority 1"
        assert item["status"] == "awaiting_verification"
        assert item["agreed_date"] == "2026-09-30" and item["current_date"] == "2027-03-31"
        assert item["revisions"] == 2 and item["revisions_label"] == "Revised twice"
        assert item["evidence"] == 1 and [a["ref"] for a in item["actions"]] == [action.ref]
    one = w["api"](w["viewer"]).get(f"/api/v1/audit-recommendations/{rec.id}").get_json()
    assert one == item


def test_verified_status(w):
    rec = w["rec"]
    services.complete_with_evidence(rec, rec.actions[0], narrative="Done.", actor=w["officer"],
                                    url="https://example.scot/proof")
    services.verify(rec, actor=w["auditor"], note="Seen the reconciliation.")
    db.session.commit()
    item = w["api"](w["auditor"]).get(f"/api/v1/audit-recommendations/{rec.id}").get_json()
    assert item["status"] == "verified" and item["verified_by"]["name"] == "Audrey Auditor"


def test_another_partnerships_ids_are_not_found(w):
    for who in ("outsider", "other_auditor"):
        client = w["api"](w[who])
        assert client.get(f"/api/v1/partnerships/{w['home'].id}/audit-reports").status_code == 404
        assert client.get(f"/api/v1/audit-recommendations/{w['rec'].id}").status_code == 404
        assert client.get(f"/api/v1/partnerships/{w['other'].id}/audit-reports").get_json() == {"items": []}
    client = w["api"](w["viewer"])
    for path in ("/api/v1/partnerships/{}/audit-reports", "/api/v1/audit-recommendations/{}"):
        for bad in (999_999, 2**31, 2**64):
            assert client.get(path.format(bad)).status_code == 404
    assert w["api"](w["viewer"]).post(f"/api/v1/audit-recommendations/{w['rec'].id}").status_code == 405
