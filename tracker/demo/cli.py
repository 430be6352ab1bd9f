from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.extensions import db


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo partnerships, plans, self-evaluation and users (safe to run twice)."""
    from tracker.demo.services import DEMO_USERS, load_demo

    load_demo()
    db.session.commit()
    click.echo("Demo data loaded. Sign in with any of these (password: "
               f"{current_app.config['DEMO_PASSWORD']}):")
    for email, name, title, _roles, _admin in DEMO_USERS[:6]:
        click.echo(f"  {email:<24} {name} ({title})")
