from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.auth import services
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.partnerships.models import Partnership


@click.group("users")
def users_cli():
    """Manage user accounts."""


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--partnership", "partnership_name", help="Partnership name for the role.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value)
@click.option("--admin", is_flag=True, help="Site administrator (all partnerships).")
@with_appcontext
def create_user_command(email, name, password, partnership_name, role, admin):
    """Create a user, optionally with a role in one partnership."""
    memberships = {}
    if partnership_name:
        partnership = db.session.scalar(select(Partnership).where(Partnership.name == partnership_name))
        if partnership is None:
            raise click.ClickException(f"No partnership called '{partnership_name}'.")
        memberships[partnership.id] = Role(role)
    if services.find_by_email(email):
        raise click.ClickException(f"A user with e-mail {email} already exists.")
    services.create_user(email=email, name=name, password=password, memberships=memberships, is_admin=admin)
    db.session.commit()
    click.echo(f"Created {email}.")
