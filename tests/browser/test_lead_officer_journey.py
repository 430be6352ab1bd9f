"""A lead officer finds an overdue action and records progress; a viewer cannot; every page passes axe."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def open_my_actions(page):
    page.get_by_role("navigation", name="Main menu", exact=True).get_by_role("link", name="My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")


def test_lead_officer_records_an_update_and_sees_the_rag_change(page, live_server, sign_in, assert_accessible,
                                                                 demo_users):
    sign_in(page, live_server, demo_users["officer"])
    open_my_actions(page)
    overdue = page.locator("section", has=page.get_by_role("heading", name=re.compile(r"^Overdue")))
    expect(overdue).to_be_visible()
    expect(overdue.locator(".rag--red").first).to_have_text("Red")
    assert_accessible(page)

    overdue.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Action "))
    rag = page.locator("dd .rag")
    expect(rag).to_have_text("Red")
    expect(page.locator("dd .app-rag-reason")).to_contain_text("overdue since")
    assert_accessible(page)

    page.locator("#status").get_by_text("Complete", exact=True).click()
    page.get_by_label("What has happened since the last update?").fill(
        "Delivered and reported to the board.\n\nSecond paragraph with <b>markup</b>.")
    page.get_by_role("button", name="Save update").click()

    expect(page.get_by_role("status")).to_contain_text("Update saved")
    expect(page.locator("dd .rag")).to_have_text("Blue")
    expect(page.locator("dd .app-rag-reason")).to_have_text("complete")
    history = page.locator(".app-timeline__entry").first
    expect(history).to_contain_text("Second paragraph with <b>markup</b>.")  # shown as text
    # The demo's overdue actions are at risk (their status agrees with their RAG).
    expect(history).to_contain_text(re.compile(r"Status: was (At risk|On track) → now Complete"))
    assert_accessible(page)


def test_revised_timescale_without_a_reason_is_explained(page, live_server, sign_in, assert_accessible, demo_users):
    sign_in(page, live_server, demo_users["officer"])
    open_my_actions(page)
    page.locator("main table a").first.click()
    page.locator("#status").get_by_text("On track", exact=True).click()
    page.get_by_label("What has happened since the last update?").fill("Recruitment delayed the start.")
    page.get_by_label("Revised timescale").fill("March 2031")
    page.get_by_role("button", name="Save update").click()
    summary = page.locator(".ds_error-summary")
    expect(summary).to_contain_text("Give the reason the timescale has changed")
    assert_accessible(page)
    page.get_by_label("Reason for the new timescale").fill("Recruitment to the post took a year.")
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_role("status")).to_contain_text("Update saved")
    expect(page.locator("main")).to_contain_text("March 2031")


def test_viewer_cannot_reach_the_update_form(page, live_server, sign_in, assert_accessible, demo_users):
    sign_in(page, live_server, demo_users["viewer"])
    page.get_by_role("link", name="Plans", exact=True).first.click()
    page.get_by_role("link", name=re.compile("Caring Dundee")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Caring Dundee")
    assert_accessible(page)
    page.locator("table.app-actions a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Action "))
    expect(page.get_by_role("heading", name="Record progress")).to_have_count(0)
    expect(page.get_by_role("button", name="Save update")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit the action")).to_have_count(0)
    assert_accessible(page)


def test_plan_manager_pages_are_accessible(page, live_server, sign_in, assert_accessible, demo_users):
    sign_in(page, live_server, demo_users["manager"])
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Plans you manage")).to_be_visible()
    page.get_by_role("link", name=re.compile("MSG improvement action plan")).first.click()
    plan_url = page.url
    page.get_by_text("Filter and search").click()
    page.get_by_label("Status").select_option("on_track")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("main")).to_contain_text("(filtered)")
    assert_accessible(page)

    page.locator("table.app-actions a").first.click()
    action_url = page.url
    for link, heading in [("Close as complete", "Close action"), ("Mark as superseded", "Mark action")]:
        page.goto(action_url)
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(page)
    page.goto(action_url)
    page.get_by_role("link", name="Edit the action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Edit action "))
    assert_accessible(page)
    page.get_by_label("Action", exact=True).fill("")
    page.get_by_role("button", name="Save action").click()
    expect(page.locator(".ds_error-summary")).to_contain_text("Enter the action")
    assert_accessible(page)

    for link, heading in [("Add an action", "Add an action"), ("Re-assign an officer's actions", "Re-assign"),
                          ("Edit the plan", "Edit the plan")]:
        page.goto(plan_url)
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(page)
