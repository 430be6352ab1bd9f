"""The `tracker` command: `flask --app tracker` under one name, for systemd units and cron lines.

`tracker --version` prints the installed version. In production the configuration and the database are
checked before any command runs; a problem is one line on stderr and exit status 1, not a traceback.
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup, ScriptInfo

from tracker.config import ConfigError

#: The distribution's name in setup.cfg, for its version.
DISTRIBUTION = "ijb-action-tracker"


def create_checked_app():
    """create_app() (which checks the settings), then, in production, that the database answers."""
    from tracker import create_app
    from tracker.config import check_database

    app = create_app()
    if app.config.get("ENV_NAME") == "production":
        check_database(app.config["SQLALCHEMY_DATABASE_URI"])
    return app


class TrackerGroup(FlaskGroup):
    def list_commands(self, ctx):
        # `tracker --help` loads the app to list its commands: a configuration problem is its lines, not
        # the traceback Flask would print.
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError as error:
            error.show()
            ctx.exit(error.exit_code)
        return super().list_commands(ctx)


cli = click.version_option(package_name=DISTRIBUTION, prog_name="tracker", message="%(prog)s %(version)s")(
    TrackerGroup(
        name="tracker",
        create_app=create_checked_app,
        add_version_option=False,
        help="The improvement action tracker's commands (the same as `flask --app tracker`).",
    )
)


def main() -> None:
    cli.main(prog_name="tracker")
