"""Indicators in a real browser: an officer enters a value and sees the chart and table update; axe is clean."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tracker.periods import Period
from tracker.timeutil import today

SHORT_BREAKS = "Number of Carers accessing short breaks"


def test_officer_enters_a_value_and_sees_chart_and_table_update(page, live_server, sign_in, assert_accessible):
    current = Period.containing("quarterly", today())
    ended = current.previous()  # values are entered once a period has ended (issue 11)
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    sign_in(page, live_server, "officer@demo.scot")
    page.get_by_role("link", name="Indicators").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance indicators")
    assert_accessible(page)

    page.get_by_role("link", name=SHORT_BREAKS).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SHORT_BREAKS)
    chart = page.get_by_role("img", name=f"Trend: {SHORT_BREAKS}")
    expect(chart).to_be_visible()
    table = page.locator("#values-table")
    expect(table.get_by_role("rowheader", name=current.previous().label)).to_be_visible()
    expect(table).not_to_contain_text(current.label)
    expect(page.locator("#latest")).to_contain_text("Green: 318 is 6% above the target of 300")
    points = page.locator("svg.app-chart circle").count()
    assert_accessible(page)

    page.get_by_role("link", name="Enter values").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter values")
    assert_accessible(page)
    expect(page.get_by_label(f"Value for {current.label}")).to_have_count(0)
    page.get_by_label(f"Value for {ended.label}").fill("331")
    page.get_by_label(f"Note for {ended.label}").fill("Corrected after the audit of the carers centre's returns")
    page.get_by_role("button", name="Save values").click()

    expect(page.get_by_role("status")).to_contain_text("Saved 1 value.")
    expect(table.get_by_role("row", name=ended.label)).to_contain_text("331")
    description = page.locator("svg.app-chart desc").text_content()
    assert f"{ended.label} 331" in description
    expect(page.locator("svg.app-chart circle")).to_have_count(points)  # a correction adds no point
    expect(page.locator("#latest")).to_contain_text(f"331 is 10% above the target of 300 ({ended.label})")
    assert_accessible(page)
    assert failed == []
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []  # favicon.ico is not ours


def test_grid_error_is_announced_and_accessible(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(f"{live_server.url}/indicators/")
    page.get_by_role("link", name="Number of carers supported through the SDS process").click()
    page.get_by_role("link", name="Enter values").click()
    first_input = page.locator("input[name^=value-]").first
    first_input.fill("lots")
    page.get_by_role("button", name="Save values").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("is not a number")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_viewer_reads_without_entry_links(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "viewer@demo.scot")
    page.goto(f"{live_server.url}/indicators/")
    page.get_by_role("link", name="Percentage of carers who feel supported in their caring role").click()
    expect(page.locator("#values-table")).to_contain_text("2023-25")
    expect(page.get_by_role("link", name="Enter values")).to_have_count(0)
    assert_accessible(page)


def test_define_and_upload_pages_are_accessible(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(f"{live_server.url}/indicators/")
    page.get_by_role("link", name="Add an indicator to MSG improvement action plan 2019").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an indicator")
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Delayed discharges")
    page.locator("label[for=direction-1]").click()  # the design system styles the label over the radio
    page.get_by_label("Target (optional)", exact=True).fill("lots")
    page.get_by_role("button", name="Save the indicator").click()
    expect(page.locator(".ds_error-summary")).to_contain_text("The target 'lots' is not a number")
    assert_accessible(page)
    page.goto(f"{live_server.url}/indicators/")
    page.get_by_role("link", name=re.compile(r"^Upload values for A Caring Dundee 2")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload indicator values")
    assert_accessible(page)


def test_locality_breakdown_table_is_accessible(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "viewer@demo.scot")
    page.goto(f"{live_server.url}/indicators/")
    page.get_by_role("link", name="Number of carers supported via contracted services").click()
    breakdown = page.get_by_role("table", name=re.compile("by locality, by period"))
    expect(breakdown.get_by_role("rowheader", name="Lochee")).to_be_visible()
    assert_accessible(page)
