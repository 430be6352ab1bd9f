"""Self-evaluation decisions: rounds, ratings, agreeing, movement, linked actions, benchmarking."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tests.selfeval.conftest import rate_all, rating_of
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.rag import Status
from tracker.selfeval import services
from tracker.selfeval.models import ProposedAction, RoundStatus
from tracker.selfeval.services import Movement


def events(entity_type, entity_id=None):
    query = select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return db.session.scalars(query).all()


def test_a_new_round_has_an_empty_rating_for_every_proposal_and_is_audited(draft, world):
    assert len(draft.ratings) == 25
    assert all(r.level is None and r.evidence == "" for r in draft.ratings)
    assert draft.status == RoundStatus.DRAFT
    [event] = events("selfeval_round", draft.id)
    assert event.verb == "create" and event.user_id == world.manager.id and event.partnership_id == world.home.id


def test_the_same_title_twice_is_refused(draft, world, msg):
    with pytest.raises(services.SelfEvalError, match="already has a round called"):
        services.create_round(partnership=world.home, framework=msg, title="msg self-evaluation 2019", actor_id=None)


def test_rating_saves_evidence_and_proposed_actions_and_records_before_and_after(draft, world):
    rating = rating_of(draft, "1.1")
    services.rate(rating, actor_id=world.manager.id, level=1, evidence="First point\n\n  Second point  ",
                  participants="IJB members", proposed_actions="Do this\nDo that\n")
    db.session.commit()
    assert rating.level == 1 and rating.level_label == "Partly established"
    assert rating.evidence == "First point\nSecond point"
    assert [p.text for p in rating.proposed] == ["Do this", "Do that"]
    [event] = events("selfeval_rating", rating.id)
    assert event.before["level"] is None and event.after["level"] == 1
    assert event.after["proposed_actions"] == "Do this\nDo that"


def test_saving_an_unchanged_rating_writes_no_audit_event(draft):
    rating = rating_of(draft, "1.1")
    services.rate(rating, actor_id=None, level=None, evidence="", participants=None, proposed_actions="")
    assert events("selfeval_rating") == []


def test_proposals_not_for_local_completion_cannot_be_rated(draft):
    rating = rating_of(draft, "3.2")
    with pytest.raises(services.SelfEvalError, match="not for local completion"):
        services.rate(rating, actor_id=None, level=2, evidence="x", participants=None, proposed_actions="")


@pytest.mark.parametrize("level", [-1, 4])
def test_a_level_outside_the_framework_is_refused(draft, level):
    with pytest.raises(services.SelfEvalError, match="Choose one of the ratings"):
        services.rate(rating_of(draft, "1.1"), actor_id=None, level=level, evidence="", participants=None,
                      proposed_actions="")


def test_control_characters_are_refused_with_a_plain_message(draft):
    rating = rating_of(draft, "1.1")
    with pytest.raises(services.SelfEvalError, match="hidden control characters") as error:
        services.rate(rating, actor_id=None, level=1, evidence="bad\x0bchar", participants=None, proposed_actions="")
    assert error.value.field == "evidence"
    db.session.rollback()
    assert rating_of(draft, "1.1").level is None


def test_a_stale_form_is_refused(draft):
    rating = rating_of(draft, "1.1")
    stale = rating.version
    services.rate(rating, actor_id=None, level=1, evidence="a", participants=None, proposed_actions="")
    db.session.commit()
    with pytest.raises(services.RatingChangedError):
        services.rate(rating, actor_id=None, level=2, evidence="b", participants=None, proposed_actions="",
                      expected_version=stale)


def test_agreeing_needs_every_proposal_for_local_completion_rated(draft, world):
    rate_all(draft, 2)
    rating_of(draft, "1.2").level = None
    with pytest.raises(services.SelfEvalError, match="Not rated yet: 1.2"):
        services.change_status(draft, RoundStatus.AGREED, actor_id=world.manager.id)
    rating_of(draft, "1.2").level = 1
    services.change_status(draft, RoundStatus.AGREED, actor_id=world.manager.id)
    assert draft.status == RoundStatus.AGREED
    assert events("selfeval_round", draft.id)[-1].verb == "agree"
    services.change_status(draft, RoundStatus.SUBMITTED, actor_id=world.manager.id)
    with pytest.raises(services.SelfEvalError, match="cannot be marked"):
        services.change_status(draft, RoundStatus.AGREED, actor_id=world.manager.id)


def test_after_agreement_a_rating_change_needs_a_reason_kept_in_the_audit_trail(draft, world):
    rate_all(draft, 2)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    rating = rating_of(draft, "1.1")
    with pytest.raises(services.SelfEvalError, match="Give a reason") as error:
        services.rate(rating, actor_id=world.manager.id, level=3, evidence=rating.evidence,
                      participants=rating.participants, proposed_actions=rating.proposed_actions)
    assert error.value.field == "reason"
    services.rate(rating, actor_id=world.manager.id, level=3, evidence=rating.evidence,
                  participants=rating.participants, proposed_actions=rating.proposed_actions,
                  reason="Evidence from the 2019 audit report was missed")
    event = events("selfeval_rating", rating.id)[-1]
    assert event.before == {"level": 2} and event.after["level"] == 3
    assert event.after["reason"] == "Evidence from the 2019 audit report was missed"
    assert "after it was agreed" in event.summary


def test_the_next_round_has_empty_ratings_and_the_evidence_carried_forward(draft, world):
    rate_all(draft, 2)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title=services.suggest_next_title(draft.title), actor_id=world.manager.id)
    assert second.title == "MSG self-evaluation 2020"
    assert second.previous_round is draft and second.status == RoundStatus.DRAFT
    assert all(r.level is None and r.proposed == [] for r in second.ratings)
    assert rating_of(second, "1.1").evidence == "Evidence for 1.1\nSecond paragraph"
    assert rating_of(second, "3.2").evidence == ""


@pytest.mark.parametrize("title, expected", [
    ("MSG self-evaluation 2019", "MSG self-evaluation 2020"),
    ("Self-evaluation 2019/20", "Self-evaluation 2020/21"),
    ("Self-evaluation 2099/00 (draft)", "Self-evaluation 2100/01 (draft)"),
    ("Baseline", "Baseline (next round)"),
])
def test_suggest_next_title(title, expected):
    assert services.suggest_next_title(title) == expected


@pytest.mark.parametrize("current, previous, expected", [
    (2, 1, Movement.UP), (1, 1, Movement.SAME), (0, 3, Movement.DOWN), (2, None, Movement.NEW),
    (None, 2, Movement.NOT_RATED),
])
def test_movement(current, previous, expected):
    assert services.movement(current, previous) is expected


def test_overview_shows_movement_counts_per_key_feature_and_actions(draft, world, items):
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rate_all(second, 1, **{"1.1": 2, "1.2": 0})
    rating_of(second, "1.3").level = None
    today = dt.date(2030, 6, 1)
    factories.action(world.plan, items=[items["1.1"]], timescale="March 2030")  # open, overdue
    factories.action(world.plan, items=[items["1.2"]], timescale="March 2031")  # open
    factories.action(world.plan, items=[items["1.2"]], status=Status.COMPLETE)  # not open
    factories.action(world.other_plan, items=[items["2.1"]])  # another partnership's
    db.session.flush()

    summaries = services.overview(second, today).themes
    first = summaries[0]
    rows = {row.item.number: row for row in first.rows}
    assert [rows[n].movement for n in ("1.1", "1.2", "1.3")] == [Movement.UP, Movement.DOWN, Movement.NOT_RATED]
    assert first.by_level == [1, 0, 1, 0]
    assert first.by_movement[Movement.UP] == 1 and first.by_movement[Movement.DOWN] == 1
    # world.officer_action and colleague_action are on 1.1 too (due March 2030).
    assert (rows["1.1"].counts.open, rows["1.1"].counts.overdue) == (3, 3)
    assert (rows["1.2"].counts.open, rows["1.2"].counts.overdue) == (1, 0)
    key_feature_2 = {row.item.number: row for row in summaries[1].rows}
    assert key_feature_2["2.1"].counts.open == 0
    # Low rating and nothing open: flagged; low rating with an open action, or a good rating: not.
    assert key_feature_2["2.1"].flagged and rows["1.2"].flagged is False and rows["1.1"].flagged is False
    non_local = {row.item.number: row for row in summaries[2].rows}["3.2"]
    assert non_local.movement is None and not non_local.flagged


def test_a_round_started_from_scratch_is_compared_with_the_latest_earlier_round(draft, world, msg):
    draft.completed_on = dt.date(2019, 5, 8)
    rate_all(draft, 1)
    older = services.create_round(partnership=world.home, framework=msg, title="2018", actor_id=None,
                                  completed_on=dt.date(2018, 5, 1))
    rate_all(older, 0)
    later = services.create_round(partnership=world.home, framework=msg, title="2020", actor_id=None,
                                  completed_on=dt.date(2020, 5, 1))
    rate_all(later, 2)
    other = services.create_round(partnership=world.other, framework=msg, title="2019", actor_id=None,
                                  completed_on=dt.date(2019, 12, 1))
    assert services.compared_round(later) is draft
    assert services.compared_round(draft) is older and services.compared_round(older) is None
    assert services.compared_round(other) is None
    result = services.overview(later, dt.date(2030, 1, 1))
    assert result.compared is draft and result.themes[0].rows[0].movement is Movement.UP


def test_the_first_round_calls_every_rating_new(draft):
    rate_all(draft, 2)
    rows = services.overview(draft, dt.date(2030, 1, 1)).themes[0].rows
    assert {row.movement for row in rows} == {Movement.NEW}


def test_proposed_action_rows_keep_their_links_when_lines_move_or_are_corrected(draft, world):
    rating = rating_of(draft, "1.1")
    rating.proposed_actions = "Train leaders\nShare learning"
    db.session.flush()
    train, share = rating.proposed
    train.action = world.officer_action
    share.action = world.colleague_action
    rating.proposed_actions = "New idea\nShare learning\nTrain leaders together"
    db.session.flush()
    texts = [(p.text, p.action) for p in rating.proposed]
    assert texts == [("New idea", None), ("Share learning", world.colleague_action),
                     ("Train leaders together", world.officer_action)]
    rating.proposed_actions = "New idea\nShare learning, widely"
    db.session.flush()
    assert [(p.text, p.action) for p in rating.proposed] == [("New idea", None),
                                                             ("Share learning, widely", world.colleague_action)]
    assert db.session.scalar(select(db.func.count(ProposedAction.id))) == 2
    rating.proposed_actions = "Something else entirely"
    db.session.flush()
    assert [(p.text, p.action) for p in rating.proposed] == [("Something else entirely", None)]


def test_a_proposed_action_becomes_a_tracked_action_on_the_proposal(draft, world, items):
    rating = rating_of(draft, "2.3")
    services.rate(rating, actor_id=None, level=0, evidence="", participants=None,
                  proposed_actions="Agree the set-aside budget")
    action = services.track_proposed_action(rating.proposed[0], plan=world.plan, actor_id=world.manager.id)
    assert action.text == "Agree the set-aside budget" and action.items == [items["2.3"]]
    assert action.status == Status.NOT_STARTED and rating.proposed[0].action is action
    [event] = events("selfeval_proposed_action")
    assert event.verb == "track" and event.after["action_id"] == action.id
    with pytest.raises(services.SelfEvalError, match="already tracked"):
        services.track_proposed_action(rating.proposed[0], plan=world.plan, actor_id=None)


def test_linking_to_an_existing_action_adds_the_proposal_to_it(draft, world, items):
    rating = rating_of(draft, "2.3")
    rating.proposed_actions = "Agree the set-aside budget"
    db.session.flush()
    action = services.find_action(world.plan, " A1 ")
    services.link_proposed_action(rating.proposed[0], action=action, actor_id=world.manager.id)
    assert items["2.3"] in action.items and rating.proposed[0].action is action
    assert {e.entity_type for e in db.session.scalars(select(AuditEvent))} >= {"action", "selfeval_proposed_action"}
    services.unlink_proposed_action(rating.proposed[0], actor_id=world.manager.id)
    assert rating.proposed[0].action is None and events("selfeval_proposed_action")[-1].verb == "unlink"


def test_another_partnerships_plan_or_an_unknown_reference_is_refused(draft, world):
    rating = rating_of(draft, "2.3")
    rating.proposed_actions = "Agree the set-aside budget"
    db.session.flush()
    with pytest.raises(services.SelfEvalError, match="your partnership's plans"):
        services.track_proposed_action(rating.proposed[0], plan=world.other_plan, actor_id=None)
    with pytest.raises(services.SelfEvalError, match="your partnership's plans"):
        services.link_proposed_action(rating.proposed[0], action=world.outsider_action, actor_id=None)
    with pytest.raises(services.SelfEvalError, match="no action with reference Z9"):
        services.find_action(world.plan, "Z9")


def test_benchmark_uses_each_partnerships_latest_agreed_round_and_never_a_draft(draft, world, msg, items):
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    newer_draft = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rate_all(newer_draft, 3)
    other = services.create_round(partnership=world.other, framework=msg, title="Other 2019", actor_id=None,
                                  completed_on=dt.date(2019, 6, 1))
    rate_all(other, 2, **{"1.1": 3})
    services.change_status(other, RoundStatus.AGREED, actor_id=None)
    third = factories.partnership("Third IJB")
    hidden = services.create_round(partnership=third, framework=msg, title="Third 2019", actor_id=None)
    rate_all(hidden, 0)
    services.change_status(hidden, RoundStatus.AGREED, actor_id=None)

    result = services.benchmark(msg, {world.home.id, world.other.id})
    assert [r.title for r in result.rounds] == ["MSG self-evaluation 2019", "Other 2019"]
    assert result.level(draft, items["1.1"]) == 1 and result.level(other, items["1.1"]) == 3
    assert result.distribution[items["1.1"].id] == [0, 1, 0, 1]
    assert result.distribution[items["1.2"].id] == [0, 1, 1, 0]
    assert items["3.2"].id not in result.distribution
    everyone = services.benchmark(msg, None)
    assert len(everyone.rounds) == 3


def test_proposal_history_lists_every_round_and_every_linked_action(draft, world, items):
    rate_all(draft, 1)
    services.change_status(draft, RoundStatus.AGREED, actor_id=None)
    second = services.start_next_round(draft, title="MSG self-evaluation 2020", actor_id=None)
    rating = rating_of(second, "2.3")
    services.rate(rating, actor_id=None, level=2, evidence="Better now", participants=None,
                  proposed_actions="Keep going")
    linked = factories.action(world.plan, items=[items["2.4"]], text="Linked by hand")
    rating.proposed[0].action = linked
    tagged = factories.action(world.plan, items=[items["2.3"]], text="Tagged with 2.3")
    factories.action(world.other_plan, items=[items["2.3"]], text="Another partnership's")
    db.session.flush()
    result = services.proposal_history(world.home.id, items["2.3"])
    assert [r.round.title for r in result.ratings] == ["MSG self-evaluation 2020", "MSG self-evaluation 2019"]
    assert {a.text for a in result.actions} == {"Linked by hand", "Tagged with 2.3"}
    assert tagged in result.actions
