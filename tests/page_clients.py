"""A `client_as` whose every request runs in its own app context, as in production.

The shared fixture's clients reuse the test's app context, so `g` (where Flask-Login keeps the signed-in
user) and the database session carry over from one request to the next, even across users.
Import the fixture into a test module to use it there: `from tests.page_clients import client_as`.
"""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import sign_in_client


class FreshContextClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client_as(app):
    """client_as(user) -> a signed-in test client; each request gets a fresh app context."""
    app.test_client_class = FreshContextClient
    return lambda user: sign_in_client(app, user)
