"""Loading frameworks from their JSON definitions, idempotently."""
from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select

from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem, Theme

MSG_CODE = "msg-2019"


def builtin_definition(name: str = "msg") -> dict:
    return json.loads(resources.files("tracker.frameworks").joinpath(f"data/{name}.json").read_text("utf-8"))


def load_framework(definition: dict, *, partnership_id: int | None = None) -> Framework:
    """Create or update a framework from its definition; running it twice changes nothing."""
    framework = db.session.scalar(select(Framework).where(Framework.code == definition["code"]))
    if framework is None:
        framework = Framework(code=definition["code"], partnership_id=partnership_id)
        db.session.add(framework)
    framework.name = definition["name"]
    framework.levels = list(definition.get("levels", []))
    framework.theme_label = definition.get("theme_label", "Key feature")
    framework.item_label = definition.get("item_label", "Proposal")
    themes = {t.number: t for t in framework.themes}
    for t_pos, theme_def in enumerate(definition["themes"]):
        theme = themes.get(theme_def["number"])
        if theme is None:
            theme = Theme(number=theme_def["number"])
            framework.themes.append(theme)
        theme.title = theme_def["title"]
        theme.description = theme_def.get("description")
        theme.position = t_pos
        items = {i.number: i for i in theme.items}
        for i_pos, item_def in enumerate(theme_def.get("items", [])):
            item = items.get(item_def["number"])
            if item is None:
                item = FrameworkItem(number=item_def["number"])
                theme.items.append(item)
            item.title = item_def["title"]
            item.descriptors = list(item_def.get("descriptors", []))
            item.local_completion = bool(item_def.get("local_completion", True))
            item.note = item_def.get("note")
            item.position = i_pos
    db.session.flush()
    return framework


def load_msg() -> Framework:
    return load_framework(builtin_definition("msg"))


def msg_framework() -> Framework | None:
    return db.session.scalar(select(Framework).where(Framework.code == MSG_CODE))


def items_by_number(framework: Framework) -> dict[str, FrameworkItem]:
    return {item.number: item for theme in framework.themes for item in theme.items}
