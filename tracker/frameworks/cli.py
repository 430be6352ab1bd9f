from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from tracker.extensions import db
from tracker.frameworks import services


@click.group("frameworks")
def frameworks_cli():
    """National and local frameworks."""


@frameworks_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load(path):
    """Load the MSG framework that ships with the tracker, or a framework from a JSON file."""
    definition = json.loads(open(path, encoding="utf-8").read()) if path else services.builtin_definition("msg")
    framework = services.load_framework(definition)
    db.session.commit()
    items = sum(len(t.items) for t in framework.themes)
    click.echo(f"{framework.name}: {len(framework.themes)} themes, {items} items.")
