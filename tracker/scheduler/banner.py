"""A warning banner for site administrators when the scheduler's heartbeat is stale."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from tracker.scheduler import heartbeat


def register(app: Flask) -> None:
    @app.context_processor
    def scheduler_warning():
        if current_user and current_user.is_authenticated and current_user.is_admin:
            return {"scheduler_warning": heartbeat.warning()}
        return {}
