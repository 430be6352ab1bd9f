"""Data that migrations load, written with Core tables so it never depends on today's models."""
from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import sqlalchemy as sa

MSG_JSON = resources.files("tracker.frameworks").joinpath("data/msg.json")

_frameworks = sa.table(
    "frameworks", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("name", sa.String),
    sa.column("partnership_id", sa.Integer), sa.column("levels", sa.JSON), sa.column("theme_label", sa.String),
    sa.column("item_label", sa.String), sa.column("created_at", sa.DateTime),
)
_themes = sa.table(
    "themes", sa.column("id", sa.Integer), sa.column("framework_id", sa.Integer), sa.column("number", sa.String),
    sa.column("title", sa.String), sa.column("description", sa.Text), sa.column("position", sa.Integer),
)
_items = sa.table(
    "framework_items", sa.column("id", sa.Integer), sa.column("theme_id", sa.Integer),
    sa.column("number", sa.String), sa.column("title", sa.Text), sa.column("descriptors", sa.JSON),
    sa.column("local_completion", sa.Boolean), sa.column("note", sa.Text), sa.column("position", sa.Integer),
)


def load_msg_framework(connection) -> None:
    """Insert the MSG self-evaluation framework unless it is already there."""
    definition = json.loads(MSG_JSON.read_text("utf-8"))
    exists = connection.execute(sa.select(_frameworks.c.id).where(_frameworks.c.code == definition["code"])).first()
    if exists:
        return
    now = dt.datetime.now(dt.timezone.utc)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    framework_id = connection.execute(_frameworks.insert().values(
        code=definition["code"], name=definition["name"], partnership_id=None, levels=definition["levels"],
        theme_label="Key feature", item_label="Proposal", created_at=now,
    ).returning(_frameworks.c.id)).scalar_one()
    for t_pos, theme in enumerate(definition["themes"]):
        theme_id = connection.execute(_themes.insert().values(
            framework_id=framework_id, number=theme["number"], title=theme["title"],
            description=theme.get("description"), position=t_pos,
        ).returning(_themes.c.id)).scalar_one()
        for i_pos, item in enumerate(theme["items"]):
            connection.execute(_items.insert().values(
                theme_id=theme_id, number=item["number"], title=item["title"], descriptors=item["descriptors"],
                local_completion=item.get("local_completion", True), note=item.get("note"), position=i_pos,
            ))
