"""Each officer's choice of how often to be reminded."""
from __future__ import annotations

from tracker.audit import services as audit
from tracker.auth.models import User
from tracker.extensions import db
from tracker.reminders.models import DueSoonFrequency, ReminderPreference


def frequency_for(user: User) -> DueSoonFrequency:
    preference = db.session.get(ReminderPreference, user.id)
    return preference.due_soon if preference else DueSoonFrequency.DAILY


def set_frequency(user: User, frequency: DueSoonFrequency) -> None:
    """Save the choice (flush only) and audit it when it changes."""
    preference = db.session.get(ReminderPreference, user.id)
    before = preference.due_soon if preference else DueSoonFrequency.DAILY
    if preference is None:
        preference = ReminderPreference(user_id=user.id)
        db.session.add(preference)
    preference.due_soon = frequency
    db.session.flush()
    if before is not frequency:
        audit.record(user_id=user.id, entity_type="reminder_preference", entity_id=user.id, verb="update",
                     before={"due_soon": before}, after={"due_soon": frequency},
                     summary=f"Reminder frequency set to {frequency.value}")
