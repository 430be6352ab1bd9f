"""gunicorn settings for the tracker: `gunicorn --config python:tracker.gunicorn_config ...`.

Before any worker starts, gunicorn's master builds the app once (which checks the settings) and, in
production, connects to the database. A problem is one line per problem on stderr ("Error: ...") and exit
status 1, instead of a traceback from every worker.
"""
from __future__ import annotations

wsgi_app = "tracker:create_app()"


def on_starting(server) -> None:
    from tracker import create_app
    from tracker.config import ConfigError, check_database

    try:
        app = create_app({"GUNICORN_WORKERS": server.cfg.workers})
        if app.config.get("ENV_NAME") == "production":
            check_database(app.config["SQLALCHEMY_DATABASE_URI"])
    except ConfigError as error:
        error.show()
        raise SystemExit(1) from None
    # The workers build their own app; nothing of this one (no connection) is kept.
    from tracker.extensions import db

    with app.app_context():
        db.engine.dispose()
