"""Risks in a real browser: a plan manager reads Dundee's register and heat maps, reviews a risk, and sees the
flag on the plan page; axe is clean on each page, and the register fits a 320 px phone."""
from __future__ import annotations

from playwright.sync_api import expect

DUNDEE_PLAN = "A Caring Dundee 2: Carers Delivery Plan 2022"


def test_manager_reviews_a_dundee_risk(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.get_by_role("link", name="Risks").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk registers")
    page.get_by_role("link", name="Dundee", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dundee risk register")
    expect(page.get_by_role("img", name="Residual scores")).to_be_visible()
    expect(page.locator("#residual-table")).to_be_visible()
    expect(page.locator("#risk-register")).to_contain_text("residual 4 assumes 2 actions")
    assert_accessible(page)

    page.get_by_role("link", name="Carers Act implementation funding unlikely to increase").click()
    expect(page.get_by_role("region", name="Flagged")).to_contain_text("residual 4 assumes 2 actions")
    assert_accessible(page)
    page.get_by_role("link", name="Review the risk").click()
    assert_accessible(page)
    page.locator("#residual_likelihood").select_option("3")
    page.get_by_label("Why, or what changed").fill("Funding for 2027/28 not yet confirmed")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("status")).to_contain_text("Review of DIJB72-2022 R1 recorded.")
    expect(page.locator("#risk-history tbody tr")).to_have_count(2)
    expect(page.locator("#risk-history tbody tr").first).to_contain_text("Funding for 2027/28 not yet confirmed")

    page.get_by_role("link", name=DUNDEE_PLAN).first.click()
    expect(page.locator("#plan-risks-heading")).to_be_visible()
    expect(page.get_by_role("region", name="Flagged risks")).to_contain_text("residual 6 assumes 2 actions")
    assert_accessible(page)


def test_register_fits_a_phone(page, live_server, sign_in):
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, live_server, "viewer@demo.scot")
    page.goto(f"{live_server.url}/risks/")
    page.get_by_role("link", name="Dundee", exact=True).click()
    # The click returns once the navigation commits: measure only after the page and its style sheets have loaded,
    # or an unstyled table (its hidden header row still laid out) is what gets measured.
    expect(page.get_by_role("heading", level=1)).to_have_text("Dundee risk register")
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the register is {width} px wide on a 320 px screen"
