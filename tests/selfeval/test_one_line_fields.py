"""A round's title, place of agreement and contact are one line each (tracker.text's one-line rule): line breaks,
the Unicode line separators and C0/C1 control characters are refused by the service, so at every door."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.errors import RuleError
from tracker.extensions import db
from tracker.selfeval import services
from tracker.selfeval.models import SelfEvaluationRound

NOT_ONE_LINE = ["Round 2026\r\nBcc: everyone@example.com", "Round\ntwo", "Round\u2028two", "Round\u2029two",
                "Round \x85 two", "Round \x9b two", "Round\ttwo", "Round \x00 two"]
FIELDS = ["title", "agreed_at", "contact"]


def _details(field, value):
    return {"title": "MSG self-evaluation 2026", "agreed_at": None, "contact": None, field: value}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", NOT_ONE_LINE)
def test_a_new_round_with_a_field_not_on_one_line_is_refused(world, msg, field, value):
    with pytest.raises(RuleError, match="must be on one line") as refused:
        services.create_round(partnership=world.home, framework=msg, actor_id=None, **_details(field, value))
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(SelfEvaluationRound.id))) == 0


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", ["Round 2026\r\nBcc: everyone@example.com", "Round\u2028two", "Round \x85 two"])
def test_editing_a_round_with_a_field_not_on_one_line_is_refused(draft, field, value):
    with pytest.raises(RuleError, match="must be on one line") as refused:
        services.edit_round(draft, actor_id=None, completed_on=None, **_details(field, value))
    assert refused.value.field == field
    db.session.rollback()
    db.session.refresh(draft)
    assert (draft.title, draft.contact) == ("MSG self-evaluation 2019", None)


def test_one_line_fields_are_trimmed_and_limited_to_their_columns(world, msg):
    round_ = services.create_round(partnership=world.home, framework=msg, actor_id=None, title="  Round 2026 \n",
                                   agreed_at=" ", contact=" Jo Smith ")
    assert (round_.title, round_.agreed_at, round_.contact) == ("Round 2026", None, "Jo Smith")
    with pytest.raises(RuleError, match="300 characters or fewer"):
        services.edit_round(round_, actor_id=None, title="Round 2026", completed_on=None, agreed_at=None,
                            contact="x" * 301)


@pytest.mark.parametrize("title", ["Round 2026\r\nBcc: everyone@example.com", "Round\u2028two", "Round \x85 two"])
def test_the_new_round_form_refuses_a_title_not_on_one_line(world, client_as, msg, title):
    response = client_as(world.manager).post("/self-evaluation/new", data={
        "partnership_id": str(world.home.id), "framework_id": str(msg.id), "title": title})
    assert response.status_code == 400
    assert "must be on one line" in response.get_data(as_text=True)
    assert db.session.scalars(select(SelfEvaluationRound.title)).all() == []


def test_the_new_round_form_refuses_a_contact_not_on_one_line(world, client_as, msg):
    response = client_as(world.manager).post("/self-evaluation/new", data={
        "partnership_id": str(world.home.id), "framework_id": str(msg.id), "title": "Round 2026",
        "contact": "Jo\r\nSmith"})
    assert response.status_code == 400 and "The contact must be on one line" in response.get_data(as_text=True)
    assert db.session.scalars(select(SelfEvaluationRound.title)).all() == []


def test_the_details_form_refuses_a_title_not_on_one_line(draft, world, client_as):
    response = client_as(world.manager).post(f"/self-evaluation/rounds/{draft.id}/details", data={
        "title": "MSG self-evaluation 2019\r\nBcc: everyone@example.com", "agreed_at": "IJB\u2028session"})
    assert response.status_code == 400 and "must be on one line" in response.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.title == "MSG self-evaluation 2019"
    assert draft.agreed_at == "IJB development session, 10 May 2019"


def test_the_next_round_form_refuses_a_title_not_on_one_line(draft, world, client_as):
    response = client_as(world.manager).post(f"/self-evaluation/rounds/{draft.id}/next",
                                             data={"title": "MSG self-evaluation 2020\x85"})
    assert response.status_code == 400 and "must be on one line" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SelfEvaluationRound.id))) == 1
