"""Journeys for issue 13 point 5: Back then Save records one update; a session that ended keeps the narrative."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def _update_count(page) -> int:
    return page.locator(".app-timeline__entry", has_text="Progress update").count()


def _open_first_action(page) -> str:
    page.goto("/")
    page.locator("main table a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Action "))
    return page.url


def test_back_and_save_again_records_one_update(page, live_server, sign_in, assert_accessible, demo_users):
    sign_in(page, live_server, demo_users["officer"])
    url = _open_first_action(page)
    before = _update_count(page)
    page.locator("#status").get_by_text("At risk", exact=True).click()
    page.get_by_label("What has happened since the last update?").fill("Back-and-resave narrative.")
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_role("status")).to_contain_text("Update saved")
    assert _update_count(page) == before + 1
    page.go_back()  # the form as it was, with the text typed (the browser's cache)
    if page.get_by_label("What has happened since the last update?").input_value() != "Back-and-resave narrative.":
        page.get_by_label("What has happened since the last update?").fill("Back-and-resave narrative.")
    page.get_by_role("button", name="Save update").click()
    expect(page.locator("main")).to_contain_text("nothing new was recorded")
    page.goto(url)
    assert _update_count(page) == before + 1
    expect(page.locator(".app-timeline__entry").first).to_contain_text("Back-and-resave narrative.")
    assert_accessible(page)


def test_an_ended_session_keeps_the_narrative(page, live_server, sign_in, assert_accessible, demo_users, browser):
    sign_in(page, live_server, demo_users["officer"])
    url = _open_first_action(page)
    before = _update_count(page)
    page.locator("#status").get_by_text("At risk", exact=True).click()
    page.get_by_label("What has happened since the last update?").fill("Typed while signed out elsewhere.")
    # Signed out elsewhere: another browser signs in as the same officer and signs out (ending every session).
    other = browser.new_context(base_url=live_server.url)
    other_page = other.new_page()
    sign_in(other_page, live_server, demo_users["officer"])
    other_page.get_by_role("button", name="Sign out").click()
    other.close()
    page.get_by_role("button", name="Save update").click()
    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
    page.get_by_label("Email address").fill(demo_users["officer"])
    from tests.browser.conftest import DEMO_PASSWORD

    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Action "))
    expect(page.get_by_label("What has happened since the last update?")).to_have_value(
        "Typed while signed out elsewhere.")
    expect(page.locator("main")).to_contain_text("Nothing has been saved yet")
    assert _update_count(page) == before
    assert_accessible(page)
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_role("status")).to_contain_text("Update saved")
    page.goto(url)
    assert _update_count(page) == before + 1
