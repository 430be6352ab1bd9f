"""Configuration from environment variables, with overrides for tests."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised at start-up when production configuration is unsafe or incomplete."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "tracker.db")


def from_environment(instance_path: str) -> dict:
    """Everything configurable, read once from the environment."""
    env = os.environ.get("TRACKER_ENV", "development")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,
        # E-mail: the names Flask-Mail uses.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "tracker@localhost"),
        "MAIL_REPLY_TO": os.environ.get("MAIL_REPLY_TO"),
        "MAIL_SUPPRESS_SEND": _bool("MAIL_SUPPRESS_SEND"),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30),
        # Reminders (tracker.reminders) and the scheduler process (tracker.scheduler).
        "REMINDER_DUE_SOON_DAYS": _int("REMINDER_DUE_SOON_DAYS", 14),
        "REMINDER_UPDATE_REQUEST_DAYS": _int("REMINDER_UPDATE_REQUEST_DAYS", 21),
        "REMINDER_ESCALATION_DAYS": _int("REMINDER_ESCALATION_DAYS", 28),
        "SCHEDULER_STALE_AFTER_MINUTES": _int("SCHEDULER_STALE_AFTER_MINUTES", 10),
        "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD", "demo-password-2026"),
        # Behind a reverse proxy (nginx) that sets X-Forwarded-For and X-Forwarded-Proto.
        "TRUST_PROXY": _bool("TRUST_PROXY"),
        # Sign-in limits: this many failures within the window locks sign-in for the lock time.
        "SIGN_IN_MAX_FAILURES_PER_EMAIL": _int("SIGN_IN_MAX_FAILURES_PER_EMAIL", 5),
        # The client address alone: high, so that a shared council or NHS address is not locked for everyone.
        "SIGN_IN_MAX_FAILURES_PER_IP": _int("SIGN_IN_MAX_FAILURES_PER_IP", 200),
        "SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL": _int("SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL", 5),
        "SIGN_IN_WINDOW_MINUTES": _int("SIGN_IN_WINDOW_MINUTES", 15),
        "SIGN_IN_LOCK_MINUTES": _int("SIGN_IN_LOCK_MINUTES", 15),
        "PASSWORD_RESET_HOURS": _int("PASSWORD_RESET_HOURS", 1),
        # Sessions end after this long unused, and this long after signing in (tracker.auth.sessions);
        # a remember-me cookie lasts no longer than a session.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 8 * 60),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 7 * 24),
        "REMEMBER_COOKIE_DURATION": dt.timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 7 * 24)),
    }


def check(config: dict) -> None:
    """Fail fast on settings that would be unsafe in production."""
    if config.get("TESTING"):
        return
    if config.get("ENV_NAME") == "production":
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (TRACKER_ENV=production).")
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not _bool("ALLOW_SQLITE_IN_PRODUCTION"):
            raise ConfigError("Use PostgreSQL in production: set DATABASE_URL=postgresql+psycopg://...")
