"""Improvement action-plan tracker for Scottish health and social care partnerships."""
from __future__ import annotations

import functools
import logging
import os

from flask import Flask, jsonify, render_template, request

from tracker import config as config_module
from tracker import bounds, once, resources, security
from tracker.errors import RuleError
from tracker.extensions import csrf, db, login_manager, migrate
from tracker.scheduler import banner as scheduler_banner

#: Main navigation: (endpoint, label) or (endpoint, label, predicate), shown to signed-in users; an entry
#: with a predicate shows only to users for whom predicate(user) is true.
def nav_items() -> list[tuple]:
    from tracker.auth.permissions import can_administer, manageable_partnerships

    def can_import(user) -> bool:
        return manageable_partnerships(user) != set()

    return [
        ("home.index", "Home"),
        ("plans.my_actions", "My actions"),
        ("plans.index", "Plans"),
        ("selfeval.index", "Self-evaluation"),
        ("indicators.index", "Indicators"),
        ("risks.index", "Risks"),
        ("committees.index", "Committees"),
        ("scrutiny.index", "Audit recommendations"),
        ("imports.upload", "Import", can_import),
        ("admin.index", "Administration", can_administer),
        ("auth.account", "Your account"),
    ]


def create_app(config: dict | None = None) -> Flask:
    """Build the app in named steps: config, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or None,
        template_folder=str(resources.directory("templates")),
        static_folder=str(resources.directory("static")),
    )
    load_config(app, config)
    register_extensions(app)
    security.init_app(app)
    once.init_app(app)
    bounds.init_app(app)
    register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)
    register_template_helpers(app)
    scheduler_banner.register(app)
    return app


def load_config(app: Flask, overrides: dict | None) -> None:
    """The environment's configuration with `overrides` on top; a TESTING configuration is built from
    config.defaults() instead, never from the caller's environment."""
    if overrides and overrides.get("TESTING"):
        app.config.update(config_module.defaults(app.instance_path))
    else:
        app.config.update(config_module.from_environment(app.instance_path))
    if overrides:
        app.config.update(overrides)
    if not (overrides or {}).get("SQLALCHEMY_ENGINE_OPTIONS"):  # for the database finally named
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config_module.engine_options(app.config)
    config_module.check(app.config)
    if not app.config.get("SECRET_KEY"):
        # Development only (check() refuses this in production): a key per process.
        app.config["SECRET_KEY"] = os.urandom(32).hex()
        app.logger.warning("SECRET_KEY is not set: using a random key; sessions end when the server restarts.")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)


def register_extensions(app: Flask) -> None:
    import tracker.models  # noqa: F401  (the whole schema, for Alembic)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resources.directory("migrations")))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas()
    else:
        from tracker.extensions import ping_idle_connections

        with app.app_context():
            ping_idle_connections(db.engine, app.config.get("DATABASE_PING_AFTER_SECONDS", 10))


def _sqlite_pragmas() -> None:
    """Foreign keys on and a busy timeout, so SQLite behaves like the production database.

    Write-ahead logging lets the web server read while the scheduler writes, and with
    synchronous=NORMAL a commit costs microseconds instead of an fsync (still safe against a
    crashed process; only a power cut can lose the last commits)."""
    from sqlalchemy import event

    @event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from tracker.admin import views as admin
    from tracker.api import views as api
    from tracker.auth import sso
    from tracker.auth import sso_views
    from tracker.auth import views as auth
    from tracker.committees import views as committees
    from tracker.home import views as home
    from tracker.imports import views as imports
    from tracker.indicators import views as indicators
    from tracker.jobs import views as jobs
    from tracker.plans import views as plans
    from tracker.plans import archive_views  # noqa: F401  (archive and restore routes on the plans blueprint)
    from tracker.reminders import views as reminders
    from tracker.risks import views as risks
    from tracker.selfeval import views as selfeval
    from tracker.workbooks import views as workbooks
    from tracker.scrutiny import views as scrutiny
    from tracker.evidence import views as evidence
    from tracker.outbox import views as outbox

    for feature in (home, auth, plans, admin, api, selfeval, indicators, committees, workbooks, imports, reminders,
                    jobs, risks):
        app.register_blueprint(feature.bp)
    for feature in (scrutiny, evidence, outbox):
        app.register_blueprint(feature.bp)
    sso.init_app(app)  # single sign-on providers (SSO_PROVIDERS)
    app.register_blueprint(sso_views.bp)


