"""The demo: Glasgow's 2019 round as seeded, its 2020 draft showing movement, and benchmarking with Dundee."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.selfeval.conftest import rating_of
from tracker.auth.services import find_by_email
from tracker.demo.services import data, load_demo
from tracker.extensions import db
from tracker.selfeval import services
from tracker.selfeval.demo import DUNDEE_2019, GLASGOW_2020
from tracker.selfeval.models import ProposedAction, RoundStatus, SelfEvaluationRound
from tracker.selfeval.services import Movement


@pytest.fixture
def demo(app):
    ctx = load_demo()
    db.session.commit()
    return ctx


def round_called(title):
    return db.session.scalar(select(SelfEvaluationRound).where(SelfEvaluationRound.title == title))


def test_glasgow_2019_shows_all_25_proposals_with_the_seeded_ratings(demo, client_as):
    seed = {p["number"]: p["rating"] for p in data("glasgow_2019")["proposals"]}
    round_ = demo.rounds["Glasgow City"]
    page = client_as(find_by_email("viewer@demo.scot")).get(f"/self-evaluation/rounds/{round_.id}").get_data(
        as_text=True)
    assert page.count('class="app-proposal"') == 25
    for rating in round_.ratings:
        assert rating.level_label == seed[rating.item.number]
    themes = services.overview(round_, dt.date(2026, 11, 22)).themes
    rows = [row for theme in themes for row in theme.rows]
    assert [row.item.number for row in rows] == list(seed)
    # Every proposed action of the 2019 return is linked to the action the plan tracks.
    linked = [p for r in round_.ratings for p in r.proposed]
    assert linked and all(p.action is not None for p in linked)


def test_glasgow_2020_draft_shows_movement(demo, client_as):
    second = round_called(GLASGOW_2020)
    assert second.status == RoundStatus.DRAFT and second.previous_round is demo.rounds["Glasgow City"]
    themes = services.overview(second, dt.date(2026, 11, 22)).themes
    moves = {row.item.number: row.movement for theme in themes for row in theme.rows}
    assert moves["1.2"] is Movement.UP and moves["2.3"] is Movement.UP and moves["6.3"] is Movement.DOWN
    assert moves["2.5"] is Movement.DOWN and moves["1.1"] is Movement.SAME and moves["6.2"] is Movement.NOT_RATED
    page = client_as(find_by_email("manager@demo.scot")).get(f"/self-evaluation/rounds/{second.id}").get_data(
        as_text=True)
    assert 'app-movement--up">Up<' in page and 'app-movement--down">Down<' in page


def test_benchmarking_shows_glasgow_and_dundee_but_not_the_draft(demo, client_as):
    dundee = round_called(DUNDEE_2019)
    assert dundee.status == RoundStatus.AGREED and "Illustrative" in dundee.agreed_at
    page = client_as(find_by_email("national@demo.scot")).get("/self-evaluation/benchmarking").get_data(
        as_text=True)
    assert "Glasgow City" in page and "Dundee" in page
    assert "MSG self-evaluation 2019 (illustrative)" in page and GLASGOW_2020 not in page
    assert "Partly established: 1" in page and "Established: 2" in page


def test_loading_the_demo_twice_changes_nothing(demo):
    counts = (db.session.scalar(select(func.count(SelfEvaluationRound.id))),
              db.session.scalar(select(func.count(ProposedAction.id))))
    load_demo()
    db.session.commit()
    assert counts == (db.session.scalar(select(func.count(SelfEvaluationRound.id))),
                      db.session.scalar(select(func.count(ProposedAction.id))))
    assert rating_of(round_called(GLASGOW_2020), "1.2").level == 2


def test_the_national_team_downloads_the_comparison_as_a_spreadsheet(demo, client_as):
    """Built in the background (a job); the sheet holds the same ratings as the page, as text cells."""
    import io

    import openpyxl

    from tracker.frameworks.models import Framework
    from tracker.jobs.models import Job, JobState

    national = client_as(find_by_email("national@demo.scot"))
    page = national.get("/self-evaluation/benchmarking").get_data(as_text=True)
    assert "Download as a spreadsheet" in page
    framework = db.session.scalar(select(Framework).where(Framework.code == "msg-2019"))
    framework = framework or next(f for f in services.rated_frameworks(None))
    started = national.post("/jobs/benchmarking", data={"framework": str(framework.id)})
    assert started.status_code == 302
    job = db.session.scalar(select(Job))
    assert job.state == JobState.DONE, job.message
    download = national.get(f"/jobs/{job.id}/result")
    sheet = openpyxl.load_workbook(io.BytesIO(download.get_data())).active
    download.close()
    header = [c.value for c in sheet[1]]
    assert any("Glasgow City" in h for h in header) and any("Dundee" in h for h in header)
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert "Partly established" in values and all(v is None or isinstance(v, str) for v in values)
    # Someone who may not see the framework's partnerships is refused, and nothing is started.
    other = client_as(find_by_email("officer@demo.scot"))
    assert other.post("/jobs/benchmarking", data={"framework": "99999"}).status_code == 403
    assert db.session.scalar(select(func.count(Job.id))) == 1
