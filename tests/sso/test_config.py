"""Single sign-on settings from the environment, and what production refuses to start with."""
from __future__ import annotations

import logging
import secrets

from tests.conftest import app_config
from tracker import create_app
from tracker.auth import sso
from tracker.config import from_environment, problems

ENTRA = {
    "SSO_PROVIDERS": "entra, Google",
    "SSO_ENTRA_ISSUER": "https://login.microsoftonline.com/0000-tenant/v2.0",
    "SSO_ENTRA_CLIENT_ID": "client-id", "SSO_ENTRA_CLIENT_SECRET": "s3cret",
    "SSO_ENTRA_DISPLAY_NAME": "NHS Tayside", "SSO_ENTRA_DOMAINS": "@nhs.scot, Council.GOV.uk",
    "SSO_ENTRA_EMAILS_VERIFIED": "1",
    "SSO_GOOGLE_ISSUER": "https://accounts.google.com", "SSO_GOOGLE_CLIENT_ID": "g-id",
}


def test_providers_are_read_from_the_environment():
    providers = from_environment("/tmp/x", environ=ENTRA)["SSO_PROVIDERS"]
    assert list(providers) == ["entra", "google"]
    assert providers["entra"] == {
        "issuer": "https://login.microsoftonline.com/0000-tenant/v2.0", "client_id": "client-id",
        "client_secret": "s3cret", "name": "NHS Tayside", "domains": ["nhs.scot", "council.gov.uk"],
        "emails_verified": True}
    assert providers["google"]["name"] == "Google" and providers["google"]["domains"] == []
    assert from_environment("/tmp/x", environ={})["SSO_PROVIDERS"] == {}


def test_production_names_each_missing_or_unsafe_setting():
    config = from_environment("/tmp/x", environ={**ENTRA, "SSO_GOOGLE_ISSUER": "http://accounts.google.com"})
    config.update(ENV_NAME="production", SECRET_KEY=secrets.token_hex(32), BASE_URL="https://tracker.example.scot",
                  SQLALCHEMY_DATABASE_URI="postgresql+psycopg://tracker@db/tracker")
    found = problems(config)
    assert found == [
        "SSO_GOOGLE_CLIENT_SECRET is not set: single sign-on with Google needs it (see the README's single "
        "sign-on section)",
        "SSO_GOOGLE_ISSUER must be the provider's https:// issuer address, e.g. "
        "https://login.microsoftonline.com/<tenant id>/v2.0 (it is 'http://accounts.google.com')",
    ]


def test_outside_production_a_broken_provider_is_left_out_and_logged(database_url, caplog):
    providers = from_environment("/tmp/x", environ=ENTRA)["SSO_PROVIDERS"]
    with caplog.at_level(logging.WARNING):
        app = create_app(app_config(database_url, SSO_PROVIDERS=providers))
    with app.app_context():
        assert list(sso.providers()) == ["entra"]
    assert "Single sign-on with google is off" in caplog.text
