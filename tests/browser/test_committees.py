"""Committee pages and the update return in a real browser, with accessibility checks."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_carer_representative_finds_and_downloads_issued_papers(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "carer.rep@demo.scot")
    page.get_by_role("link", name="Committees").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Committees")
    assert_accessible(page)
    page.get_by_role("link", name="Dundee Carers Partnership").click()
    expect(page.get_by_role("heading", name="Issued papers")).to_be_visible()
    assert_accessible(page)
    page.locator("#issued + table a").first.click()  # the issued set: workbook, PDF paper, covering report
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"\.xlsx|workbook", re.I)).first.click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_plan_manager_sees_the_management_forms(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(live_server.url + "/committees/")
    page.get_by_role("link", name="Performance and Audit Committee").click()
    expect(page.get_by_role("heading", name="Add a meeting")).to_be_visible()
    expect(page.get_by_role("button", name="Issue papers now").first).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + "/committees/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a committee")
    assert_accessible(page)


def test_update_return_page(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "officer@demo.scot")
    page.get_by_role("link", name="Plans", exact=True).first.click()
    page.get_by_role("link", name="Update return for A Caring Dundee 2: Carers Delivery Plan 2022").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Update return")
    assert_accessible(page)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the filled-in return")
    assert_accessible(page)
