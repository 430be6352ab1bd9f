"""Single sign-on in Chromium: "Sign in with Test Council" at a real OpenID Connect provider on loopback, the
linked identity on the account page, signing out of both, and a forged callback refused in plain words."""
from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, closing_responses, live_config
from tests.sso.provider import Running, provider_config


@pytest.fixture(scope="module")
def oidc():
    running = Running()
    running.provider.person = {"sub": "demo-officer", "email": "officer@demo.scot", "email_verified": True,
                               "name": "Demo Officer"}
    yield running.provider
    running.stop()


@pytest.fixture(scope="module")
def live_server(demo_database, tmp_path_factory, oidc):
    """The demo app with the loopback provider as 'Test Council' (for addresses at demo.scot)."""
    from werkzeug.serving import make_server

    from tracker import create_app
    from tracker.extensions import db

    db_path = tmp_path_factory.mktemp("browser-sso-db") / "browser.db"
    shutil.copyfile(demo_database, db_path)
    app = create_app({**live_config(f"sqlite:///{db_path}"),
                      "SSO_PROVIDERS": provider_config(oidc, domains=["demo.scot"])})
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url  # the provider sends the browser back to this address
    thread = threading.Thread(target=server.serve_forever, name="browser-sso-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=app, port=server.server_port, _server=server, _thread=thread)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sign_in_with_the_provider_and_out_again(page, live_server, oidc, assert_accessible):
    page.goto(f"{live_server.url}/auth/sign-in")
    assert_accessible(page)
    page.get_by_role("link", name="Sign in with Test Council").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    expect(page.locator(".app-flashes")).to_contain_text("Your account is now linked to Test Council")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Your account").click()
    expect(page.locator(".ds_summary-list")).to_contain_text("Test Council as officer@demo.scot")
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    offer = page.get_by_role("link", name="Sign out of Test Council too")
    expect(offer).to_be_visible()
    assert_accessible(page)
    offer.click()  # the provider ends its own session and sends the browser back to the sign-in page
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert oidc.count("/end-session") == 1
    page.goto(f"{live_server.url}/auth/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")  # signed out of the tracker


def test_a_forged_callback_is_refused_in_plain_words(page, live_server, assert_accessible):
    page.goto(f"{live_server.url}/auth/sso/test/callback?code=stolen&state=forged")
    expect(page.get_by_role("heading", level=1)).to_have_text("You have not been signed in")
    expect(page.locator(".app-sso-problem")).to_contain_text("already been used or has expired")
    assert_accessible(page)
