"""Self-evaluation in a real browser: rating a proposal, starting the next round, benchmarking; axe on each page."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def choose(page, level):
    """Click a rating's label, as a user does (the design system draws the radio button on the label)."""
    page.get_by_role("group", name=re.compile("Our rating")).locator("label", has_text=re.compile(f"^{level}$")).click()


def open_round(page, title):
    page.goto("/self-evaluation/")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_plan_manager_rates_a_proposal(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.get_by_role("link", name="Self-evaluation").first.click()
    assert_accessible(page)
    open_round(page, "MSG self-evaluation 2020")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^6\.2 ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposal 6.2")
    choices = page.get_by_role("group", name=re.compile("Our rating"))
    for label in ["Not yet established", "Partly established", "Established", "Exemplary"]:
        expect(choices.get_by_role("radio", name=label, exact=True)).to_be_visible()
    assert_accessible(page)

    choose(page, "Partly established")
    page.get_by_role("textbox", name=re.compile("^Evidence")).fill("Carers' views gathered at three locality events.\n"
                                                  "A carers' reference group now meets quarterly.")
    page.get_by_role("textbox", name=re.compile("^Who took part")).fill("IJB members and carers' representatives")
    page.get_by_role("textbox", name="Proposed improvement actions").fill("Extend the reference group to young carers")
    page.get_by_role("button", name="Save the rating").click()

    expect(page.get_by_role("status")).to_contain_text("Saved the rating of proposal 6.2")
    expect(choices.get_by_role("radio", name="Partly established", exact=True)).to_be_checked()
    tracking = page.get_by_role("region", name="Tracking the proposed actions")
    expect(tracking.get_by_text("Extend the reference group to young carers", exact=True)).to_be_visible()
    assert_accessible(page)

    # One click makes the proposed action a tracked action.
    page.get_by_role("button", name=re.compile("Create tracked action")).click()
    expect(page.get_by_role("status")).to_contain_text("Created action")
    expect(tracking.get_by_text(re.compile("Tracked as"))).to_be_visible()
    assert_accessible(page)
    assert page.console_errors == [], page.console_errors


def test_a_rating_form_error_is_announced_and_accessible(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    open_round(page, "MSG self-evaluation 2019")
    page.get_by_role("link", name=re.compile(r"^1\.1 ")).click()
    choose(page, "Exemplary")
    page.get_by_role("button", name="Save the rating").click()
    expect(page.get_by_role("alert")).to_contain_text("Give a reason for changing the rating")
    expect(page).to_have_title(re.compile("^Error: "))
    assert_accessible(page)


def test_a_plan_manager_starts_the_next_round(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "manager@demo.scot")
    page.goto("/self-evaluation/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a new self-evaluation round")
    assert_accessible(page)
    open_round(page, "MSG self-evaluation 2019 (illustrative)")
    expect(page.get_by_text("Low rating and no open action").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Start the next round").click()
    expect(page.get_by_label("Title of the new round")).to_have_value("MSG self-evaluation 2020 (illustrative)")
    assert_accessible(page)
    page.get_by_role("button", name="Start the round").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("MSG self-evaluation 2020 (illustrative)")
    expect(page.get_by_role("status")).to_contain_text("evidence from MSG self-evaluation 2019 (illustrative)")
    expect(page.get_by_text("Not rated yet").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^1\.1 ")).click()
    evidence = page.get_by_role("textbox", name=re.compile("^Evidence"))
    expect(evidence).to_have_value(re.compile("^Illustrative: the partnership"))
    for radio in page.get_by_role("group", name=re.compile("Our rating")).get_by_role("radio").all():
        expect(radio).not_to_be_checked()


def test_benchmarking_and_a_proposal_across_rounds(page, live_server, sign_in, assert_accessible):
    sign_in(page, live_server, "national@demo.scot")
    page.goto("/self-evaluation/benchmarking")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Glasgow City")
    expect(table).to_contain_text("Dundee")
    expect(table).not_to_contain_text("MSG self-evaluation 2020")
    assert_accessible(page)

    open_round(page, "MSG self-evaluation 2019")
    page.get_by_role("link", name=re.compile(r"^2\.3 ")).click()
    assert_accessible(page)  # a viewer's read-only rating page
    page.get_by_role("link", name="Proposal 2.3 across all rounds").click()
    expect(page.get_by_role("heading", name="Rating history")).to_be_visible()
    assert_accessible(page)
