"""The workbook tests sign in as several users in one test."""
from __future__ import annotations

import pytest
from flask import g

from tests.conftest import sign_in_client


@pytest.fixture
def client_as(app):
    """As the shared fixture, but each request loads its own user: the test's app context (and so `g`,
    where Flask-Login caches the user) is shared by every request in the test."""

    @app.before_request
    def _forget_cached_user():
        g.pop("_login_user", None)

    return lambda user: sign_in_client(app, user)
