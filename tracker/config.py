"""Configuration from environment variables; a test's configuration is explicit (`defaults()` + its dict)."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import click

#: SECRET_KEY values that are somebody's placeholder, not a secret.
PLACEHOLDER_SECRET_KEYS = {
    "...", "change-me", "changeme", "change_me", "replace-me", "secret", "secret-key", "secret_key",
    "secretkey", "dev", "development", "default", "test", "tests", "password", "xxx",
}
MIN_SECRET_KEY_LENGTH = 32
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class ConfigError(click.ClickException, RuntimeError):
    """Raised at start-up when production configuration is unsafe or incomplete: one problem per line.

    A click exception, so `tracker ...` (and `flask --app tracker ...`) print each line and exit 1 without
    a traceback; a RuntimeError, so gunicorn does the same for an app it loads in its master process."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def show(self, file=None) -> None:
        for problem in self.problems:
            click.echo(f"Error: {problem}", file=file, err=True)


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


def engine_options(config: Mapping) -> dict:
    """The connection pool of each process (a gunicorn sync worker uses one connection at a time).

    No ping before every checkout (pool_pre_ping is a round trip per request on PostgreSQL): a connection
    idle for DATABASE_PING_AFTER_SECONDS is pinged instead when it is next taken (tracker.extensions
    ping_idle_connections), and every connection is replaced after DATABASE_POOL_RECYCLE_SECONDS. A server
    database keeps DATABASE_POOL_SIZE connections per process and opens (then closes) up to
    DATABASE_MAX_OVERFLOW more when a process needs them; SQLite's own pools take no sizes."""
    options = {"pool_pre_ping": False, "pool_recycle": config["DATABASE_POOL_RECYCLE_SECONDS"]}
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        options.update(pool_size=config["DATABASE_POOL_SIZE"], max_overflow=config["DATABASE_MAX_OVERFLOW"],
                       pool_use_lifo=True)  # the most recently used first: the others idle, then are recycled
    return options


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
        "DATABASE_POOL_SIZE": number("DATABASE_POOL_SIZE", 2),
        "DATABASE_MAX_OVERFLOW": number("DATABASE_MAX_OVERFLOW", 10),
        "DATABASE_POOL_RECYCLE_SECONDS": number("DATABASE_POOL_RECYCLE_SECONDS", 3600),
        "DATABASE_PING_AFTER_SECONDS": number("DATABASE_PING_AFTER_SECONDS", 10),
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
        # Seconds to wait to connect, for the greeting and for each command's reply (short: a server that is
        # down is noticed quickly) and, after a message's final dot, for the server's verdict (RFC 5321 4.5.3.2.6
        # says 10 minutes: giving up sooner makes a slow relay's message "uncertain").
        "MAIL_TIMEOUT": number("MAIL_TIMEOUT", 30),
        "MAIL_DATA_TIMEOUT": number("MAIL_DATA_TIMEOUT", 600),
        # Reminders (tracker.reminders) and the scheduler process (tracker.scheduler).
        "REMINDER_DUE_SOON_DAYS": number("REMINDER_DUE_SOON_DAYS", 14),
        "REMINDER_UPDATE_REQUEST_DAYS": number("REMINDER_UPDATE_REQUEST_DAYS", 21),
        "REMINDER_ESCALATION_DAYS": number("REMINDER_ESCALATION_DAYS", 28),
        "SCHEDULER_STALE_AFTER_MINUTES": number("SCHEDULER_STALE_AFTER_MINUTES", 10),
        # Backups (tracker.backup): where `tracker backup` and the nightly SQLite backup write, and how many
        # days of nightly backups the scheduler keeps.
        "BACKUP_DIR": get("BACKUP_DIR"),
        "BACKUP_KEEP_DAYS": number("BACKUP_KEEP_DAYS", 14),
        # Background jobs (tracker.jobs): the queue the worker process reads. Default: a SQLite file in the
        # instance folder (one server); JOBS_REDIS_URL for several servers. JOB_RESULTS_DIR keeps results.
        "JOBS_REDIS_URL": get("JOBS_REDIS_URL"),
        "JOBS_QUEUE_FILE": get("JOBS_QUEUE_FILE"),
        "JOB_RESULTS_DIR": get("JOB_RESULTS_DIR"),
        "JOBS_IMMEDIATE": flag("JOBS_IMMEDIATE"),
        # Committee papers (workbook, PDF, covering report, an issued set) for more actions than this are built
        # as a background job with a progress page instead of in the request.
        "JOBS_PAPERS_THRESHOLD": number("JOBS_PAPERS_THRESHOLD", 5000),
        # The PDF paper takes far longer per action (page layout): a PDF, or a set (which holds one), for
        # more actions than this is built in the background too (about 16 ms of CPU an action).
        "JOBS_PDF_THRESHOLD": number("JOBS_PDF_THRESHOLD", 500),
        # An import of a plan with more rows than this previews and commits as a background job.
        "JOBS_IMPORT_THRESHOLD": number("JOBS_IMPORT_THRESHOLD", 2000),
        # Evidence files (tracker.evidence.storage): empty for <instance folder>/evidence, a directory, or
        # s3://bucket/prefix; the largest file accepted.
        "EVIDENCE_STORAGE": get("EVIDENCE_STORAGE", ""),
        "EVIDENCE_S3_ENDPOINT_URL": get("EVIDENCE_S3_ENDPOINT_URL"),
        "EVIDENCE_MAX_BYTES": number("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024),
        # Committee papers (tracker.papers): the partnership's own covering-report template (.docx), and who
        # the report is by.
        "PAPERS_REPORT_TEMPLATE": get("PAPERS_REPORT_TEMPLATE"),
        "PAPERS_REPORT_BY": get("PAPERS_REPORT_BY", "Chief Officer"),
        "DEMO_PASSWORD": get("DEMO_PASSWORD", "demo-password-2026"),
        # Behind a reverse proxy (nginx) that sets X-Forwarded-For and X-Forwarded-Proto.
        "TRUST_PROXY": flag("TRUST_PROXY"),
        "ALLOW_SQLITE_IN_PRODUCTION": flag("ALLOW_SQLITE_IN_PRODUCTION"),
        # Sign-in limits: this many failures within the window locks sign-in for the lock time.
        "SIGN_IN_MAX_FAILURES_PER_EMAIL": number("SIGN_IN_MAX_FAILURES_PER_EMAIL", 5),
        # The client address alone: high, so that a shared council or NHS address is not locked for everyone.
        "SIGN_IN_MAX_FAILURES_PER_IP": number("SIGN_IN_MAX_FAILURES_PER_IP", 200),
        "SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL": number("SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL", 5),
        "SIGN_IN_WINDOW_MINUTES": number("SIGN_IN_WINDOW_MINUTES", 15),
        "SIGN_IN_LOCK_MINUTES": number("SIGN_IN_LOCK_MINUTES", 15),
        "PASSWORD_RESET_HOURS": number("PASSWORD_RESET_HOURS", 1),
        # Sessions end after this long unused, and this long after signing in (tracker.auth.sessions);
        # a remember-me cookie lasts no longer than a session.
        "SESSION_IDLE_MINUTES": number("SESSION_IDLE_MINUTES", 8 * 60),
        "SESSION_ABSOLUTE_HOURS": number("SESSION_ABSOLUTE_HOURS", 7 * 24),
        "REMEMBER_COOKIE_DURATION": dt.timedelta(hours=number("SESSION_ABSOLUTE_HOURS", 7 * 24)),
        # Single sign-on with OpenID Connect providers (tracker.auth.sso): SSO_PROVIDERS names them, and
        # SSO_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _DISPLAY_NAME, _DOMAINS, _EMAILS_VERIFIED describe each.
        "SSO_PROVIDERS": sso_providers(environ),
        "SSO_TIMEOUT_SECONDS": number("SSO_TIMEOUT_SECONDS", 10),
    }


