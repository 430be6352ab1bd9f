"""Single sign-on tests: a real OpenID Connect provider on loopback (tests/sso/provider.py), and the app
configured to use it as the provider 'test' ("Test Council", for addresses at example.scot)."""
from __future__ import annotations

import pytest

from tests.sso.provider import Running, provider_config


@pytest.fixture(scope="session")
def oidc_server():
    running = Running()
    yield running
    running.stop()


@pytest.fixture
def oidc(oidc_server):
    """The provider, with its first key, the person officer@example.scot (subject-1), and no tampering."""
    oidc_server.provider.reset(oidc_server.first_key)
    return oidc_server.provider


@pytest.fixture
def app(make_app, oidc):
    app = make_app(SSO_PROVIDERS=provider_config(oidc))
    with app.app_context():
        yield app
