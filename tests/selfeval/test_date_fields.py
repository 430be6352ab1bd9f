"""Self-evaluation dates use the day / month / year input of the other forms, with the same messages."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.extensions import db
from tracker.selfeval.models import SelfEvaluationRound


def test_the_round_forms_show_day_month_and_year_boxes(draft, world, client_as):
    client = client_as(world.manager)
    for path in ("/self-evaluation/new", f"/self-evaluation/rounds/{draft.id}/details",
                 f"/self-evaluation/rounds/{draft.id}/next"):
        page = client.get(path).get_data(as_text=True)
        for part in ("day", "month", "year"):
            assert f'name="completed_on-{part}"' in page, path
        assert 'type="date"' not in page and "<legend" in page and "For example, 27 1 2027" in page


def test_a_date_in_three_boxes_is_saved_and_shown_back(draft, world, client_as):
    client = client_as(world.manager)
    response = client.post(f"/self-evaluation/rounds/{draft.id}/details", data={
        "title": draft.title, "completed_on-day": "8", "completed_on-month": "May", "completed_on-year": "2019"})
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.completed_on == dt.date(2019, 5, 8)
    page = client.get(f"/self-evaluation/rounds/{draft.id}/details").get_data(as_text=True)
    assert 'name="completed_on-day" value="8"' in page and 'name="completed_on-year" value="2019"' in page
    response = client.post(f"/self-evaluation/rounds/{draft.id}/details", data={
        "title": draft.title, "completed_on-day": "", "completed_on-month": "", "completed_on-year": ""})
    assert response.status_code == 302  # the date is optional: blank clears it
    db.session.refresh(draft)
    assert draft.completed_on is None


@pytest.mark.parametrize("day, month, year, message", [
    ("31", "2", "2024", "Date of completion must be a real date, for example 27 1 2027."),
    ("8", "5", "", "Date of completion must include a year."),
    ("8", "5", "19", "Date of completion must have a four-digit year, for example 27 1 2027."),
    ("8", "5", "1900", "Date of completion must be between 1990 and 2100."),
    ("x", "5", "2019", "Date of completion must be a real date, for example 27 1 2027."),
])
def test_a_bad_date_is_refused_with_the_shared_messages_and_changes_nothing(draft, world, client_as,
                                                                           day, month, year, message):
    client = client_as(world.manager)
    response = client.post(f"/self-evaluation/rounds/{draft.id}/details", data={
        "title": "Changed title", "completed_on-day": day, "completed_on-month": month, "completed_on-year": year})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and "There is a problem" in page
    assert 'href="#completed_on"' in page or 'href="#completed_on-day"' in page
    db.session.refresh(draft)
    assert draft.title != "Changed title" and draft.completed_on is None


def test_a_new_round_with_a_bad_date_is_not_started(world, client_as, msg):
    response = client_as(world.manager).post("/self-evaluation/new", data={
        "partnership_id": world.home.id, "framework_id": msg.id, "title": "MSG 2019",
        "completed_on-day": "30", "completed_on-month": "2", "completed_on-year": "2019"})
    assert response.status_code == 400 and "Date of completion must be a real date" in response.get_data(as_text=True)
    assert db.session.query(SelfEvaluationRound).count() == 0
