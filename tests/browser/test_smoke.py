"""Smoke test: the sign-in journey in a real browser, with an accessibility check."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_home_redirects_to_sign_in_then_officer_sees_plans(page, live_server, sign_in, assert_accessible):
    page.goto(live_server.url + "/")

    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page).to_have_title(re.compile(r"Sign in"))
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert_accessible(page)

    sign_in(page, live_server, "officer@demo.scot")

    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.get_by_role("banner")).to_contain_text("Owen Officer")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page)
    assert page.console_errors == [], page.console_errors


def test_design_system_script_runs(page, live_server):
    page.goto(live_server.url + "/auth/sign-in")
    # app.js adds js-enabled after calling the design system's initAll().
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs-enabled\b"))
    assert page.evaluate("typeof window.DS && typeof window.DS.initAll") == "function"
    assert page.console_errors == [], page.console_errors


def test_skip_link_moves_to_main_content(page, live_server):
    page.goto(live_server.url + "/auth/sign-in")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    skip.press("Enter")
    expect(page).to_have_url(re.compile(r"#main-content$"))


def test_sign_out(page, live_server, sign_in):
    sign_in(page, live_server, "viewer@demo.scot")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
