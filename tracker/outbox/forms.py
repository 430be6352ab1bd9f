from __future__ import annotations

from wtforms import HiddenField

from tracker.once import OnceForm


class ResendForm(OnceForm):
    """Re-sending one e-mail: the first press shows the confirmation page, which posts `confirmed=yes`."""

    confirmed = HiddenField()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == "yes"
