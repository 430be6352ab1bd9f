"""Self-evaluation pages: who sees and changes what, the rating form, rounds, benchmarking."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from tests import factories
from tests.selfeval.conftest import rate_all, rating_of
from tracker.auth.models import Membership, Role
from tracker.extensions import db
from tracker.plans.models import Action, Plan
from tracker.selfeval import services
from tracker.selfeval.models import RoundStatus, SelfEvaluationRound


def rate_url(round_, number):
    return f"/self-evaluation/rounds/{round_.id}/proposals/{rating_of(round_, number).item_id}"


def test_the_rating_page_offers_the_four_descriptors_as_labelled_radio_buttons(draft, world, client_as):
    page = client_as(world.manager).get(rate_url(draft, "1.1")).get_data(as_text=True)
    assert "<legend>Our rating (optional)</legend>" in page or "<legend>Our rating</legend>" in page
    for index, label in enumerate(["Not yet established", "Partly established", "Established", "Exemplary"]):
        assert f'<label class="ds_radio__label" for="level-{index}">{label}</label>' in page
        assert f'aria-describedby="level-{index}-hint"' in page
    assert "Lack of clear leadership and support for integration." in page
    assert 'name="evidence"' in page and 'name="participants"' in page and 'name="proposed_actions"' in page
    assert 'name="reason"' not in page  # a draft needs no reason


def test_a_plan_manager_rates_a_proposal(draft, world, client_as):
    client = client_as(world.manager)
    response = client.post(rate_url(draft, "1.1"), data={
        "level": "2", "evidence": "Point one\r\nPoint two", "participants": "IJB members",
        "proposed_actions": "Run a development session", "version": "1"})
    assert response.status_code == 302
    rating = rating_of(db.session.get(SelfEvaluationRound, draft.id), "1.1")
    db.session.refresh(rating)
    assert (rating.level, rating.evidence, rating.proposed_actions) == (2, "Point one\nPoint two",
                                                                       "Run a development session")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved the rating of proposal 1.1" in page
    assert 'id="level-2" name="level" value="2" checked' in page


def test_viewers_read_the_rating_but_cannot_change_it(draft, world, client_as):
    rate_all(draft, 1)
    db.session.commit()
    client = client_as(world.viewer)
    page = client.get(rate_url(draft, "1.1")).get_data(as_text=True)
    assert "Our rating: <strong>Partly established</strong>" in page and "<form method=\"post\" novalidate" not in page
    assert "Evidence for 1.1" in page
    assert client.post(rate_url(draft, "1.1"), data={"level": "3"}).status_code == 403
    assert rating_of(draft, "1.1").level == 1


def test_other_partnerships_get_404_for_rounds_even_when_agreed(draft, world, client_as):
    client = client_as(world.outsider)
    item_id = rating_of(draft, "1.1").item_id
    for url in [f"/self-evaluation/rounds/{draft.id}", rate_url(draft, "1.1"),
                f"/self-evaluation/rounds/{draft.id}/export.docx",
                f"/self-evaluation/partnerships/{world.home.id}/proposals/{item_id}"]:
        assert client.get(url).status_code == 404, url
    assert client.post(rate_url(draft, "1.1"), data={"level": "1"}).status_code == 404
    assert client.get("/self-evaluation/rounds/99999").status_code == 404
    assert "MSG self-evaluation 2019" not in client.get("/self-evaluation/").get_data(as_text=True)


def test_proposals_not_for_local_completion_are_shown_and_cannot_be_rated(draft, world, client_as):
    client = client_as(world.manager)
    page = client.get(rate_url(draft, "3.2")).get_data(as_text=True)
    assert "Not for local completion" in page and "NATIONAL INSPECTORATE BODIES RESPONSIBLE" in page
    assert 'name="level"' not in page
    response = client.post(rate_url(draft, "3.2"), data={"level": "2", "evidence": "x"})
    assert response.status_code == 400
    assert "cannot be rated" in response.get_data(as_text=True)
    assert rating_of(draft, "3.2").level is None


def test_after_agreement_the_form_asks_for_a_reason(draft, world, client_as):
    rate_all(draft, 2)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    db.session.commit()
    client = client_as(world.manager)
    rating = rating_of(draft, "1.1")
    data = {"level": "3", "evidence": rating.evidence, "participants": rating.participants,
            "proposed_actions": rating.proposed_actions, "version": str(rating.version)}
    response = client.post(rate_url(draft, "1.1"), data=data)
    assert response.status_code == 400
    assert "Give a reason for changing the rating" in response.get_data(as_text=True)
    response = client.post(rate_url(draft, "1.1"), data={**data, "reason": "Re-read the evidence"})
    assert response.status_code == 302
    db.session.refresh(rating)
    assert rating.level == 3


def test_a_stale_rating_form_is_refused_and_nothing_changes(draft, world, client_as):
    rating = rating_of(draft, "1.1")
    services.rate(rating, actor_id=None, level=1, evidence="Saved by a colleague", participants=None,
                  proposed_actions="")
    db.session.commit()
    client = client_as(world.manager)
    response = client.post(rate_url(draft, "1.1"), data={"level": "3", "evidence": "Mine", "version": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this rating" in page and "Mine</textarea>" in page
    assert 'name="version" type="hidden" value="2"' in page
    db.session.refresh(rating)
    assert (rating.level, rating.evidence) == (1, "Saved by a colleague")
    # Having checked, saving again replaces the colleague's change.
    assert client.post(rate_url(draft, "1.1"), data={"level": "3", "evidence": "Mine", "version": "2"}
                       ).status_code == 302


def test_a_forged_form_without_the_csrf_token_changes_nothing(make_app, world_factory=None):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        home = factories.partnership("Home")
        manager = factories.user(home, Role.PLAN_MANAGER)
        round_ = services.create_round(partnership=home, framework=factories.msg(), title="Round", actor_id=None)
        db.session.commit()
        from tests.conftest import sign_in_client
        client = sign_in_client(app, manager)
        response = client.post(rate_url(round_, "1.1"), data={"level": "2"})
        assert response.status_code == 400
        assert rating_of(round_, "1.1").level is None
        response = client.post(f"/self-evaluation/rounds/{round_.id}/next", data={"title": "Forged"})
        assert db.session.scalar(select(SelfEvaluationRound).where(SelfEvaluationRound.title == "Forged")) is None


def test_starting_a_round_and_the_next_one(world, client_as, msg):
    client = client_as(world.manager)
    page = client.get("/self-evaluation/new").get_data(as_text=True)
    assert "Home IJB" in page and "Other IJB" not in page
    response = client.post("/self-evaluation/new", data={
        "partnership_id": world.home.id, "framework_id": msg.id, "title": "MSG self-evaluation 2019",
        "completed_on": "2019-05-08", "agreed_at": "IJB development session, 10 May 2019"})
    assert response.status_code == 302
    first = db.session.scalar(select(SelfEvaluationRound))
    assert first.agreed_at == "IJB development session, 10 May 2019" and len(first.ratings) == 25
    rate_all(first, 1)
    db.session.commit()

    form = client.get(f"/self-evaluation/rounds/{first.id}/next").get_data(as_text=True)
    assert 'value="MSG self-evaluation 2020"' in form
    response = client.post(f"/self-evaluation/rounds/{first.id}/next", data={"title": "MSG self-evaluation 2020"})
    assert response.status_code == 302
    second = db.session.scalar(
        select(SelfEvaluationRound).where(SelfEvaluationRound.title == "MSG self-evaluation 2020"))
    assert second.previous_round_id == first.id
    assert all(r.level is None for r in second.ratings)
    assert rating_of(second, "1.1").evidence == "Evidence for 1.1\nSecond paragraph"
    again = client.post(f"/self-evaluation/rounds/{first.id}/next", data={"title": "MSG self-evaluation 2020"})
    assert again.status_code == 400 and "already has a round called" in again.get_data(as_text=True)


def test_only_plan_managers_start_rounds_or_change_them(draft, world, client_as):
    client = client_as(world.officer)
    assert client.get("/self-evaluation/new").status_code == 403
    assert client.post(f"/self-evaluation/rounds/{draft.id}/next", data={"title": "x"}).status_code == 403
    assert client.post(f"/self-evaluation/rounds/{draft.id}/status", data={"to": "agreed"}).status_code == 403
    assert client.get(f"/self-evaluation/rounds/{draft.id}/details").status_code == 403
    assert client.get(f"/self-evaluation/rounds/{draft.id}").status_code == 200


def test_agreeing_from_the_overview(draft, world, client_as):
    client = client_as(world.manager)
    response = client.post(f"/self-evaluation/rounds/{draft.id}/status", data={"to": "agreed"},
                           follow_redirects=True)
    assert "Rate every proposal before agreeing the round" in response.get_data(as_text=True)
    rate_all(draft, 2)
    db.session.commit()
    response = client.post(f"/self-evaluation/rounds/{draft.id}/status", data={"to": "agreed"},
                           follow_redirects=True)
    assert "is now agreed" in response.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.status == RoundStatus.AGREED
    assert client.post(f"/self-evaluation/rounds/{draft.id}/status", data={"to": "bogus"}).status_code == 400


def test_editing_the_round_details(draft, world, client_as):
    response = client_as(world.manager).post(f"/self-evaluation/rounds/{draft.id}/details", data={
        "title": "MSG self-evaluation 2019", "completed_on": "2019-05-08",
        "agreed_at": "IJB development session, 17 April 2019", "contact": "Craig"})
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.agreed_at == "IJB development session, 17 April 2019" and draft.contact == "Craig"


def test_the_overview_shows_every_proposal_with_movement_and_flags(draft, world, client_as, items):
    rate_all(draft, 2)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rate_all(second, 2, **{"1.1": 3, "1.2": 0})
    db.session.commit()
    page = client_as(world.viewer).get(f"/self-evaluation/rounds/{second.id}").get_data(as_text=True)
    assert page.count('class="app-proposal"') == 25
    assert 'app-movement--up">Up<' in page and 'app-movement--down">Down<' in page
    assert page.count('app-movement--same">Same<') == 20
    assert "Low rating and no open action" in page  # 1.2 has no action
    assert page.count("Not for local completion") == 3


def test_tracking_a_proposed_action_with_one_click(draft, world, client_as, items):
    rating = rating_of(draft, "2.3")
    services.rate(rating, actor_id=None, level=0, evidence="", participants=None,
                  proposed_actions="Agree the set-aside budget\nPublish the reserves policy")
    db.session.commit()
    client = client_as(world.manager)
    page = client.get(rate_url(draft, "2.3")).get_data(as_text=True)
    assert page.count("Create tracked action") == 2
    proposed = rating.proposed[0]
    response = client.post(f"/self-evaluation/rounds/{draft.id}/proposed/{proposed.id}/track",
                           data={f"track-{proposed.id}-plan_id": world.plan.id}, follow_redirects=True)
    assert "Created action A3 on Home action plan" in response.get_data(as_text=True)
    action = db.session.scalar(select(Action).where(Action.text == "Agree the set-aside budget"))
    assert action.plan_id == world.plan.id and action.items == [items["2.3"]]
    second = rating.proposed[1]
    response = client.post(f"/self-evaluation/rounds/{draft.id}/proposed/{second.id}/link",
                           data={f"link-{second.id}-plan_id": world.plan.id, f"link-{second.id}-ref": "A1"},
                           follow_redirects=True)
    assert "Linked to action A1" in response.get_data(as_text=True)
    db.session.refresh(second)
    assert second.action_id == world.officer_action.id
    # A foreign plan id is refused with a message; nothing changes.
    other = services.create_round(partnership=world.home, framework=draft.framework, title="Other", actor_id=None)
    db.session.commit()
    response = client.post(f"/self-evaluation/rounds/{other.id}/proposed/{proposed.id}/track",
                           data={f"track-{proposed.id}-plan_id": world.plan.id})
    assert response.status_code == 404


def test_a_viewer_cannot_track_proposed_actions(draft, world, client_as):
    rating = rating_of(draft, "2.3")
    rating.proposed_actions = "Agree the set-aside budget"
    db.session.commit()
    proposed = rating.proposed[0]
    client = client_as(world.viewer)
    assert "Create tracked action" not in client.get(rate_url(draft, "2.3")).get_data(as_text=True)
    assert client.post(f"/self-evaluation/rounds/{draft.id}/proposed/{proposed.id}/track",
                       data={f"track-{proposed.id}-plan_id": world.plan.id}).status_code == 403


def test_the_proposal_page_across_rounds(draft, world, client_as, items):
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rate_all(second, 2)
    db.session.commit()
    page = client_as(world.viewer).get(
        f"/self-evaluation/partnerships/{world.home.id}/proposals/{items['1.1'].id}").get_data(as_text=True)
    assert page.index("MSG self-evaluation 2020") < page.index("MSG self-evaluation 2019")
    assert "Partly established" in page and "Established" in page
    assert world.officer_action.text in page and world.colleague_action.text in page
    assert "On track" in page and re.search(r"app-rag--(green|amber|red)", page)


@pytest.fixture
def national(world):
    user = factories.user(world.home, Role.VIEWER, email="national@example.scot")
    user.memberships.append(Membership(partnership_id=world.other.id, role=Role.VIEWER))
    db.session.commit()
    return user


def test_benchmarking_grid_shows_agreed_rounds_only(draft, world, client_as, msg, national):
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    other = services.create_round(partnership=world.other, framework=msg, title="Other 2019", actor_id=None)
    rate_all(other, 3)
    other_draft = services.create_round(partnership=world.other, framework=msg, title="Other draft 2020",
                                        actor_id=None)
    rate_all(other_draft, 0)
    db.session.commit()
    page = client_as(national).get("/self-evaluation/benchmarking").get_data(as_text=True)
    assert "Home IJB" in page and "MSG self-evaluation 2019" in page
    assert "Other 2019" not in page  # still a draft
    services.change_status(other, RoundStatus.AGREED, actor_id=None)
    db.session.commit()
    page = client_as(national).get("/self-evaluation/benchmarking").get_data(as_text=True)
    assert "Other 2019" in page and "Other draft 2020" not in page
    assert page.count("Exemplary: 1") == 22 and page.count("Partly established: 1") == 22


def test_a_user_of_one_partnership_sees_only_its_own_agreed_round(draft, world, client_as, msg):
    # (A separate test: the app context, and so Flask-Login's cached user, lasts the whole test.)
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    other = services.create_round(partnership=world.other, framework=msg, title="Other 2019", actor_id=None)
    rate_all(other, 3)
    services.change_status(other, RoundStatus.AGREED, actor_id=None)
    db.session.commit()
    single = client_as(world.viewer).get("/self-evaluation/benchmarking").get_data(as_text=True)
    assert "access to one partnership only" in single and "Other 2019" not in single
    assert "MSG self-evaluation 2019" in single


def test_export_downloads_a_word_file(draft, world, client_as):
    response = client_as(world.viewer).get(f"/self-evaluation/rounds/{draft.id}/export.docx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "home-ijb-msg-self-evaluation-2019.docx" in response.headers["Content-Disposition"]
    assert response.data[:2] == b"PK"


def _count_queries(function) -> int:
    from sqlalchemy import event

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    db.session.remove()  # a request of its own: nothing cached from the test's session
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    if os.environ.get("SHOW_QUERIES"):
        print("\n".join(s[:150] for s in statements))
    return len(statements)


def test_page_queries_do_not_grow_with_the_rows(draft, world, client_as, items):
    rate_all(draft, 1)
    first = rating_of(draft, "1.1").proposed[0]
    first.action = world.officer_action
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rate_all(second, 2)
    db.session.commit()
    client = client_as(world.manager)
    urls = [f"/self-evaluation/rounds/{second.id}", f"/self-evaluation/rounds/{draft.id}",
            rate_url(draft, "1.1"), "/self-evaluation/benchmarking",
            f"/self-evaluation/partnerships/{world.home.id}/proposals/{items['1.1'].id}"]
    for url in urls:  # warm up (user loading, framework caches)
        client.get(url)
    before = {url: _count_queries(lambda: client.get(url)) for url in urls}
    draft = db.session.get(SelfEvaluationRound, draft.id)
    plan = db.session.get(Plan, world.plan.id)
    for rating in draft.ratings:
        if rating.item.local_completion:
            rating.proposed_actions = rating.proposed_actions + "\nTwo\nThree"
    db.session.flush()
    for rating in draft.ratings:
        for proposed in rating.proposed:
            if proposed.action is None:
                proposed.action = factories.action(plan, items=[rating.item])
    db.session.commit()
    after = {url: _count_queries(lambda: client.get(url)) for url in urls}
    assert after == before


def test_a_tracked_proposal_gets_the_plans_next_reference_and_the_chosen_lead(draft, world, client_as, items):
    """Found: an action created from a proposed action got reference "A1" with no lead."""
    for number in ("2.3.1", "2.3.2", "1.1.1"):
        factories.action(world.plan, ref=number, items=[items[number.rsplit(".", 1)[0]]])
    db.session.execute(Action.__table__.delete().where(Action.ref.in_(["A1", "A2"])))
    rating = rating_of(draft, "2.3")
    services.rate(rating, actor_id=None, level=0, evidence="", participants=None,
                  proposed_actions="Agree the set-aside budget")
    db.session.commit()
    client = client_as(world.manager)
    proposed = rating.proposed[0]
    page = client.get(rate_url(draft, "2.3")).get_data(as_text=True)
    assert f'name="track-{proposed.id}-lead_officer_id"' in page
    response = client.post(f"/self-evaluation/rounds/{draft.id}/proposed/{proposed.id}/track", data={
        f"track-{proposed.id}-plan_id": world.plan.id, f"track-{proposed.id}-lead_officer_id": world.officer.id},
        follow_redirects=True)
    assert "Created action 2.3.3 on Home action plan" in response.get_data(as_text=True)
    action = db.session.scalar(select(Action).where(Action.text == "Agree the set-aside budget"))
    assert action.ref == "2.3.3" and action.lead_officer_id == world.officer.id
    outsider = client.post(f"/self-evaluation/rounds/{draft.id}/proposed/{rating.proposed[0].id}/track", data={
        f"track-{proposed.id}-plan_id": world.plan.id, f"track-{proposed.id}-lead_officer_id": world.outsider.id})
    assert outsider.status_code == 302  # already tracked: refused with a message, nothing changes
