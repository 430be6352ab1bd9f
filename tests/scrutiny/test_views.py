"""The pages: record a report and a recommendation, mark complete with evidence, verify and re-open."""
from __future__ import annotations

import io

import pytest

from tests.conftest import sign_in_client
from tests.scrutiny.helpers import PDF, audit_world, office_file
from tracker.extensions import db
from tracker.rag import Status
from tracker.scrutiny import services
from tracker.scrutiny.models import AuditReport
from tracker.scrutiny.rules import RecStatus


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"))
    with app.app_context():
        world = audit_world()
        world["app"] = app
        yield world


def test_record_a_report_and_a_recommendation(w):
    client = sign_in_client(w["app"], w["manager"])
    home = w["home"].id
    page = client.get(f"/audit-recommendations/partnerships/{home}/reports/new")
    assert page.status_code == 200 and b"Assurance opinion" in page.data
    scheme = services.schemes(home)[1]
    response = client.post(f"/audit-recommendations/partnerships/{home}/reports/new", data={
        "title": "Annual external audit report 2025/26", "auditor_kind": "external", "issued_on": "2026-09-30",
        "assurance": "reasonable", "plan_id": str(w["plan"].id), "scheme_id": str(scheme.id), "committee_id": ""})
    assert response.status_code == 302, response.data
    report = db.session.query(AuditReport).filter_by(title="Annual external audit report 2025/26").one()
    refused = client.post(f"/audit-recommendations/partnerships/{home}/reports/new", data={
        "title": "Forged", "auditor_kind": "external", "issued_on": "2026-09-30", "plan_id": "2147483648",
        "scheme_id": str(scheme.id)})
    assert refused.status_code == 400
    response = client.post(f"/audit-recommendations/reports/{report.id}/recommendations/new", data={
        "ref": "1", "text": "Set out the reserves strategy.", "grade": str(scheme.grades[0].id),
        "lead_officer_id": str(w["officer"].id), "agreed_date": "2027-03-31"})
    assert response.status_code == 302
    page = sign_in_client(w["app"], w["viewer"]).get(response.headers["Location"])
    assert b"Set out the reserves strategy." in page.data and b"31 March 2027" in page.data
    assert b"Verify as implemented" not in page.data


def test_complete_with_evidence_then_verify_and_reopen_through_the_pages(w):
    rec = w["rec"]
    action = rec.actions[0]
    url = f"/audit-recommendations/recommendations/{rec.id}"
    officer = sign_in_client(w["app"], w["officer"])
    assert b"Mark an action complete" in officer.get(url).data
    refused = officer.post(url + "/complete", data={
        "action_id": str(action.id), "narrative": "Done",
        "file": (io.BytesIO(office_file("sheet", macro=True)), "recon.xlsx")}, content_type="multipart/form-data")
    assert refused.status_code == 400 and b"macros" in refused.data
    db.session.refresh(action)
    assert action.status is not Status.COMPLETE
    done = officer.post(url + "/complete", data={
        "action_id": str(action.id), "narrative": "Reconciled for Q1",
        "file": (io.BytesIO(PDF), "recon.pdf")}, content_type="multipart/form-data")
    assert done.status_code == 302
    db.session.expire_all()
    assert services.status_of(rec) is RecStatus.AWAITING
    assert sign_in_client(w["app"], w["manager"]).post(url + "/verify").status_code == 403
    auditor = sign_in_client(w["app"], w["auditor"])
    page = auditor.get(url)
    assert b"Verify as implemented" in page.data and b"recon.pdf" in page.data
    assert f"recon.pdf, {len(PDF)} bytes".encode() in page.data  # not "0 KB"
    assert b"(optional) (optional)" not in page.data and b"Note (optional)" in page.data
    assert auditor.post(url + "/reopen", data={"reason": ""}).status_code == 400
    assert auditor.post(url + "/reopen", data={"reason": "Not signed off"}).status_code == 302
    db.session.expire_all()
    assert services.status_of(rec) is RecStatus.OPEN
    assert auditor.post(url + "/verify").status_code == 400  # open: nothing to verify


def test_an_auditors_home_lists_the_recommendations_awaiting_verification(w):
    """The auditor landed on "You do not have a role in any partnership yet": the home knew no auditor part."""
    from tracker.plans import services as plans

    client = sign_in_client(w["app"], w["auditor"])
    page = client.get("/").get_data(as_text=True)
    assert "You do not have a role" not in page
    assert "Audit recommendations to verify" in page and "No recommendation is waiting" in page
    assert "1 recommendation is still open and 0 verified" in page
    plans.record_progress(w["rec"].actions[0], status=Status.COMPLETE, narrative="Reconciled.", actor=w["officer"])
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "1 recommendation has been closed by management" in page
    assert f'href="/audit-recommendations/recommendations/{w["rec"].id}"' in page and "Carers funding" in page
    assert "0 recommendations are still open" in page
    assert "Your committees" in page  # and what a viewer of the partnership reads
    other = sign_in_client(w["app"], w["other_auditor"]).get("/").get_data(as_text=True)
    assert "Audit recommendations to verify" in other and "Carers funding" not in other
    viewer = sign_in_client(w["app"], w["viewer"]).get("/").get_data(as_text=True)
    assert "Audit recommendations to verify" not in viewer
