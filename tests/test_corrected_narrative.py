"""A corrected update is what everyone reads: pages, the API, e-mails and workbooks show the correction
(tracker.plans.narratives decides), the original stays on the update and in the audit trail."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.periods import FinancialQuarter
from tracker.plans import narratives
from tracker.plans import services as plans
from tracker.plans.models import ProgressUpdate, UpdateCorrection
from tracker.rag import Status
from tracker.reminders import services as reminders
from tracker.timeutil import today, utcnow
from tracker.workbooks.services import workbook_data

ORIGINAL = "Met the housing team."
CORRECTED = "Met the housing and the health teams."


@pytest.fixture
def corrected(world):
    """The officer's action, due within the digest window, with one update corrected by its author."""
    action = world.officer_action
    action.due_end = today() + dt.timedelta(days=3)
    update = plans.record_progress(action, actor=world.officer, status=Status.ON_TRACK, narrative=ORIGINAL)
    plans.correct_update(update, narrative=CORRECTED, actor=world.officer)
    db.session.commit()
    return update


def test_the_rule_is_the_latest_correction_or_the_original():
    class Fix:
        def __init__(self, narrative):
            self.narrative = narrative

    assert narratives.shown("a", []) == "a"
    assert narratives.shown("a", [Fix("b"), Fix("c")]) == "c"
    assert narratives.marked("c", True) == "c (corrected)"
    assert narratives.marked("c", False) == "c" and narratives.marked("", True) == ""


def test_the_sql_columns_agree_with_the_rule(world, corrected):
    plain = plans.record_progress(world.colleague_action, actor=world.other_officer, status=Status.ON_TRACK,
                                  narrative="Untouched.")
    db.session.commit()
    rows = dict((i, (t, c)) for i, t, c in db.session.execute(
        select(ProgressUpdate.id, narratives.shown_sql(), narratives.corrected_sql())))
    assert rows[corrected.id] == (CORRECTED, True)
    assert rows[plain.id] == ("Untouched.", False)
    # a second correction wins; corrections after a cut-off are not seen before it
    cut = utcnow()
    plans.correct_update(corrected, narrative="Third text.", actor=world.officer, now=cut + dt.timedelta(seconds=5))
    db.session.commit()
    assert db.session.execute(select(narratives.shown_sql()).where(ProgressUpdate.id == corrected.id)).scalar() \
        == "Third text."
    assert db.session.execute(select(narratives.shown_sql(cut)).where(ProgressUpdate.id == corrected.id)).scalar() \
        == CORRECTED


def test_the_original_is_kept_and_audited(world, corrected):
    db.session.expire_all()
    update = db.session.get(ProgressUpdate, corrected.id)
    assert update.narrative == ORIGINAL and update.shown_narrative == CORRECTED and update.corrected
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "correct")).one()
    assert (event.before["narrative"], event.after["narrative"]) == (ORIGINAL, CORRECTED)


def test_action_page_shows_the_correction(world, corrected, client_as):
    page = client_as(world.viewer).get(f"/actions/{world.officer_action.id}")
    assert CORRECTED in page.text and "show the original text" in page.text


def test_the_conflict_view_shows_the_saved_update_as_corrected(world, client_as):
    from tests.test_no_lost_work import update_form

    client = client_as(world.officer)
    action = world.officer_action
    stale = {**update_form(client, action), "narrative": "My version."}
    update = plans.record_progress(action, actor=world.officer, status=Status.ON_TRACK, narrative=ORIGINAL)
    plans.correct_update(update, narrative=CORRECTED, actor=world.officer)
    db.session.commit()
    page = client.post(f"/actions/{action.id}", data=stale)
    assert page.status_code == 409 and "The saved version" in page.text
    saved = page.text.split("The saved version")[1].split("Your version")[0]
    assert CORRECTED in saved and ORIGINAL not in saved


