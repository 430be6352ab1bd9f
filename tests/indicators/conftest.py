"""Fixtures for the indicator tests: an indicator on the world's home plan, with the officer responsible."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.extensions import db
from tracker.indicators import services
from tracker.periods import Period

#: The tests' "today": in Q3 2024/25, after Q2's value fell due.
TODAY = dt.date(2024, 11, 20)


def quarter(label: str) -> Period:
    return Period.parse("quarterly", label)


@pytest.fixture
def make_indicator(world):
    def factory(**fields):
        options = {
            "name": "Carers with adult carer support plans",
            "frequency": "quarterly",
            "starts_on": dt.date(2023, 4, 1),
            "unit": "count",
            "target": 450.0,
            "higher_is_better": True,
            "responsible_officer_id": world.officer.id,
            "actor_id": world.manager.id,
            **fields,
        }
        plan = options.pop("plan", world.plan)
        indicator = services.create_indicator(plan, **options)
        db.session.commit()
        return indicator

    return factory


@pytest.fixture
def indicator(make_indicator):
    return make_indicator()


@pytest.fixture
def client_as(app):
    """client_as(user), safe to use for several users in one test.

    The `app` fixture keeps one app context pushed for the whole test, so Flask-Login's cached user in
    `g` would otherwise follow every client; forget it before each request.
    """
    from flask import g

    from tests.conftest import sign_in_client

    def make(user):
        client = sign_in_client(app, user)
        send = client.open

        def open_as_user(*args, **kwargs):
            g.pop("_login_user", None)
            return send(*args, **kwargs)

        client.open = open_as_user
        return client

    return make
