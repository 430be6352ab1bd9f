"""Review reminders: a risk's owner is asked to review it when its review date passes, through the outbox.

Exactly once per risk and review date: a RiskReminder row (unique on risk and review date) is written with the
queued e-mail in one transaction, so a repeated or concurrent run finds it and sends nothing more. A new
review date (set by a review) is a new reminder when it passes in turn.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, url_for
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from tracker import timeutil
from tracker.auth.models import User
from tracker.extensions import db
from tracker.outbox import services as outbox
from tracker.risks.models import Risk, RiskReminder, RiskStatus

log = logging.getLogger("tracker.risks")


def due(today: dt.date) -> list[Risk]:
    """Live risks whose review date has passed, with an active owner who has an e-mail address and no reminder
    yet for that date."""
    return list(db.session.scalars(
        select(Risk).join(User, User.id == Risk.owner_id)
        .outerjoin(RiskReminder, and_(RiskReminder.risk_id == Risk.id, RiskReminder.review_date == Risk.review_date))
        .where(Risk.status != RiskStatus.CLOSED, Risk.review_date.is_not(None), Risk.review_date < today,
               User.active.is_(True), User.email.is_not(None), RiskReminder.id.is_(None))
        .options(joinedload(Risk.owner), joinedload(Risk.partnership)).order_by(Risk.id)))


def _link(risk: Risk) -> str:
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    try:
        path = url_for("risks.review", risk_id=risk.id, _external=False)
    except RuntimeError:  # no request or SERVER_NAME
        path = f"/risks/{risk.id}/review"
    return f"{base}{path}"


def body(risk: Risk) -> str:
    owner = risk.owner
    return (f"Dear {owner.name},\n\n"
            f"The risk {risk.reference} on {risk.partnership.name}'s register was due for review on "
            f"{timeutil.long_date(risk.review_date)}:\n\n  {risk.title}\n\n"
            f"Review its likelihood and impact, and whether its mitigating actions are on track:\n{_link(risk)}\n\n"
            "You are receiving this because you own the risk.\n")


def queue_reminders(today: dt.date | None = None) -> int:
    """Queue a reminder for each risk due; each in its own savepoint. Flushes; the caller commits."""
    today = today or timeutil.today()
    queued = 0
    for risk in due(today):
        try:
            with db.session.begin_nested():
                db.session.add(RiskReminder(risk_id=risk.id, review_date=risk.review_date, user_id=risk.owner_id))
                db.session.flush()
                outbox.enqueue(kind="risk_review", key=f"risk:{risk.id}:{risk.review_date.isoformat()}",
                               to=risk.owner.email, to_name=risk.owner.name, user_id=risk.owner_id,
                               subject=f"Risk {risk.reference} is due for review", body=body(risk))
        except IntegrityError:  # another run queued it first
            continue
        queued += 1
    return queued


def scheduled_run() -> None:
    """The scheduler's daily job (tracker.scheduler.jobs.JOBS): queue, commit; the outbox job sends."""
    queued = queue_reminders()
    db.session.commit()
    if queued:
        log.info("Queued %d risk review reminder(s).", queued)
