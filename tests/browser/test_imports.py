"""Importing in the browser: upload, preview with problems and mapping, confirm; accessible throughout."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_plan_manager_imports_a_delivery_plan(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.get_by_role("link", name="Import").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a plan or self-evaluation")
    assert_accessible(page)
    page.get_by_label("File").set_input_files(str(FIXTURES / "dundee-carers-delivery-plan-2022.xlsx"))
    page.get_by_label("Partnership").select_option(label="Dundee")
    page.get_by_label("Plan name").fill("Carers plan imported in the browser")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import")
    expect(page.get_by_text("54 rows read", exact=False)).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("Problems"))).to_contain_text("row 45, cell D45")
    expect(page.get_by_label("Column D: Planned actions")).to_have_value("action")
    assert_accessible(page)

    page.get_by_role("button", name=re.compile(r"Import \d+ changes")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imported")
    expect(page.locator(".app-flashes")).to_contain_text("50 actions created")
    assert_accessible(page)
    assert page.console_errors == [], page.console_errors


def test_a_bad_file_is_refused_with_a_message(page, live_server, sign_in, assert_accessible, tmp_path):
    bad = tmp_path / "plan.xlsx"
    bad.write_text("Ref,Action\n1,Do it\n")
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(live_server.url + "/imports/")
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator(".ds_error-summary")).to_contain_text("not an Excel .xlsx or Word .docx file")
    expect(page).to_have_title(re.compile("^Error:"))
    assert_accessible(page)
