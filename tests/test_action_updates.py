"""Recording progress on an action: who may, what is kept, and what happens when two people save at once."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.page_clients import client_as  # noqa: F401  (fixture)
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status


def update_count(action) -> int:
    return db.session.scalar(select(func.count(ProgressUpdate.id)).where(ProgressUpdate.action_id == action.id))


def state(action) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Action, action.id)
    return fresh.status, fresh.timescale_text, fresh.version, update_count(fresh)


def post_update(client, action, **fields):
    data = {"version": str(action.version), "status": "on_track", "narrative": "Progress made."}
    data.update(fields)
    return client.post(f"/actions/{action.id}", data=data)


def test_lead_officer_sees_the_form_and_records_an_update(world, client_as):
    client = client_as(world.officer)
    page = client.get(f"/actions/{world.officer_action.id}")
    assert page.status_code == 200
    assert 'name="narrative"' in page.text and 'name="version"' in page.text
    response = post_update(client, world.officer_action, status="complete", narrative="Delivered in full.")
    assert response.status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, world.officer_action.id)
    assert action.status is Status.COMPLETE
    assert action.updates[-1].narrative == "Delivered in full."
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == action.id, AuditEvent.verb == "progress")).one()
    assert event.user_id == world.officer.id
    assert event.before == {"status": "on_track"} and event.after["status"] == "complete"
    page = client.get(f"/actions/{action.id}")
    assert "Update saved" in page.text and "Blue" in page.text
    assert "Delivered in full." in page.text


def test_lead_officer_cannot_update_a_colleagues_action(world, client_as):
    client = client_as(world.officer)
    page = client.get(f"/actions/{world.colleague_action.id}")
    assert page.status_code == 200
    assert 'name="narrative"' not in page.text
    before = state(world.colleague_action)
    assert post_update(client, world.colleague_action, status="complete").status_code == 403
    assert state(world.colleague_action) == before


def test_another_partnerships_action_is_not_found_and_unchanged(world, client_as):
    client = client_as(world.officer)
    before = state(world.outsider_action)
    assert client.get(f"/actions/{world.outsider_action.id}").status_code == 404
    assert post_update(client, world.outsider_action, status="complete").status_code == 404
    assert client.get("/actions/999999").status_code == 404
    assert state(world.outsider_action) == before


def test_viewer_gets_no_form_and_cannot_post(world, client_as):
    client = client_as(world.viewer)
    page = client.get(f"/actions/{world.officer_action.id}")
    assert page.status_code == 200 and 'name="narrative"' not in page.text
    before = state(world.officer_action)
    assert post_update(client, world.officer_action, status="complete").status_code == 403
    assert state(world.officer_action) == before


def test_plan_manager_may_update_any_action_in_the_partnership(world, client_as):
    response = post_update(client_as(world.manager), world.colleague_action, status="at_risk")
    assert response.status_code == 302
    assert state(world.colleague_action)[0] is Status.AT_RISK


def test_revised_timescale_needs_a_reason_and_moves_the_due_date(world, client_as):
    client = client_as(world.officer)
    action = world.officer_action
    response = post_update(client, action, revised_timescale="June 2031")
    assert response.status_code == 400
    assert "Give the reason the timescale has changed" in response.text
    assert state(action)[1] == "March 2030"
    response = post_update(client, action, revised_timescale="June 2031", revision_reason="Funding moved a year.")
    assert response.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(Action, action.id)
    assert fresh.timescale_text == "June 2031" and fresh.due_end == dt.date(2031, 6, 30)
    assert fresh.updates[-1].revision_reason == "Funding moved a year."
    page = client.get(f"/actions/{action.id}")
    assert "Funding moved a year." in page.text and "March 2030" in page.text  # before -> after in the history


def test_unreadable_timescale_is_refused_in_plain_words(world, client_as):
    response = post_update(client_as(world.officer), world.officer_action, revised_timescale="when pigs fly",
                           revision_reason="x")
    assert response.status_code == 400
    assert "We could not read a date from" in response.text
    assert state(world.officer_action)[3] == 0


def test_unchanged_timescale_needs_no_reason(world, client_as):
    response = post_update(client_as(world.officer), world.officer_action, revised_timescale="March 2030")
    assert response.status_code == 302


def test_second_save_is_refused_and_both_versions_stay_visible(world, client_as):
    action = world.officer_action
    loaded_version = action.version
    # The plan manager saves first.
    first = post_update(client_as(world.manager), action, status="at_risk", narrative="Manager: recruitment delayed.")
    assert first.status_code == 302
    after_first = state(action)
    # The officer's form was loaded before that save.
    response = client_as(world.officer).post(f"/actions/{action.id}", data={
        "version": str(loaded_version), "status": "complete", "narrative": "Officer: all done, my words."})
    assert response.status_code == 409
    assert "Someone else updated this action while you were writing" in response.text
    assert "Officer: all done, my words." in response.text  # their text kept in the form
    assert "Manager: recruitment delayed." in response.text  # the saved version beside it
    assert state(action) == after_first  # nothing overwritten
    # The re-shown form carries the current version: saving again is a deliberate choice.
    assert f'value="{after_first[2]}"' in response.text


def test_stale_flush_is_refused_like_a_stale_form(world, client_as, monkeypatch):
    """A save racing another transaction (version checked at flush) gets the same refusal."""
    from sqlalchemy.orm.exc import StaleDataError

    def racing(*args, **kwargs):
        raise StaleDataError("row changed")

    monkeypatch.setattr(plans, "record_progress", racing)
    response = post_update(client_as(world.officer), world.officer_action)
    assert response.status_code == 409
    assert "Someone else updated this action" in response.text


def test_forged_version_is_a_bad_request(world, client_as):
    response = post_update(client_as(world.officer), world.officer_action, version="abc")
    assert response.status_code == 400
    assert state(world.officer_action)[3] == 0


def test_markup_in_a_narrative_is_shown_escaped(world, client_as):
    client = client_as(world.officer)
    narrative = "<script>alert('x')</script>\n\nSecond <b>paragraph</b>\nnext line"
    assert post_update(client, world.officer_action, narrative=narrative).status_code == 302
    page = client.get(f"/actions/{world.officer_action.id}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<p>Second &lt;b&gt;paragraph&lt;/b&gt;<br>next line</p>" in page


def test_a_20000_character_narrative_is_kept_whole(world, client_as):
    client = client_as(world.officer)
    narrative = ("A long paragraph about support for carers. " * 600)[:19_999] + "Z"
    assert len(narrative) == 20_000
    assert post_update(client, world.officer_action, narrative=narrative).status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, world.officer_action.id).updates[-1].narrative == narrative
    page = client.get(f"/actions/{world.officer_action.id}")
    assert page.status_code == 200 and narrative[-200:] in page.text
    too_long = post_update(client, world.officer_action, narrative=narrative + "!")
    assert too_long.status_code == 400 and "no more than 20,000 characters" in too_long.text


def test_timeline_merges_updates_and_changes_by_time(app, world, client_as):
    action = world.officer_action
    plans.record_progress(action, author_id=world.officer.id, status=Status.AT_RISK, narrative="First update",
                          at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc))
    plans.edit_action(action, expected_version=None, actor_id=world.manager.id, lead_officer_id=world.other_officer.id)
    db.session.commit()
    page = client_as(world.manager).get(f"/actions/{action.id}").text
    assert "First update" in page and "Lead officer" in page
    assert world.officer.name in page and world.other_officer.name in page
    # Newest first: the edit (now) comes before the January update.
    assert page.index("Edited action") < page.index("First update")


def test_linked_proposals_show_the_latest_agreed_rating(app, world, client_as):
    from tracker.frameworks import services as frameworks
    from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound

    msg = factories.msg()
    items = frameworks.items_by_number(msg)
    action = factories.action(world.plan, lead=world.officer, items=[items["2.1"], items["2.2"]])
    old = SelfEvaluationRound(partnership_id=world.home.id, framework_id=msg.id, title="2019 round",
                              completed_on=dt.date(2019, 5, 1), status=RoundStatus.AGREED)
    new = SelfEvaluationRound(partnership_id=world.home.id, framework_id=msg.id, title="2023 round",
                              completed_on=dt.date(2023, 5, 1), status=RoundStatus.AGREED)
    draft = SelfEvaluationRound(partnership_id=world.home.id, framework_id=msg.id, title="2025 draft",
                                completed_on=dt.date(2025, 5, 1), status=RoundStatus.DRAFT)
    foreign = SelfEvaluationRound(partnership_id=world.other.id, framework_id=msg.id, title="Other round",
                                  completed_on=dt.date(2024, 5, 1), status=RoundStatus.AGREED)
    db.session.add_all([old, new, draft, foreign])
    db.session.flush()
    db.session.add_all([
        Rating(round_id=old.id, item_id=items["2.1"].id, level=0),
        Rating(round_id=new.id, item_id=items["2.1"].id, level=2),
        Rating(round_id=draft.id, item_id=items["2.1"].id, level=3),
        Rating(round_id=foreign.id, item_id=items["2.2"].id, level=3),
    ])
    db.session.commit()
    page = client_as(world.viewer).get(f"/actions/{action.id}").text
    assert "Established</strong> (2023 round)" in page
    assert "Exemplary" not in page  # neither the draft nor another partnership's round
    assert "Not rated" in page  # 2.2 has no rating of its own partnership
    assert f'href="/self-evaluation/partnerships/{world.home.id}/proposals/{items["2.1"].id}"' in page


@pytest.mark.parametrize("status", ["superseded", "bogus"])
def test_status_outside_the_update_choices_is_refused(world, client_as, status):
    response = post_update(client_as(world.officer), world.officer_action, status=status)
    assert response.status_code == 400
    assert state(world.officer_action)[0] is Status.ON_TRACK


def test_update_form_works_with_csrf_protection_on(make_app, world):
    from tests.conftest import sign_in_client

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = sign_in_client(app, world.officer)
        action_id, version = world.officer_action.id, world.officer_action.version
        page = client.get(f"/actions/{action_id}").text
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        data = {"version": str(version), "status": "at_risk", "narrative": "With a token"}
        forged = client.post(f"/actions/{action_id}", data=data)
        assert forged.status_code == 400 and update_count(world.officer_action) == 0
        assert client.post(f"/actions/{action_id}", data={**data, "csrf_token": token}).status_code == 302