#: What each SSO provider's environment variables set: SSO_<NAME>_<SUFFIX> -> the provider's key.
SSO_SETTINGS = {"ISSUER": "issuer", "CLIENT_ID": "client_id", "CLIENT_SECRET": "client_secret",
                "DISPLAY_NAME": "name", "DOMAINS": "domains", "EMAILS_VERIFIED": "emails_verified"}


def sso_providers(environ: Mapping[str, str]) -> dict[str, dict]:
    """The OpenID Connect providers named by SSO_PROVIDERS ("entra,google"), each from its SSO_<NAME>_* variables.

    A provider's key is its name in lower case (it appears in the callback address /auth/sso/<key>/callback).
    `domains` is the e-mail domains it may sign in (empty: any); `emails_verified` says the provider vouches
    for every address it sends even without an email_verified claim (a single-tenant Entra ID)."""
    names = [n.strip() for n in (environ.get("SSO_PROVIDERS") or "").split(",") if n.strip()]
    providers = {}
    for name in names:
        prefix = f"SSO_{name.upper()}_"
        domains = environ.get(prefix + "DOMAINS") or ""
        providers[name.lower()] = {
            "issuer": (environ.get(prefix + "ISSUER") or "").strip(),
            "client_id": (environ.get(prefix + "CLIENT_ID") or "").strip(),
            "client_secret": environ.get(prefix + "CLIENT_SECRET") or "",
            "name": (environ.get(prefix + "DISPLAY_NAME") or name).strip(),
            "domains": [d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()],
            "emails_verified": _bool(prefix + "EMAILS_VERIFIED", False, environ),
        }
    return providers


