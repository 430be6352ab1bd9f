"""Administration and account pages in a real browser: an administrator creates a user; axe finds no violations."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_sign_in_page_with_errors_is_accessible(page, live_server, assert_accessible):
    page.goto(f"{live_server.url}/auth/sign-in")
    page.get_by_label("Email address").fill("nobody@demo.scot")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".ds_error-summary")).to_contain_text("The email address or password is not right.")
    assert_accessible(page)
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_accessible(page)


def test_administrator_creates_a_user(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "admin@demo.scot")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible(page)

    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.get_by_role("table")).to_contain_text("officer@demo.scot")
    assert_accessible(page)

    page.get_by_role("link", name="Add a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a user")
    assert_accessible(page)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".ds_error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Full name").fill("Nadia New")
    page.get_by_label("Email address").fill("nadia.new@demo.scot")
    page.get_by_label("Job title").fill("Carers lead")
    page.get_by_label("Role in Dundee").select_option("lead_officer")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia New")
    # The welcome e-mail is queued in the outbox with the account; the scheduler delivers it (here, by hand).
    expect(page.locator(".app-flashes")).to_contain_text("Created an account for Nadia New")
    from tracker.outbox import services as outbox

    with live_server.app.app_context():
        queued = outbox.queued_to("nadia.new@demo.scot")
        assert [row.kind for row, _ in queued] == ["welcome"] and "/auth/reset-password/" in queued[0][1]
    expect(page.get_by_label("Role in Dundee")).to_have_value("lead_officer")
    assert_accessible(page)

    for link, heading in [("Organisations", "Organisations"), ("Partnerships", "Partnerships")]:
        page.goto(f"{live_server.url}/admin/")
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    page.goto(f"{live_server.url}/admin/organisations/new")
    assert_accessible(page)
    # The refused form above answers 400 on purpose; anything else (a CSP violation, a script error) is a fault.
    unexpected = [e for e in page.console_errors if "status of 400" not in e]
    assert unexpected == [], unexpected


def test_api_tokens_page(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "officer@demo.scot")
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Administration")).to_have_count(0)
    nav.get_by_role("link", name="Your account").click()
    assert_accessible(page)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    assert_accessible(page)
    page.get_by_label("Token name").fill("Quarterly report")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^trk_"))
    expect(page.get_by_role("table")).to_contain_text("Quarterly report")
    assert_accessible(page)
    page.get_by_role("button", name="Revoke Quarterly report").click()
    expect(page.get_by_role("table")).to_contain_text("Revoked")
    assert_accessible(page)

    page.goto(f"{live_server.url}/auth/change-password")
    assert_accessible(page)
    assert page.console_errors == [], page.console_errors
