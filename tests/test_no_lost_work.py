"""No lost or doubled work: a replayed form records nothing new, an officer corrects their own latest update,
a form posted after the session ended comes back filled (never saved), an overdue action needs a new date."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner  # noqa: F401
from sqlalchemy import func, select

from tests import factories
from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.audit.models import AuditEvent
from tracker.auth.kept_forms import KeptForm
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.once import FormToken
from tracker.plans import services as plans
from tracker.plans.models import Action, ProgressUpdate, UpdateCorrection
from tracker.rag import Status
from tracker.timeutil import utcnow


def updates(action) -> int:
    return db.session.scalar(select(func.count(ProgressUpdate.id)).where(ProgressUpdate.action_id == action.id))


def token_of(page) -> str:
    return re.search(r'name="once" type="hidden" value="([^"]+)"|type="hidden" name="once" value="([^"]+)"|'
                     r'name="once"[^>]*value="([^"]+)"', page.text).group(0).split('value="')[1].rstrip('"')


def update_form(client, action):
    page = client.get(f"/actions/{action.id}")
    return {"once": token_of(page), "version": str(action.version), "status": "on_track",
            "narrative": "Met the housing team."}


# --------------------------------------------------------------------------- one-time tokens
def test_back_then_save_records_the_update_once_and_shows_it(world, client_as):
    client = client_as(world.officer)
    action = world.officer_action
    data = update_form(client, action)
    first = client.post(f"/actions/{action.id}", data=data)
    assert first.status_code == 302 and updates(action) == 1
    again = client.post(f"/actions/{action.id}", data=data)  # Back, then Save (or a double click)
    assert again.status_code == 302 and again.location == first.location
    assert updates(action) == 1
    page = client.get(again.location)
    assert "already been saved, so nothing new was recorded" in page.text
    assert "Met the housing team." in page.text
    assert db.session.scalar(select(func.count(FormToken.id))) == 1


def test_a_refused_form_keeps_its_token_for_the_corrected_save(world, client_as):
    client = client_as(world.officer)
    action = world.officer_action
    data = {**update_form(client, action), "narrative": "bad\x00text"}
    assert client.post(f"/actions/{action.id}", data=data).status_code == 400
    assert db.session.scalar(select(func.count(FormToken.id))) == 0
    assert client.post(f"/actions/{action.id}", data={**data, "narrative": "Fine."}).status_code == 302
    assert updates(action) == 1


def test_a_malformed_token_is_refused_and_changes_nothing(world, client_as):
    client = client_as(world.officer)
    data = {**update_form(client, world.officer_action), "once": "x" * 500}
    assert client.post(f"/actions/{world.officer_action.id}", data=data).status_code == 400
    assert updates(world.officer_action) == 0


def test_replayed_new_action_form_creates_one_action(world, client_as):
    client = client_as(world.manager)
    page = client.get(f"/plans/{world.plan.id}/actions/new")
    data = {"once": token_of(page), "text": "Recruit two link workers", "timescale": "March 2031",
            "status": "not_started", "lead_officer_id": "None"}
    first = client.post(f"/plans/{world.plan.id}/actions/new", data=data)
    again = client.post(f"/plans/{world.plan.id}/actions/new", data=data)
    assert first.status_code == again.status_code == 302 and again.location == first.location
    assert db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == world.plan.id)) == 3


# --------------------------------------------------------------------------- overdue needs a new timescale
@pytest.fixture
def overdue(world):
    action = factories.action(world.plan, lead=world.officer, ref="A9", timescale="March 2020")
    db.session.commit()
    return action


@pytest.mark.parametrize("status", [Status.ON_TRACK, Status.NOT_STARTED])
def test_service_refuses_on_track_on_an_overdue_action_without_a_new_timescale(overdue, world, status):
    with pytest.raises(RuleError) as refused:
        plans.record_progress(overdue, actor=world.officer, status=status, narrative="Going well.")
    assert refused.value.field == "revised_timescale" and "At risk" in refused.value.message
    db.session.rollback()
    with pytest.raises(RuleError, match="has passed too"):
        plans.record_progress(overdue, actor=world.officer, status=status, narrative="Going well.",
                              revised_timescale="June 2021", revision_reason="Staffing")
    db.session.rollback()
    plans.record_progress(overdue, actor=world.officer, status=status, narrative="Going well.",
                          revised_timescale="March 2040", revision_reason="Staffing")
    plans.record_progress(overdue, actor=world.officer, status=Status.AT_RISK, narrative="Slipping.")


def test_at_risk_on_an_overdue_action_needs_no_new_date(overdue, world):
    plans.record_progress(overdue, actor=world.officer, status=Status.AT_RISK, narrative="Slipping.")


def test_web_asks_for_a_revised_timescale_on_an_overdue_action(overdue, world, client_as):
    client = client_as(world.officer)
    response = client.post(f"/actions/{overdue.id}", data={"version": str(overdue.version), "status": "on_track",
                                                           "narrative": "Going well."})
    assert response.status_code == 400 and "Give a revised timescale" in response.text
    assert updates(overdue) == 0


def test_api_asks_for_a_revised_timescale_on_an_overdue_action(overdue, world, api):
    response = api(world.officer).post(f"/api/v1/actions/{overdue.id}/updates", json={
        "status": "on_track", "narrative": "Going well.", "version": overdue.version})
    assert response.status_code == 400 and response.json["field"] == "revised_timescale"
    assert updates(overdue) == 0


def test_history_loaded_from_documents_keeps_its_statuses(overdue, world):
    plans.record_progress(overdue, author_id=world.officer.id, status=Status.ON_TRACK, narrative="As reported.",
                          at=dt.datetime(2021, 6, 1, tzinfo=dt.timezone.utc))


# --------------------------------------------------------------------------- correcting one's own update
def test_officer_corrects_their_latest_update_within_a_day(world, client_as):
    client = client_as(world.officer)
    action = world.officer_action
    client.post(f"/actions/{action.id}", data=update_form(client, action))
    update = db.session.scalars(select(ProgressUpdate).where(ProgressUpdate.action_id == action.id)).one()
    page = client.get(f"/actions/{action.id}")
    assert f"/updates/{update.id}/correct" in page.text
    form = client.get(f"/updates/{update.id}/correct")
    assert form.status_code == 200 and "Met the housing team." in form.text
    data = {"once": token_of(form), "narrative": "Met the housing and the health teams."}
    assert client.post(f"/updates/{update.id}/correct", data=data).status_code == 302
    assert client.post(f"/updates/{update.id}/correct", data=data).status_code == 302  # replay: nothing new
    db.session.expire_all()
    update = db.session.get(ProgressUpdate, update.id)
    assert update.narrative == "Met the housing team."  # the original is kept
    assert update.shown_narrative == "Met the housing and the health teams."
    assert db.session.scalar(select(func.count(UpdateCorrection.id))) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "correct")).one()
    assert event.before["narrative"] == "Met the housing team." and event.user_id == world.officer.id
    page = client.get(f"/actions/{action.id}")
    assert "Met the housing and the health teams." in page.text and "show the original text" in page.text


def test_corrections_are_refused_to_others_after_a_day_and_once_superseded(world, client_as):
    action = world.officer_action
    update = plans.record_progress(action, actor=world.officer, status=Status.ON_TRACK, narrative="First.")
    db.session.commit()
    for who in (world.manager, world.other_officer):
        with pytest.raises(NotAllowed):
            plans.correct_update(update, narrative="Changed.", actor=who)
    assert client_as(world.manager).get(f"/updates/{update.id}/correct").status_code == 403
    with pytest.raises(NotAllowed, match="24 hours"):
        plans.correct_update(update, narrative="Changed.", actor=world.officer,
                             now=utcnow() + dt.timedelta(hours=25))
    plans.record_progress(action, actor=world.manager, status=Status.ON_TRACK, narrative="Second.")
    db.session.commit()
    with pytest.raises(NotAllowed, match="latest update"):
        plans.correct_update(update, narrative="Changed.", actor=world.officer)
    response = client_as(world.officer).post(f"/updates/{update.id}/correct", data={"narrative": "Changed."})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(UpdateCorrection.id))) == 0


# --------------------------------------------------------------------------- a form after the session ended
def test_post_after_signing_out_elsewhere_keeps_the_narrative(world, client_as, app):
    client = client_as(world.officer)
    action = world.officer_action
    data = {**update_form(client, action), "narrative": "A long narrative typed over an hour."}
    world.officer.rotate_session_token()  # signed out elsewhere / password changed
    db.session.commit()
    response = client.post(f"/actions/{action.id}", data=data, headers={"Referer": f"http://localhost/actions/{action.id}"})
    assert response.status_code == 302 and "/auth/sign-in" in response.location
    assert updates(action) == 0
    kept = db.session.scalars(select(KeptForm)).one()
    assert "kept%3D" + kept.key in response.location or "kept=" + kept.key in response.location
    signed_in = client_as(db.session.get(type(world.officer), world.officer.id))
    page = signed_in.get(f"/actions/{action.id}?kept={kept.key}")
    assert "A long narrative typed over an hour." in page.text and "Nothing has been saved yet" in page.text
    assert updates(action) == 0
    assert db.session.scalar(select(func.count(KeptForm.id))) == 0  # one time only
    again = signed_in.get(f"/actions/{action.id}?kept={kept.key}")
    assert "A long narrative typed over an hour." not in again.text


def test_post_after_the_idle_limit_keeps_the_narrative_for_its_owner_only(world, client_as, app):
    client = client_as(world.officer)
    action = world.officer_action
    data = {**update_form(client, action), "narrative": "Typed before lunch."}
    with client.session_transaction() as session:
        session["seen_at"] = int(utcnow().timestamp()) - 24 * 3600
    response = client.post(f"/actions/{action.id}", data=data)
    assert response.status_code == 302 and "/auth/sign-in" in response.location
    kept = db.session.scalars(select(KeptForm)).one()
    assert kept.user_id == world.officer.id and updates(action) == 0
    other = client_as(world.manager).get(f"/actions/{action.id}?kept={kept.key}")
    assert "Typed before lunch." not in other.text


def test_anonymous_post_keeps_nothing(world, app):
    response = app.test_client().post(f"/actions/{world.officer_action.id}", data={"narrative": "x"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(KeptForm.id))) == 0


# --------------------------------------------------------------------------- supersede
def test_supersede_offers_the_partnerships_actions_and_no_longer_needed(world, client_as):
    """Found: supersede offered only same-plan actions and no "no longer needed"."""
    second = factories.plan(world.home, "Second plan")
    elsewhere = factories.action(second, lead=world.officer, ref="S1")
    db.session.commit()
    client = client_as(world.manager)
    page = client.get(f"/actions/{world.officer_action.id}/supersede")
    assert "No longer needed" in page.text and f'value="{elsewhere.id}"' in page.text
    assert f'value="{world.outsider_action.id}"' not in page.text
    response = client.post(f"/actions/{world.officer_action.id}/supersede", data={
        "version": str(world.officer_action.version), "replacement": str(elsewhere.id), "note": "Moved to S1."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, world.officer_action.id).superseded_by_id == elsewhere.id
    colleague = world.colleague_action
    response = client.post(f"/actions/{colleague.id}/supersede", data={
        "version": str(colleague.version), "replacement": "no_longer_needed", "note": "The service closed."})
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Action, colleague.id)
    assert closed.status is Status.SUPERSEDED and closed.superseded_by_id is None
    assert "no longer needed" in client.get(f"/actions/{colleague.id}").text


def test_the_same_update_sent_again_from_a_fresh_form_records_nothing_new(world, client_as, api):
    """Back then Save where the browser fetched the page afresh (a new token) but restored the typed text."""
    client = client_as(world.officer)
    action = world.officer_action
    assert client.post(f"/actions/{action.id}", data=update_form(client, action)).status_code == 302
    db.session.expire_all()
    fresh = db.session.get(Action, action.id)
    again = client.post(f"/actions/{action.id}", data=update_form(client, fresh))
    assert again.status_code == 302 and updates(action) == 1
    assert "nothing new was recorded" in client.get(again.location).text
    response = api(world.officer).post(f"/api/v1/actions/{action.id}/updates", json={
        "status": "on_track", "narrative": "Met the housing team.", "version": fresh.version})
    assert response.status_code == 409 and updates(action) == 1
    different = client.post(f"/actions/{action.id}", data={**update_form(client, fresh), "narrative": "More."})
    assert different.status_code == 302 and updates(action) == 2


def test_the_excel_return_asks_for_a_revised_timescale_on_an_overdue_action(overdue, world, client_as):
    from tests.workbooks.test_returns import column, download, save, upload

    client = client_as(world.officer)
    wb = download(client, world.plan.id)
    ws = wb["Updates"] if "Updates" in wb.sheetnames else wb.worksheets[0]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "A9")
    ws.cell(row=row, column=column("Status")).value = "On track"
    ws.cell(row=row, column=column("Progress update")).value = "Going well."
    response = upload(client, world.plan.id, save(wb))
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Give a revised timescale" in preview
    assert updates(overdue) == 0


def test_a_double_click_racing_the_first_save_records_one_update(world, client_as, monkeypatch):
    """Both requests pass the "already spent?" check; the unique token makes the second commit fail."""
    from tracker import once

    client = client_as(world.officer)
    action = world.officer_action
    data = update_form(client, action)
    first = client.post(f"/actions/{action.id}", data=data)
    real_spent, calls = once.spent, []

    def racing(token):  # the other request has not committed yet when this one checks
        calls.append(token)
        return None if len(calls) <= 2 else real_spent(token)

    monkeypatch.setattr(once, "spent", racing)
    db.session.expire_all()
    data["version"] = str(db.session.get(Action, action.id).version)
    data["narrative"] = "Typed differently in the second tab."  # not a repeat: only the token stops it
    second = client.post(f"/actions/{action.id}", data=data)
    assert second.status_code == 302 and second.location == first.location
    assert updates(action) == 1
