from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.reminders import preferences
from tracker.reminders.forms import ReminderSettingsForm
from tracker.reminders.models import DueSoonFrequency

bp = Blueprint("reminders", __name__, url_prefix="/account")


@bp.route("/reminders", methods=["GET", "POST"])
@login_required
def settings():
    form = ReminderSettingsForm()
    if form.validate_on_submit():
        preferences.set_frequency(current_user, DueSoonFrequency(form.due_soon.data))
        db.session.commit()
        flash("Your reminder settings are saved.", "success")
        return redirect(url_for("reminders.settings"))
    if not form.is_submitted():
        form.due_soon.data = preferences.frequency_for(current_user).value
    return render_template("reminders/settings.html", form=form), (400 if form.errors else 200)
