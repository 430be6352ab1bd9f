from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.extensions import db


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo partnerships, plans, self-evaluation and users (safe to run twice)."""
    from tracker.admin.demo import PARTNERSHIP_ADMIN
    from tracker.demo.services import DEMO_USERS, load_demo
    from tracker.scrutiny.demo import AUDITOR

    load_demo()
    db.session.commit()
    click.echo("Demo data loaded. Sign in with any of these (password: "
               f"{current_app.config['DEMO_PASSWORD']}):")
    people = [(email, name, title) for email, name, title, _roles, _admin in DEMO_USERS[:6]]
    for email, name, title in [*people, AUDITOR, PARTNERSHIP_ADMIN]:
        click.echo(f"  {email:<24} {name} ({title})")
