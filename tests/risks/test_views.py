"""The pages: register with filters and heat maps (SVG and table), a risk's page, add, review, close, import,
and the plan page's risks section."""
from __future__ import annotations

import re
from pathlib import Path

from tests import factories
from tracker.extensions import db
from tracker.risks import services
from tracker.risks.models import Risk, RiskStatus

REPORT = Path(__file__).parents[1] / "fixtures" / "dundee-ijb-report-risk-assessment-2022.docx"


def _page(response) -> str:
    assert response.status_code == 200, response.data[:500]
    return response.get_data(as_text=True)


def test_register_has_heat_maps_with_tables_and_filters(world, risk, client_as):
    html = _page(client_as(world.viewer).get(f"/risks/partnerships/{world.home.id}"))
    assert "Funding may not rise" in html
    assert html.count("<svg class=\"app-heatmap\"") == 2
    assert 'id="residual-table"' in html and 'id="inherent-table"' in html
    assert "<title id=\"residual-map-title\">Residual scores</title>" in html
    assert "1 at likelihood 2 x impact 2 (4, Low)" in html
    assert "Add a risk" not in html  # viewers read only
    html = _page(client_as(world.viewer).get(f"/risks/partnerships/{world.home.id}?band=High"))
    assert "Funding may not rise" not in html and "No risks match the filters" in html
    html = _page(client_as(world.viewer).get(f"/risks/partnerships/{world.home.id}?category=Financial&owner=99999999999999999999"))
    assert "Funding may not rise" in html
    html = _page(client_as(world.manager).get(f"/risks/plans/{world.plan.id}?flagged=1"))
    assert "No risks match" in html and "Add a risk" in html
    assert client_as(world.outsider).get(f"/risks/partnerships/{world.home.id}").status_code == 404


def test_risk_page_shows_history_and_actions(world, risk, client_as):
    html = _page(client_as(world.viewer).get(f"/risks/{risk.id}"))
    assert 'id="risk-history"' in html and 'id="risk-actions"' in html
    assert world.officer_action.text in html
    assert "Review the risk" not in html
    html = _page(client_as(world.officer).get(f"/risks/{risk.id}"))
    assert "Review the risk" in html
    assert client_as(world.outsider).get(f"/risks/{risk.id}").status_code == 404
    assert client_as(world.viewer).get(f"/risks/{2**40}").status_code == 404


def test_add_review_and_close_through_the_forms(world, client_as):
    client = client_as(world.manager)
    form = {"reference": "R7", "title": "Recruitment delays", "categories": "Workforce",
            "owner_id": str(world.officer.id), "review_date": "2027-03-31", "plans": [str(world.plan.id)],
            "actions": [str(world.officer_action.id)], "inherent_likelihood": "3", "inherent_impact": "3",
            "residual_likelihood": "3", "residual_impact": "2", "target_likelihood": "2", "target_impact": "2"}
    response = client.post(f"/risks/partnerships/{world.home.id}/new", data=form)
    assert response.status_code == 302, response.data[:2000]
    risk = db.session.query(Risk).filter_by(reference="R7").one()
    assert risk.actions == [world.officer_action] and risk.plans == [world.plan]
    # a review by the owner
    officer = client_as(world.officer)
    html = _page(officer.get(f"/risks/{risk.id}/review"))
    assert 'name="version"' in html
    response = officer.post(f"/risks/{risk.id}/review", data={
        "inherent_likelihood": "3", "inherent_impact": "3", "residual_likelihood": "2", "residual_impact": "2",
        "target_likelihood": "2", "target_impact": "2", "reason": "Posts filled", "version": str(risk.version),
        "actions": [str(world.officer_action.id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert [h.residual.value for h in services.history(risk)] == [4, 6]
    # a refused review keeps nothing and says why beside the field
    response = officer.post(f"/risks/{risk.id}/review", data={
        "inherent_likelihood": "2", "inherent_impact": "2", "residual_likelihood": "3", "residual_impact": "3",
        "target_likelihood": "2", "target_impact": "2", "reason": "x", "version": str(risk.version)})
    assert response.status_code == 400 and "cannot be higher than the inherent" in response.get_data(as_text=True)
    assert len(services.history(risk)) == 2
    # close
    response = client.post(f"/risks/{risk.id}/status", data={"status": "closed", "reason": "Resolved",
                                                            "version": str(risk.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Risk, risk.id).status is RiskStatus.CLOSED


def test_a_forged_form_changes_nothing(world, client_as):
    client = client_as(world.manager)
    form = {"reference": "R8", "title": "Forged", "inherent_likelihood": "3", "inherent_impact": "3",
            "residual_likelihood": "2", "residual_impact": "2", "target_likelihood": "2", "target_impact": "2"}
    for extra in ({"actions": [str(world.outsider_action.id)]}, {"plans": [str(world.other_plan.id)]},
                  {"inherent_likelihood": "9"}, {"owner_id": str(world.outsider.id)},
                  {"title": "Bad\x00name"}):
        response = client.post(f"/risks/partnerships/{world.home.id}/new", data={**form, **extra})
        assert response.status_code == 400, extra
    assert db.session.query(Risk).count() == 0


def test_the_plan_page_shows_flagged_risks(world, risk, client_as):
    late = factories.action(world.plan, lead=world.officer, ref="A9", timescale="March 2020")
    services.edit_risk(risk, actions=[world.officer_action, late], actor=world.manager)
    db.session.commit()
    html = _page(client_as(world.viewer).get(f"/plans/{world.plan.id}"))
    assert 'id="plan-risks-heading"' in html
    assert "residual 4 assumes 2 actions, 1 overdue" in html
    assert "Funding may not rise" in html


def test_import_through_the_pages(world, client_as):
    client = client_as(world.manager)
    with open(REPORT, "rb") as file:
        response = client.post(f"/risks/partnerships/{world.home.id}/import",
                               data={"file": (file, REPORT.name), "plan_id": str(world.plan.id)},
                               content_type="multipart/form-data")
    html = _page(response)
    assert 'id="import-preview"' in html and html.count(">New<") == 2
    token = re.search(r'name="token" value="([^"]+)"', html)[1]
    response = client.post(f"/risks/partnerships/{world.home.id}/import/confirm", data={"token": token})
    assert response.status_code == 302
    assert db.session.query(Risk).count() == 2
    response = client.post(f"/risks/partnerships/{world.home.id}/import/confirm", data={"token": token + "x"})
    assert response.status_code == 302 and db.session.query(Risk).count() == 2
    response = client.post(f"/risks/partnerships/{world.home.id}/import",
                           data={"file": (__import__("io").BytesIO(b"junk"), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "not an Excel" in response.get_data(as_text=True)
    # another partnership's manager cannot replay the token into their register
    other = client_as(world.outsider)
    assert other.post(f"/risks/partnerships/{world.home.id}/import/confirm", data={"token": token}).status_code == 404
    assert other.post(f"/risks/partnerships/{world.other.id}/import/confirm", data={"token": token}).status_code == 400
