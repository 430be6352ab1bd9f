"""Importing in the browser: upload, preview with problems and mapping, confirm; accessible throughout."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.imports.builders import plan_xlsx

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
    expect(page.get_by_text("54 rows from the sheet", exact=False)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("openpyxl")
    expect(page.locator("table").first).to_contain_text("row 45, cell D45")
    expect(page.get_by_label("Column D: Planned actions")).to_have_value("action")
    assert_accessible(page)
    for width in (1280, 390):  # no column cut off, nothing sideways
        page.set_viewport_size({"width": width, "height": 900})
        _no_sideways_scroll(page)
        links = page.evaluate("(() => { const r = document.querySelector('.app-import-rows tbody td:last-child')"
                              ".getBoundingClientRect(); return [r.right, window.innerWidth]; })()")
        assert links[0] <= links[1], f"'Links to' ends at {links[0]} px at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name=re.compile(r"Import \d+ changes")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign lead officers")
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


JOURNEY_HEADERS = ["Ref", "Action", "Lead officer", "Partner organisations", "Timescale", "Notes"]
JOURNEY_ROWS = [
    ["J1", "Journey action one: map carers' breaks", "Dana Lead", "Dundee Carers Centre", "March 2024", ""],
    ["J2", "Journey action two: young carers' statements", "Dana Lead", "Dundee City Council/Carers Lead",
     "June 2024", "a note"],
    ["J3", "Journey action three: hospital discharge pathway", "Service manager", "NHS Tayside", "April 2024", ""],
]


def _no_sideways_scroll(page):
    from tests.browser.test_responsive import widest_elements

    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: {width} px wide at {inner} px: {widest_elements(page)}"


def test_import_with_two_lead_columns_sets_the_manager_and_assigns_the_leads(
        page, live_server, sign_in, assert_accessible, tmp_path):
    """import -> preview with two lead columns -> set manager -> assign leads -> reminders go to the officers."""
    from tracker.reminders import services as reminders
    from tracker.timeutil import today

    path = tmp_path / "journey-plan.xlsx"
    path.write_bytes(plan_xlsx(JOURNEY_HEADERS, JOURNEY_ROWS))
    sign_in(page, live_server, "manager@demo.scot")
    page.goto(live_server.url + "/imports/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("Partnership").select_option(label="Dundee")
    page.get_by_label("Plan name").fill("Journey plan")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import")
    expect(page.get_by_label("Column C: Lead officer")).to_have_value("officer")
    expect(page.get_by_label("Column D: Partner organisations")).to_have_value("lead")
    expect(page.locator("#mapping").locator("xpath=..")).to_contain_text("F “Notes”")
    expect(page.locator("main")).to_contain_text("“Carers Lead” reads as a job title")
    expect(page.locator("main")).to_contain_text("31 March 2024")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        _no_sideways_scroll(page)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_label("Plan manager")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Plan manager").select_option(label="Morag Manager (Planning officer)")
    page.get_by_role("button", name=re.compile(r"Import 3 changes")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Assign lead officers")
    expect(page.locator("main")).to_contain_text("matched on name")
    expect(page.locator("main")).to_contain_text("matched on job title")
    expect(page.get_by_label("Lead officer for “Dana Lead”")).to_have_value(re.compile(r"\d+"))
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 900})
    _no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Assign the lead officers").click()
    expect(page.locator(".app-flashes")).to_contain_text("Assigned lead officers to 3 actions")

    with live_server.app.app_context():
        from sqlalchemy import select

        from tracker.auth.models import User
        from tracker.extensions import db
        from tracker.plans.models import Action, Plan

        plan = db.session.scalar(select(Plan).where(Plan.name == "Journey plan"))
        assert plan.manager.email == "manager@demo.scot"
        actions = db.session.scalars(select(Action).where(Action.plan_id == plan.id))
        leads = {a.ref: a.lead_officer.email for a in actions}
        assert leads == {"J1": "dundee.officer@demo.scot", "J2": "dundee.officer@demo.scot", "J3": "officer@demo.scot"}
        ids = {u.id: u.email for u in db.session.scalars(select(User))}
        due = reminders.due_reminders(today())
        told = {ids.get(r.user_id) for r in due if "Journey action" in repr(r.context)}
        assert {"dundee.officer@demo.scot", "officer@demo.scot"} <= told
        db.session.remove()
    assert page.console_errors == [], page.console_errors
