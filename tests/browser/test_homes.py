"""Each demo role's home (issue 13): what it lands on after signing in, at 390 px and 1280 px, with axe;
the "What changed" page reached from a committee member's home; the home printed."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import fits_and_is_accessible

WIDTHS = (390, 1280)

#: role: (e-mail, headings of the parts it must see, headings it must not see)
HOMES = {
    "officer": ("officer@demo.scot", ["Your actions"], ["Plans you manage", "Partnerships side by side"]),
    "manager": ("manager@demo.scot", ["Your actions", "Plans you manage", "Papers due"], ["Administration"]),
    "viewer": ("viewer@demo.scot", ["Your committees"], ["Your actions", "Plans you manage"]),
    "carer": ("carer.rep@demo.scot", ["Your committees"], ["Your actions", "Partnerships side by side"]),
    "national": ("national@demo.scot", ["Partnerships side by side", "Self-evaluation movement"],
                 ["Your actions", "Your committees"]),
    "admin": ("admin@demo.scot", ["Partnerships side by side", "Administration", "Scheduler and e-mail"],
              ["Your actions"]),
}



@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home(role, page, live_server, sign_in):
    email, wanted, unwanted = HOMES[role]
    sign_in(page, live_server, email)
    assert page.url.rstrip("/") == live_server.url.rstrip("/"), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    main = page.locator("main")
    for heading in wanted:
        expect(main.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
    for heading in unwanted:
        expect(main.get_by_role("heading", name=heading, exact=True)).to_have_count(0)
    expect(main).not_to_contain_text("You do not lead any open actions. See all plans")
    problems = fits_and_is_accessible(page, WIDTHS)
    assert not problems, "\n".join(problems)


def test_officer_home_says_what_to_update_before_the_next_meeting(page, live_server, sign_in):
    sign_in(page, live_server, "dundee.officer@demo.scot")
    heading = page.locator("main h3", has_text="Before the next meeting")
    expect(heading).to_be_visible()
    expect(page.locator("main")).to_contain_text("Papers are due on")


def test_manager_home_counts_escalated_and_leadless_actions(page, live_server, sign_in):
    sign_in(page, live_server, "manager@demo.scot")
    main = page.locator("main")
    expect(main).to_contain_text(re.compile(r"\d+ being escalated"))
    expect(main).to_contain_text("without a lead officer")
    table = main.locator("table", has=page.locator("th", has_text="Escalated"))
    expect(table.locator("tbody tr")).to_have_count(3)  # Glasgow, Dundee and the illustrative audit recommendations plan
    expect(table.locator(".rag").first).to_be_visible()


def test_committee_member_follows_what_changed_since_the_last_meeting(page, live_server, sign_in):
    sign_in(page, live_server, "carer.rep@demo.scot")
    main = page.locator("main")
    expect(main).to_contain_text("Papers due")
    main.get_by_role("link", name=re.compile(r"^What changed for Dundee Carers Partnership")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What changed: Dundee Carers Partnership")
    expect(page.get_by_role("heading", name=re.compile(r"^Slipped"))).to_be_visible()
    expect(page.locator("main td[data-label='Reason given']").first).to_contain_text("Illustrative")
    problems = fits_and_is_accessible(page, WIDTHS)
    # A chosen date: since the plans were agreed, everything completed shows.
    page.get_by_label("Show changes since").fill("2000-01-01")
    page.get_by_role("button", name="Show changes").click()
    expect(page.locator("main .ds_lead")).to_contain_text("Since 1 January 2000")
    assert not problems, "\n".join(problems)


def test_home_prints_without_navigation_and_with_readable_badges(page, live_server, sign_in):
    sign_in(page, live_server, "manager@demo.scot")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main menu", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    badges = page.locator("main .rag")
    assert badges.count() > 0
    for badge in badges.evaluate_all("""els => els.map(el => {
            const s = getComputedStyle(el);
            return {text: el.innerText.trim(), style: s.borderTopStyle, width: parseFloat(s.borderTopWidth),
                    colour: s.color, background: s.backgroundColor};
        })"""):
        assert badge["text"], badge
        assert badge["style"] not in ("none", "hidden") and badge["width"] >= 1, badge
        assert badge["colour"] == "rgb(0, 0, 0)" and badge["background"] == "rgb(255, 255, 255)", badge
    assert page.evaluate("getComputedStyle(document.querySelector('main thead')).display") == "table-header-group"