def test_digest_e_mail_shows_the_correction_marked(world, corrected, app):
    digest = next(r for r in reminders.digests(today()) if r.user_id == world.officer.id)
    text, html = digest.render()
    for body in (text, html):
        assert CORRECTED + " (corrected)" in body and ORIGINAL not in body


def test_escalations_read_the_same_narratives(world, corrected):
    narratives_by_action = reminders._latest_narratives(*reminders._open_actions())
    assert narratives_by_action[world.officer_action.id] == (CORRECTED, True)


def test_workbook_snapshot_shows_the_correction_marked(world, corrected):
    data = workbook_data(world.plan, FinancialQuarter.containing(today()), as_at=today())
    row = next(r for r in data.actions if r.action_id == world.officer_action.id)
    assert row.latest_update == CORRECTED + " (corrected)"


def test_api_lists_the_current_narrative_and_whether_it_was_corrected(world, corrected, api):
    items = api(world.viewer).get(f"/api/v1/actions/{world.officer_action.id}/updates").get_json()["items"]
    assert items[0]["narrative"] == CORRECTED and items[0]["corrected"] is True
    assert items[0]["original_narrative"] == ORIGINAL and items[0]["corrected_at"]


def _corrections() -> int:
    return db.session.scalar(select(func.count(UpdateCorrection.id)))


def test_api_correction_by_its_author(world, api):
    update = plans.record_progress(world.officer_action, actor=world.officer, status=Status.ON_TRACK,
                                   narrative=ORIGINAL)
    db.session.commit()
    response = api(world.officer).patch(f"/api/v1/updates/{update.id}", json={"narrative": CORRECTED + "\r\n"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["narrative"] == CORRECTED and body["corrected"] and body["original_narrative"] == ORIGINAL
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.verb == "correct")) == 1


@pytest.mark.parametrize("body, status, field", [
    ({"narrative": ""}, 400, "narrative"),
    ({"narrative": "bad\x00text"}, 400, "narrative"),
    ({"narrative": ORIGINAL}, 400, "narrative"),  # the same text
    ({"narrative": 5}, 400, "narrative"),
    ({}, 400, "narrative"),
    ({"narrative": "x", "status": "complete"}, 400, "status"),
    ({"narrative": "x" * 20_001}, 400, "narrative"),
    ([], 400, None),
])
def test_api_refuses_bad_corrections_and_changes_nothing(world, api, body, status, field):
    update = plans.record_progress(world.officer_action, actor=world.officer, status=Status.ON_TRACK,
                                   narrative=ORIGINAL)
    db.session.commit()
    response = api(world.officer).patch(f"/api/v1/updates/{update.id}", json=body)
    assert response.status_code == status
    assert response.get_json().get("field") == field
    assert _corrections() == 0


def test_api_refuses_corrections_by_others_late_or_superseded(world, api, time_machine):
    update = plans.record_progress(world.officer_action, actor=world.officer, status=Status.ON_TRACK,
                                   narrative=ORIGINAL)
    outsider_update = plans.record_progress(world.outsider_action, actor=world.outsider, status=Status.ON_TRACK,
                                            narrative="Theirs.")
    db.session.commit()
    body = {"narrative": CORRECTED}
    assert api(world.manager).patch(f"/api/v1/updates/{update.id}", json=body).status_code == 403
    assert api(world.outsider).patch(f"/api/v1/updates/{update.id}", json=body).status_code == 404
    officer = api(world.officer)
    assert officer.patch(f"/api/v1/updates/{outsider_update.id}", json=body).status_code == 404
    assert officer.patch("/api/v1/updates/999999", json=body).status_code == 404
    assert officer.patch(f"/api/v1/updates/{2**63}", json=body).status_code == 404
    time_machine.move_to(utcnow() + dt.timedelta(hours=25), tick=False)
    late = officer.patch(f"/api/v1/updates/{update.id}", json=body)
    assert late.status_code == 403 and "24 hours" in late.get_json()["error"]
    assert _corrections() == 0
