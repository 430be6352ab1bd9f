"""Risks in a real browser: a plan manager reads Dundee's register and heat maps, reviews a risk, and sees the
flag on the plan page; axe is clean on each page, and the register, the scoring matrix page (with its
confirmation) and the import preview with its column mapping fit a 320 px phone."""
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


def test_the_scoring_matrix_page_fits_a_phone_and_confirms_before_saving(page, live_server, sign_in,
                                                                       assert_accessible):
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, live_server, "admin@demo.scot")
    page.goto(f"{live_server.url}/risks/")
    page.get_by_role("link", name="Dundee", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dundee risk register")
    page.get_by_role("link", name="Change the scoring matrix").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scoring matrix")
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the scoring matrix page is {width} px wide on a 320 px screen"
    assert_accessible(page)
    page.locator("#band_3_name").fill("Significant")
    page.get_by_role("button", name="Check the change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change to the scoring matrix")
    page.wait_for_load_state("load")
    expect(page.locator("#band-change-count")).to_have_text("2 existing risks would show in another band.")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the confirmation is {width} px wide on a 320 px screen"
    assert_accessible(page)
    page.get_by_role("button", name="Change the bands").click()  # back to the form, nothing saved
    expect(page.locator("#band_3_name")).to_have_value("Significant")


def test_the_import_preview_with_its_column_mapping_fits_a_phone(page, live_server, sign_in, assert_accessible,
                                                                 tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Ref", "Risk title", "Inherent likelihood", "Inherent impact", "Residual L", "Residual I"])
    book.active.append(["P1", "Phone check", 3, 3, 2, 2])
    path = tmp_path / "register.xlsx"
    book.save(path)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(f"{live_server.url}/risks/")
    page.get_by_role("link", name="Dundee", exact=True).click()
    page.get_by_role("link", name="Import a risk register or report").click()
    page.locator("#file").set_input_files(path)
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Columns")).to_be_visible()
    page.get_by_label("Column E: Residual L").select_option("residual_likelihood")
    page.get_by_label("Column F: Residual I").select_option("residual_impact")
    page.get_by_role("button", name="Read the file again").click()
    expect(page.get_by_role("button", name="Import these risks")).to_be_visible()
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the import preview is {width} px wide on a 320 px screen"
    assert_accessible(page)
