"""The reminder settings page in a real browser: keyboard-free journey and an accessibility check."""
from __future__ import annotations

from playwright.sync_api import expect


def test_officer_chooses_weekly_reminders(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "officer@demo.scot")
    page.get_by_role("link", name="Your account").first.click()
    page.get_by_role("link", name="Reminder settings").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Reminder settings")
    assert_accessible(page)
    page.locator("label", has_text="Weekly, on the first working day of the week").click()  # the styled label covers the input
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_text("Your reminder settings are saved.")).to_be_visible()
    expect(page.get_by_label("Weekly, on the first working day of the week")).to_be_checked()
    assert_accessible(page)
    assert page.console_errors == [], page.console_errors


def test_administrator_sees_that_the_scheduler_is_not_running(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "admin@demo.scot")
    expect(page.get_by_role("alert")).to_contain_text("The scheduler has never reported")
    assert_accessible(page)
