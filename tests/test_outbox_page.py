"""Issue 12: uncertain (and given-up) e-mails are listed for a person on the administrators' Outbox page, who can
re-send one after a confirmation saying it may arrive twice; the same service behind `flask outbox resend ID`."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from tracker.audit.models import AuditEvent
from tracker.errors import Conflict, NotAllowed, NotFound
from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.reminders.models import ReminderSend, SendStatus
from tracker.timeutil import utcnow


def queued(key: str, status: SendStatus, *, attempts: int = 1, error: str | None = None, kind="papers_issued",
           to="member@example.scot", subject="Papers for the meeting") -> int:
    send_id = outbox.enqueue(kind=kind, key=key, to=to, subject=subject, body="The papers are ready.",
                             to_name="Mo Member")
    db.session.execute(update(ReminderSend).where(ReminderSend.id == send_id).values(
        status=status, attempts=attempts, last_error=error,
        sent_at=utcnow() if status is SendStatus.SENT else None))
    db.session.commit()
    return send_id


@pytest.fixture
def mail(world):
    """An uncertain e-mail, a refused one given up, one refused but still retrying, and a sent one."""
    return {
        "uncertain": queued("workbook:1", SendStatus.UNCERTAIN, error="No reply after the final dot: timed out"),
        "given_up": queued("workbook:2", SendStatus.FAILED, attempts=outbox.MAX_ATTEMPTS,
                           error="550 5.1.1 No such mailbox", to="gone@example.scot", subject="Papers again"),
        "retrying": queued("workbook:3", SendStatus.FAILED, attempts=2, error="451 try later", to="later@example.scot"),
        "sent": queued("workbook:4", SendStatus.SENT, to="fine@example.scot"),
    }


def row(send_id: int) -> ReminderSend:
    db.session.expire_all()
    return db.session.get(ReminderSend, send_id)


def audits() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "reminder_send")))


def test_the_page_shows_health_and_lists_uncertain_and_given_up_emails(world, mail, client_as):
    page = client_as(world.admin).get("/admin/outbox/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Outbox</h1>" in html and "app-table--stack" in html
    assert "Papers (workbooks) issued" in html  # counts per kind
    assert re.search(r'data-label="Uncertain">1<', html) and re.search(r'data-label="Sent">1<', html)
    assert "Last e-mail sent" in html and " at " in html  # "1 December 2026 at 16:20"
    assert "Scheduler last reported</dt><dd class=\"ds_summary-list__value\">never" in html
    for listed in ("member@example.scot", "Papers for the meeting", "No reply after the final dot: timed out",
                   "gone@example.scot", "550 5.1.1 No such mailbox", f"#{mail['uncertain']}", f"#{mail['given_up']}"):
        assert listed in html
    assert "later@example.scot" not in html, "still being retried by itself"
    assert "fine@example.scot" not in html
    assert html.count('type="submit">Re-send<') == 2
    assert f'action="/admin/outbox/{mail["uncertain"]}/resend"' in html


def test_the_administration_home_links_to_it_for_site_administrators_only(world, client_as):
    assert 'href="/admin/outbox/"' in client_as(world.admin).get("/admin/").get_data(as_text=True)


def test_only_site_administrators_may_see_or_resend(world, mail, client_as):
    from tests import factories
    from tracker.auth.models import Role

    padmin = factories.user(world.home, Role.ADMIN, email="padmin@example.scot")
    db.session.commit()
    for person in (padmin, world.manager, world.officer):
        client = client_as(person)
        assert client.get("/admin/outbox/").status_code == 403
        assert client.post(f"/admin/outbox/{mail['uncertain']}/resend", data={"confirmed": "yes"}).status_code == 403
    assert row(mail["uncertain"]).status is SendStatus.UNCERTAIN
    with pytest.raises(NotAllowed):
        outbox.resend(mail["uncertain"], actor=padmin)
    assert audits() == []


def test_resend_asks_first_saying_it_may_arrive_twice_then_queues_it_once(world, mail, client_as):
    client = client_as(world.admin)
    send_id = mail["uncertain"]
    first = client.post(f"/admin/outbox/{send_id}/resend")  # the list's button
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert f"Re-send e-mail #{send_id}?" in html and "may get it twice" in html
    assert row(send_id).status is SendStatus.UNCERTAIN, "the first press only asks"
    token = re.search(r'name="once" type="hidden" value="([^"]+)"', html).group(1)
    assert 'name="confirmed" type="hidden" value="yes"' in html

    done = client.post(f"/admin/outbox/{send_id}/resend", data={"confirmed": "yes", "once": token})
    assert done.status_code == 302 and done.location.endswith("/admin/outbox/")
    again = row(send_id)
    assert (again.status, again.attempts, again.claim_token, again.next_attempt_at) == (SendStatus.PENDING, 0, None,
                                                                                        None)
    (event,) = audits()
    assert (event.user_id, event.entity_id, event.verb) == (world.admin.id, send_id, "retry")
    assert event.before["status"] == "uncertain" and event.after["status"] == "pending"
    assert "queued again" in client.get("/admin/outbox/").get_data(as_text=True)

    replay = client.post(f"/admin/outbox/{send_id}/resend", data={"confirmed": "yes", "once": token})
    assert replay.status_code == 302
    assert len(audits()) == 1, "a double click queues it once"


def test_a_given_up_email_goes_back_with_its_attempts_from_zero(world, mail, client_as):
    send_id = mail["given_up"]
    page = client_as(world.admin).get(f"/admin/outbox/{send_id}/resend")
    assert "refused this e-mail 10 times" in page.get_data(as_text=True)
    outbox.resend(send_id, actor=world.admin)
    db.session.commit()
    assert (row(send_id).status, row(send_id).attempts) == (SendStatus.PENDING, 0)


@pytest.mark.parametrize("which", ["sent", "retrying_then_pending"])
def test_only_failed_or_uncertain_emails_can_be_resent(world, mail, client_as, which):
    send_id = mail["sent"] if which == "sent" else mail["retrying"]
    if which != "sent":
        outbox.resend(send_id)  # failed -> pending
        db.session.commit()
    before = (row(send_id).status, len(audits()))
    with pytest.raises(Conflict, match="only a failed or uncertain e-mail can be re-sent"):
        outbox.resend(send_id, actor=world.admin)
    db.session.rollback()
    response = client_as(world.admin).post(f"/admin/outbox/{send_id}/resend", data={"confirmed": "yes"})
    assert response.status_code == 302
    assert (row(send_id).status, len(audits())) == before


@pytest.mark.parametrize("send_id", ["999999", str(2**31), str(2**64 + 1)])
def test_an_unknown_or_impossible_id_is_not_found(world, mail, client_as, send_id):
    client = client_as(world.admin)
    assert client.get(f"/admin/outbox/{send_id}/resend").status_code == 404
    assert client.post(f"/admin/outbox/{send_id}/resend", data={"confirmed": "yes"}).status_code == 404
    with pytest.raises(NotFound):
        outbox.resend(int(send_id))


def test_the_command_resends_one_and_refuses_the_others(world, mail, runner):
    result = runner.invoke(args=["outbox", "resend", str(mail["uncertain"])])
    assert result.exit_code == 0, result.output
    assert "queued again" in result.output
    assert row(mail["uncertain"]).status is SendStatus.PENDING
    (event,) = audits()
    assert event.user_id is None  # the operator at the command line

    result = runner.invoke(args=["outbox", "resend", str(mail["sent"])])
    assert result.exit_code == 1 and "already sent" in result.output
    result = runner.invoke(args=["outbox", "resend", str(2**31)])
    assert result.exit_code == 2  # beyond the ids' range: refused before the database is asked
    result = runner.invoke(args=["outbox", "retry", str(mail["given_up"])])  # the command's first name
    assert result.exit_code == 0 and row(mail["given_up"]).status is SendStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.entity_type == "reminder_send")) == 2
