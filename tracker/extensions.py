"""Flask extensions, created unbound and initialised by the app factory."""
from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Constraint names are fixed so that migrations work on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()


def ping_idle_connections(engine, after_seconds: float) -> None:
    """Ping a pooled connection when it is taken after idling `after_seconds` or more, instead of before
    every checkout (SQLAlchemy's pool_pre_ping: one more round trip per request on PostgreSQL).

    A connection the database closed meanwhile (a restart, an idle timeout) is then replaced before the
    request uses it: raising DisconnectionError makes the pool discard it and take or open another. Busy
    connections are not pinged; one broken while in use is invalidated by SQLAlchemy as it fails.
    """
    import time

    from sqlalchemy import event, exc

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < after_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # leave no transaction open behind the ping
        except Exception as error:  # any failure: this connection is gone
            raise exc.DisconnectionError(str(error)) from error
