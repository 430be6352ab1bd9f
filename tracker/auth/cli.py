from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.auth import services
from tracker.auth.models import Role
from tracker.errors import RuleError
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
    try:
        if services.find_by_email(email):
            raise click.ClickException(f"A user with e-mail {email} already exists.")
        services.create_user(email=email, name=name, password=password, memberships=memberships, is_admin=admin)
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created {email}.")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True, help="What the token is for.")
@with_appcontext
def create_token_command(email, name):
    """Create an API token for a user and print it (it is shown only this once)."""
    from tracker.api import tokens

    try:
        user = services.find_by_email(email)
        if user is None or not user.active:
            raise click.ClickException(f"No active user with e-mail {email}.")
        _, plain = tokens.create_token(user, name)
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(plain)
