"""Issue 12: a site administrator finds an uncertain e-mail on the Outbox page and re-sends it after the
confirmation, at 320 px and 1280 px, with axe finding nothing."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.conftest import fits_and_is_accessible




def test_an_administrator_resends_an_uncertain_email(page, live_server, sign_in):
    from tracker.extensions import db
    from tracker.outbox import services as outbox
    from tracker.reminders.models import ReminderSend, SendStatus

    with live_server.app.app_context():
        send_id = outbox.enqueue(kind="papers_issued", key="browser:1", to="member.with.a.long.address@demo.scot",
                                 subject="Papers for the Integration Joint Board meeting", body="Ready.")
        db.session.execute(update(ReminderSend).where(ReminderSend.id == send_id).values(
            status=SendStatus.UNCERTAIN, attempts=1,
            last_error="No reply after the final dot: TimeoutError: timed out"))
        db.session.commit()
        db.session.remove()

    sign_in(page, live_server, "admin@demo.scot")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    expect(page.locator("main")).to_contain_text("member.with.a.long.address@demo.scot")
    assert fits_and_is_accessible(page) == []

    page.get_by_role("button", name=f"Re-send e-mail #{send_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Re-send e-mail #{send_id}?")
    expect(page.locator("main")).to_contain_text("may get it twice")
    assert fits_and_is_accessible(page) == []
    page.get_by_role("button", name="Re-send the e-mail").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    expect(page.locator(".app-flashes")).to_contain_text("queued again")
    with live_server.app.app_context():
        assert db.session.get(ReminderSend, send_id).status is SendStatus.PENDING
        db.session.remove()
