"""A self-evaluation return is imported by the rating rules of every door (selfeval's `rate`): it never rates a
proposal not for local completion, never changes an agreed round (which needs a reason), and never starts a
round whose title or contact breaks the one-line rule. The preview lists the refusal against the proposal, and
nothing is written, at the services, the web import and the CLI."""
from __future__ import annotations

import io

import docx
import pytest
from flask import g
from sqlalchemy import func, select

from tests import conftest, factories
from tests.imports.builders import selfeval_docx
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.imports import services
from tracker.imports.models import ImportJob
from tracker.plans.models import Action
from tracker.selfeval import services as selfeval
from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound

TITLE = "MSG self-evaluation 2019"  # the round a return completed in 2019 is imported into
PLAN = "MSG improvement action plan 2019"


def _agreed_round(partnership, msg, level=2):
    round_ = selfeval.create_round(partnership=partnership, framework=msg, title=TITLE)
    for rating in round_.ratings:
        if rating.item.local_completion:
            selfeval.rate(rating, level=level, evidence="Seen", participants=None, proposed_actions="")
    selfeval.change_status(round_, RoundStatus.AGREED)
    db.session.commit()
    return round_


def _levels():
    return {r.item.number: r.level for r in db.session.scalars(select(Rating)).all()}


def _errors(preview):
    return [p for p in preview["problems"] if p["severity"] == "error"]


CHANGED_AGREED = [{"number": "1.1", "title": "T", "level": 0, "evidence": ["Seen"]}]
NOT_LOCAL = [{"number": "1.1", "title": "T", "level": 1, "evidence": ["Seen"]},
             {"number": "3.2", "title": "T", "level": 3, "evidence": ["Seen"]}]


def test_a_change_to_an_agreed_round_is_an_error_in_the_preview_and_nothing_is_imported(app):
    msg = factories.msg()
    partnership = factories.partnership("Test HSCP")
    round_ = _agreed_round(partnership, msg)
    before = _levels()
    parsed = services.read(selfeval_docx(CHANGED_AGREED))
    [error] = _errors(services.changes(parsed, partnership, PLAN))
    assert error["sheet"] == "Proposal 1.1"
    assert "This round is agreed. Give a reason for changing the rating." in error["message"]
    with pytest.raises(services.ImportBlocked, match="Proposal 1.1"):
        services.apply(parsed, partnership, PLAN, actor_id=None)
    db.session.rollback()
    db.session.expire_all()
    assert _levels() == before and db.session.get(SelfEvaluationRound, round_.id).status == RoundStatus.AGREED
    assert db.session.scalar(select(func.count(Action.id))) == 0


def test_the_same_ratings_into_an_agreed_round_change_nothing_and_are_no_error(app):
    msg = factories.msg()
    partnership = factories.partnership("Test HSCP")
    _agreed_round(partnership, msg)
    parsed = services.read(selfeval_docx([{"number": "1.1", "title": "T", "level": 2, "evidence": ["Seen"]}]))
    assert _errors(services.changes(parsed, partnership, PLAN)) == []
    summary = services.apply(parsed, partnership, PLAN, actor_id=None)
    db.session.commit()
    assert summary["ratings"] == {"create": 0, "update": 0, "unchanged": 1}


def test_a_rating_of_a_proposal_not_for_local_completion_is_an_error_and_nothing_is_imported(app):
    factories.msg()
    partnership = factories.partnership("Test HSCP")
    parsed = services.read(selfeval_docx(NOT_LOCAL))
    [error] = _errors(services.changes(parsed, partnership, PLAN))
    assert error["sheet"] == "Proposal 3.2" and "not for local completion" in error["message"]
    with pytest.raises(services.ImportBlocked, match="Proposal 3.2"):
        services.apply(parsed, partnership, PLAN, actor_id=None)
    db.session.rollback()
    assert db.session.scalar(select(func.count(SelfEvaluationRound.id))) == 0
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_an_import_into_a_draft_rates_through_the_rating_rules_and_is_audited_as_an_import(app):
    factories.msg()
    partnership = factories.partnership("Test HSCP")
    parsed = services.read(selfeval_docx([{"number": "1.1", "title": "T", "level": 1, "evidence": ["Seen"],
                                           "actions": ["Do it"]}]))
    services.apply(parsed, partnership, PLAN, actor_id=None)
    db.session.commit()
    round_ = db.session.scalar(select(SelfEvaluationRound))
    assert len(round_.ratings) == 25  # started as every round is, with an empty rating for every proposal
    assert _levels()["1.1"] == 1 and sum(level is not None for level in _levels().values()) == 1
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "selfeval_rating")).all()
    assert event.verb == "import" and event.after["level"] == 1


