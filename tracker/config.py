"""Configuration from environment variables; a test's configuration is explicit (`defaults()` + its dict)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised at start-up when production configuration is unsafe or incomplete."""


def _bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    value = (os.environ if environ is None else environ).get(name)
    return int(value) if value not in (None, "") else default


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "tracker.db")


def from_environment(instance_path: str, environ: Mapping[str, str] | None = None) -> dict:
    """Everything configurable, read once from `environ` (the process environment unless given)."""
    environ = os.environ if environ is None else environ
    get = environ.get

    def flag(name: str, default: bool = False) -> bool:
        return _bool(name, default, environ)

    def number(name: str, default: int) -> int:
        return _int(name, default, environ)

    env = get("TRACKER_ENV", "development")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": get("DATABASE_URL") or default_database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": get("BASE_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": flag("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": flag("SESSION_COOKIE_SECURE", env == "production"),
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        "MAX_CONTENT_LENGTH": number("MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,
        # E-mail: the names Flask-Mail uses.
        "MAIL_SERVER": get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": number("MAIL_PORT", 25),
        "MAIL_USE_TLS": flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": get("MAIL_USERNAME"),
        "MAIL_PASSWORD": get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": get("MAIL_DEFAULT_SENDER", "tracker@localhost"),
        "MAIL_REPLY_TO": get("MAIL_REPLY_TO"),
        "MAIL_SUPPRESS_SEND": flag("MAIL_SUPPRESS_SEND"),
        "MAIL_TIMEOUT": number("MAIL_TIMEOUT", 30),
        # Reminders (tracker.reminders) and the scheduler process (tracker.scheduler).
        "REMINDER_DUE_SOON_DAYS": number("REMINDER_DUE_SOON_DAYS", 14),
        "REMINDER_UPDATE_REQUEST_DAYS": number("REMINDER_UPDATE_REQUEST_DAYS", 21),
        "REMINDER_ESCALATION_DAYS": number("REMINDER_ESCALATION_DAYS", 28),
        "SCHEDULER_STALE_AFTER_MINUTES": number("SCHEDULER_STALE_AFTER_MINUTES", 10),
        "DEMO_PASSWORD": get("DEMO_PASSWORD", "demo-password-2026"),
        # Behind a reverse proxy (nginx) that sets X-Forwarded-For and X-Forwarded-Proto.
        "TRUST_PROXY": flag("TRUST_PROXY"),
        # Sign-in limits: this many failures within the window locks sign-in for the lock time.
        "SIGN_IN_MAX_FAILURES_PER_EMAIL": number("SIGN_IN_MAX_FAILURES_PER_EMAIL", 5),
        "SIGN_IN_MAX_FAILURES_PER_IP": number("SIGN_IN_MAX_FAILURES_PER_IP", 20),
        "SIGN_IN_WINDOW_MINUTES": number("SIGN_IN_WINDOW_MINUTES", 15),
        "SIGN_IN_LOCK_MINUTES": number("SIGN_IN_LOCK_MINUTES", 15),
        "PASSWORD_RESET_HOURS": number("PASSWORD_RESET_HOURS", 1),
    }


def defaults(instance_path: str) -> dict:
    """The configuration with no environment variable set: the base of a test's explicit configuration,
    so that a developer's exported TRUST_PROXY, SIGN_IN_* or MAIL_* never changes what a test tests."""
    return from_environment(instance_path, environ={})


def environment_names() -> frozenset[str]:
    """Every environment variable the configuration reads (tests remove them for subprocesses)."""
    seen: set[str] = set()

    class Recorder(dict):
        def get(self, key, default=None):
            seen.add(key)
            return default

    from_environment("/nonexistent", environ=Recorder())
    return frozenset(seen | {"ALLOW_SQLITE_IN_PRODUCTION", "TRACKER_INSTANCE_PATH"})


def check(config: dict) -> None:
    """Fail fast on settings that would be unsafe in production."""
    if config.get("TESTING"):
        return
    if config.get("ENV_NAME") == "production":
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (TRACKER_ENV=production).")
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not _bool("ALLOW_SQLITE_IN_PRODUCTION"):
            raise ConfigError("Use PostgreSQL in production: set DATABASE_URL=postgresql+psycopg://...")