def sso_problems(providers: Mapping[str, Mapping], production: bool) -> list[str]:
    """What is wrong with the SSO providers' settings, one sentence each."""
    import re

    found = []
    for key, provider in providers.items():
        prefix = f"SSO_{key.upper()}_"
        if not re.fullmatch(r"[a-z0-9]{1,30}", key):
            found.append(f"SSO_PROVIDERS names {key!r}: use letters and digits only (at most 30), e.g. entra,google")
            continue
        for setting in ("issuer", "client_id", "client_secret"):
            if not provider.get(setting):
                found.append(f"{prefix}{setting.upper()} is not set: single sign-on with {provider.get('name') or key} "
                             f"needs it (see the README's single sign-on section)")
        issuer = urlsplit(provider.get("issuer") or "")
        if provider.get("issuer") and (not issuer.netloc or issuer.scheme not in ("https", "http")
                                       or (production and issuer.scheme != "https")):
            found.append(f"{prefix}ISSUER must be the provider's https:// issuer address, "
                         f"e.g. https://login.microsoftonline.com/<tenant id>/v2.0 (it is {provider['issuer']!r})")
    return found


def problems(config: dict) -> list[str]:
    """What is unsafe or incomplete for production, one sentence each (none outside production or in tests).

    GUNICORN_WORKERS is set only in gunicorn's master (tracker.gunicorn_config), to say how many workers
    would share an SQLite file."""
    if config.get("TESTING") or config.get("ENV_NAME") != "production":
        return []
    found = []
    key = config.get("SECRET_KEY") or ""
    if not key.strip():
        found.append(f"SECRET_KEY is not set: production (TRACKER_ENV=production) needs a long random one, "
                     f"e.g. from {MAKE_A_KEY}")
    elif key.strip().lower() in PLACEHOLDER_SECRET_KEYS:
        found.append(f"SECRET_KEY is the placeholder {key!r}: set a long random one, e.g. from {MAKE_A_KEY}")
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        found.append(f"SECRET_KEY is too short ({len(key)} characters): use at least {MIN_SECRET_KEY_LENGTH} "
                     f"random characters, e.g. from {MAKE_A_KEY}")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not config.get("ALLOW_SQLITE_IN_PRODUCTION"):
        workers = config.get("GUNICORN_WORKERS") or 0
        shared = f" shared by {workers} gunicorn workers" if workers > 1 else ""
        found.append(f"DATABASE_URL is an SQLite file{shared}: use PostgreSQL in production "
                     f"(DATABASE_URL=postgresql+psycopg://...), or set ALLOW_SQLITE_IN_PRODUCTION=1 to run on SQLite")
    base_url = config.get("BASE_URL") or ""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc:
        found.append(f"BASE_URL must be the public https:// address in production, "
                     f"e.g. BASE_URL=https://tracker.hscp.example.org (it is {base_url!r})")
    found += sso_problems(config.get("SSO_PROVIDERS") or {}, production=True)
    return found


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
    sso = {name for name in os.environ if name.startswith("SSO_")}  # SSO_<NAME>_* depend on SSO_PROVIDERS
    return frozenset(seen | sso | {"ALLOW_SQLITE_IN_PRODUCTION", "TRACKER_INSTANCE_PATH"})


def check(config: dict) -> None:
    """Fail fast on settings that would be unsafe in production: a ConfigError listing every problem."""
    found = problems(config)
    if found:
        raise ConfigError(found)


def check_database(url: str, timeout_seconds: int = 5) -> None:
    """Connect once and run SELECT 1, or raise ConfigError saying which database could not be reached and why."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    shown = "named by DATABASE_URL"
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        connect_args = {"connect_timeout": timeout_seconds} if parsed.get_backend_name() == "postgresql" else {}
        engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as error:  # any failure here means the app cannot start
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        raise ConfigError(f"Cannot reach the database {shown}: {reason}") from None
