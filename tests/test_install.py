"""Installable as README says: the folders the wheel carries, the `tracker` command, README's units.

scripts/test-wheel builds the wheel and runs it from a fresh venv outside the checkout; these are the
quick checks that need no build."""
from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

import pytest

from tracker import resources

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def test_in_a_checkout_the_folders_are_the_top_level_ones():
    assert resources.directory("templates") == ROOT / "templates"
    assert (resources.directory("templates") / "errors" / "error.html").is_file()
    assert (resources.directory("static") / "vendor" / "sgds" / "css" / "design-system.min.css").is_file()
    assert (resources.directory("migrations") / "alembic.ini").is_file()


def test_the_packaged_copy_wins_when_there_is_one(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    monkeypatch.setattr(resources.resources, "files", lambda package: tmp_path)
    assert resources.directory("templates") == tmp_path / "templates"
    assert resources.directory("static") == ROOT / "static"  # not packaged here: the checkout's


def test_a_missing_folder_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(resources.resources, "files", lambda package: tmp_path)
    monkeypatch.setattr(resources, "CHECKOUT", tmp_path)
    with pytest.raises(FileNotFoundError, match="The tracker's migrations/ folder is missing"):
        resources.directory("migrations")
    with pytest.raises(ValueError):
        resources.directory("instance")


def test_the_app_uses_them(app):
    assert Path(app.template_folder) == resources.directory("templates")
    assert Path(app.static_folder) == resources.directory("static")
    assert Path(app.extensions["migrate"].directory) == resources.directory("migrations")


def test_the_build_hook_copies_exactly_these_folders():
    tree = ast.parse((ROOT / "setup.py").read_text("utf-8"))
    [trees] = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "TREES"]
    assert ast.literal_eval(trees) == resources.NAMES


def test_the_tracker_command_is_a_console_script():
    [entry] = [e for e in metadata.entry_points(group="console_scripts") if e.name == "tracker"]
    assert entry.value == "tracker.cli:main"


def _unit(name: str) -> str:
    return re.search(rf"`/etc/systemd/system/{name}`:\s*```ini\n(.*?)```", README, re.S).group(1)


@pytest.mark.parametrize("name", ["tracker-web.service", "tracker-scheduler.service"])
def test_readme_units_run_the_installed_wheel(name):
    unit = _unit(name)
    assert "WorkingDirectory" not in unit
    commands = re.findall(r"^ExecStart(?:Pre)?=(.*)$", unit, re.M)
    assert commands and all(c.startswith("/opt/tracker/venv/bin/") for c in commands)
    assert "flask --app" not in unit


def test_readme_installs_a_wheel_not_an_editable_checkout():
    section = README.split("## Deploying on PostgreSQL", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    install = block.split("\nexport ", 1)[0].splitlines()
    assert install == [
        "python3.11 -m venv /opt/tracker/venv",
        "/opt/tracker/venv/bin/pip wheel --no-deps --wheel-dir /opt/tracker/wheel /path/to/checkout",
        "/opt/tracker/venv/bin/pip install /opt/tracker/wheel/ijb_action_tracker-*.whl",
    ]
    assert "--config python:tracker.gunicorn_config" in _unit("tracker-web.service")
