"""The administrators' Outbox page: how e-mail is going, and the messages a person must look at.

Uncertain messages (the connection broke after the final dot, or their sender stopped) and failed ones that
used every attempt are never sent again by themselves; here a site administrator sees them and re-sends one,
after a confirmation page saying it may then arrive twice. The same service as `flask outbox resend ID`.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.doors import commit_or_refuse
from tracker.errors import Conflict, NotFound
from tracker.outbox import services
from tracker.outbox.forms import ResendForm
from tracker.reminders.models import SendStatus
from tracker.timeutil import LONDON, as_utc, long_date

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

#: How many messages needing a person the page lists (the newest first).
LISTED = 200

STATE_LABELS = {
    SendStatus.PENDING: "Waiting", SendStatus.IN_FLIGHT: "Being sent", SendStatus.SENT: "Sent",
    SendStatus.FAILED: "Refused", SendStatus.UNCERTAIN: "Uncertain", SendStatus.SUPPRESSED: "Kept, not sent",
}


def when(value) -> str:
    """'1 April 2026 at 07:00' (UK time), or 'never'."""
    if value is None:
        return "never"
    local = as_utc(value).astimezone(LONDON)
    return f"{long_date(local.date())} at {local:%H:%M}"


@bp.before_request
@login_required
def require_site_administrator():
    if not services.can_resend(current_user):
        abort(403, "Only site administrators can see the outbox.")


@bp.get("/")
def index():
    return render_template("outbox/index.html", health=services.health(), kinds=services.KINDS,
                           states=list(SendStatus), state_labels=STATE_LABELS,
                           rows=services.needing_a_person(LISTED), listed=LISTED, form=ResendForm(),
                           max_attempts=services.MAX_ATTEMPTS, when=when)


@bp.route("/<int:send_id>/resend", methods=["GET", "POST"])
def resend(send_id: int):
    try:
        row = services.resendable(send_id, actor=current_user)
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(error.message, "info")
        return redirect(url_for("outbox.index"))
    form = ResendForm()
    if form.is_submitted() and form.is_confirmed and form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.resend(send_id, actor=current_user), form)
        if saved:
            flash(f"E-mail #{send_id} to {row.recipient} is queued again: the scheduler sends it within a minute.",
                  "success")
            return redirect(url_for("outbox.index"))
    return render_template("outbox/resend.html", row=row, form=ResendForm(formdata=None, confirmed="yes"),
                           errors=form if form.form_errors else None, kind=services.KINDS.get(row.kind, row.kind),
                           state=STATE_LABELS[row.status], when=when), 400 if form.form_errors else 200
