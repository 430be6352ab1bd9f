"""Demo data for administration: a partnership administrator, besides the foundation's site administrator."""
from __future__ import annotations

from flask import current_app

from tracker.auth import services as auth_services
from tracker.auth.models import Role

PARTNERSHIP_ADMIN = ("dundee.admin@demo.scot", "Dee Admin", "Business support manager")


def load_demo_admin(ctx) -> None:
    """Dundee's partnership administrator, who manages Dundee's users and organisations only. Idempotent."""
    from tracker.demo.services import DUNDEE

    email, name, title = PARTNERSHIP_ADMIN
    user = auth_services.find_by_email(email)
    if user is None:
        user = auth_services.create_user(email=email, name=name, job_title=title,
                                         password=current_app.config["DEMO_PASSWORD"],
                                         memberships={ctx.partnerships[DUNDEE].id: Role.ADMIN})
    ctx.users[email] = user