# -- the web import ------------------------------------------------------------------------------------------

def _sign_in(app, user):
    g.pop("_login_user", None)
    return conftest.sign_in_client(app, user)


def _upload(client, world, content):
    response = client.post("/imports/", data={
        "file": (io.BytesIO(content), "return.docx"), "partnership": str(world.home.id), "plan_name": PLAN,
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


@pytest.mark.parametrize("proposals, where, message", [
    (CHANGED_AGREED, "Proposal 1.1", "Give a reason for changing the rating."),
    (NOT_LOCAL, "Proposal 3.2", "Proposal 3.2 is not for local completion, so it cannot be rated."),
], ids=["agreed round", "not for local completion"])
def test_the_web_preview_shows_the_refusal_and_confirming_imports_nothing(app, world, proposals, where, message):
    msg = factories.msg()
    if proposals is CHANGED_AGREED:
        _agreed_round(world.home, msg)
    before = _levels()
    client = _sign_in(app, world.manager)
    location = _upload(client, world, selfeval_docx(proposals))
    page = client.get(location).get_data(as_text=True)
    assert "The file cannot be imported yet" in page and where in page and message in page
    job = db.session.scalar(select(ImportJob))
    confirmed = client.post(f"/imports/{job.token}/confirm", follow_redirects=True)
    assert where in confirmed.get_data(as_text=True)
    db.session.expire_all()
    assert _levels() == before
    assert db.session.get(ImportJob, job.id).status != "committed"


# -- the CLI -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("proposals, where", [(CHANGED_AGREED, "Proposal 1.1"), (NOT_LOCAL, "Proposal 3.2")],
                         ids=["agreed round", "not for local completion"])
def test_the_cli_import_refuses_with_the_proposal_and_writes_nothing(app, runner, tmp_path, proposals, where):
    msg = factories.msg()
    partnership = factories.partnership("Test HSCP")
    if proposals is CHANGED_AGREED:
        _agreed_round(partnership, msg)
    db.session.commit()
    before = _levels()
    path = tmp_path / "return.docx"
    path.write_bytes(selfeval_docx(proposals))
    result = runner.invoke(args=["import", str(path), "--partnership", "Test HSCP"])
    assert result.exit_code != 0
    assert f"ERROR: {where}: " in result.output and "nothing was imported" in result.output
    db.session.expire_all()
    assert _levels() == before


# -- the round's one-line fields -----------------------------------------------------------------------------

def _with_contact(content: bytes, contact: str) -> bytes:
    document = docx.Document(io.BytesIO(content))
    document.tables[0].rows[1].cells[1].text = contact
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("contact", ["Jo Smith\u2028Bcc: everyone@example.com", "Jo \x85 Smith"])
def test_a_contact_that_is_not_one_line_stops_the_import_of_a_new_round(app, contact):
    factories.msg()
    partnership = factories.partnership("Test HSCP")
    content = _with_contact(selfeval_docx([{"number": "1.1", "title": "T", "level": 1}]), contact)
    parsed = services.read(content)
    [error] = _errors(services.changes(parsed, partnership, PLAN))
    assert (error["sheet"], error["cell"]) == ("Front table", "Contact") and "one line" in error["message"]
    with pytest.raises(services.ImportBlocked):
        services.apply(parsed, partnership, PLAN, actor_id=None)
    db.session.rollback()
    assert db.session.scalar(select(func.count(SelfEvaluationRound.id))) == 0