def register_commands(app: Flask) -> None:
    from tracker.auth.cli import users_cli
    from tracker.backup.cli import backup_command, db_cli, restore_command
    from tracker.demo.cli import demo_command
    from tracker.frameworks.cli import frameworks_cli
    from tracker.imports.cli import import_command
    from tracker.indicators.cli import indicators_cli
    from tracker.jobs.cli import worker_command
    from tracker.outbox.cli import outbox_cli
    from tracker.plans.cli import plans_cli
    from tracker.reminders.cli import reminders_cli
    from tracker.risks.cli import risks_cli
    from tracker.scheduler.cli import scheduler_command
    from tracker.workbooks.cli import workbook_cli
    from tracker.scrutiny.cli import audit_cli

    for command in (plans_cli, frameworks_cli, demo_command, users_cli, indicators_cli, workbook_cli,
                    import_command, reminders_cli, scheduler_command, outbox_cli, backup_command, restore_command,
                    db_cli, worker_command, risks_cli):  # db_cli replaces Flask-Migrate's `db` (its `downgrade` refuses to delete data)
        _refusals_as_cli_errors(command)
        app.cli.add_command(command)
    for command in (audit_cli,):
        _refusals_as_cli_errors(command)
        app.cli.add_command(command)


def _refusals_as_cli_errors(command) -> None:
    """A service's refusal in any command is its plain message and exit status 1, as at every other door."""
    import click

    for sub in getattr(command, "commands", {}).values():
        _refusals_as_cli_errors(sub)
    callback = command.callback
    if callback is None or getattr(callback, "_translates_refusals", False):
        return

    @functools.wraps(callback)
    def translated(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except RuleError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None

    translated._translates_refusals = True
    command.callback = translated


def register_error_handlers(app: Flask) -> None:
    messages = {
        400: ("Bad request", "The request could not be understood. Go back and try again."),
        403: ("You cannot do that", "Your account does not allow this. Ask a plan manager if you need it."),
        404: ("Page not found", "The page or record does not exist, or you do not have access to it."),
        405: ("Not allowed", "That kind of request is not allowed here."),
        409: ("Changed by someone else", "The record changed while you were editing it."),
        413: ("File too large", "The file is larger than the upload limit."),
        429: ("Too many attempts", "Wait a few minutes and try again."),
        500: ("Something went wrong", "The error has been logged. Try again in a few minutes."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        title, sentence = messages.get(code, ("Error", "Something went wrong."))
        description = getattr(error, "description", None)
        # A description given with abort() is shown; werkzeug's stock descriptions are not.
        if code in (400, 403, 409, 413) and description and description != type(error).description:
            sentence = description
        if code == 500:
            db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error=sentence), code
        return render_template("errors/error.html", code=code, title=title, sentence=sentence), code

    for code in messages:
        app.register_error_handler(code, render_error)
    app.register_error_handler(RuleError, _refused)
    app.register_error_handler(Exception, _unhandled(render_error))


def _refused(error: RuleError):
    """A service's refusal no view translated: its own status and plain message, never a 500."""
    db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(error.as_json()), error.status
    titles = {403: "You cannot do that", 404: "Page not found", 409: "Changed by someone else"}
    return render_template("errors/error.html", code=error.status, title=titles.get(error.status, "Not saved"),
                           sentence=error.message), error.status


def _unhandled(render_error):
    from werkzeug.exceptions import HTTPException, InternalServerError

    def handler(error):
        if isinstance(error, HTTPException):
            return render_error(error)
        logging.getLogger("tracker").error("Unhandled error", exc_info=error)
        return render_error(InternalServerError())

    return handler


def nav_items_for(user) -> list[tuple[str, str]]:
    """The navigation entries this user may see, as (endpoint, label)."""
    items = []
    for endpoint, label, *predicate in nav_items():
        if predicate and not (user.is_authenticated and predicate[0](user)):
            continue
        items.append((endpoint, label))
    return items


def register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from tracker import numbers, rag, timeutil

    @app.context_processor
    def inject_globals():
        return {"nav_items": nav_items_for(current_user), "Status": rag.Status, "today": timeutil.today()}

    app.jinja_env.filters["long_date"] = timeutil.long_date
    app.jinja_env.filters["local_date"] = timeutil.local_date
    app.jinja_env.filters["file_size"] = numbers.file_size
