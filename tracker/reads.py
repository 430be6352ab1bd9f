"""Pages that only read, served outside a database transaction, and refused any write.

A cached page like the plan page or My actions runs two single-statement reads (who is signed in, the stamp
of its cached parts). Inside a transaction each such request cost PostgreSQL two more round trips (BEGIN,
and ROLLBACK when the request ended), and psycopg forgets its prepared statements at every ROLLBACK, so the
same two statements were parsed and planned afresh on every request. With the connection in autocommit for
the view, each statement reads what it read before: PostgreSQL runs at READ COMMITTED, where every statement
of a transaction takes its own snapshot of the data committed when it starts, so the transaction added no
consistency (and SQLite's driver never began one before a read).

`read_only` marks such a view. Anything that would write during it is refused before it reaches the
database: an ORM flush, or any statement on the view's connection other than a SELECT, raises
`WriteInReadOnlyView` (a server error: a bug in the view, never a user's mistake), so no write can ever be
committed half-way by the autocommit connection. When the view ends, so does the session's autocommit
transaction (the connection goes back to the pool as a transactional one).
"""
from __future__ import annotations

import functools

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker.extensions import db

#: The key in Session.info holding the read-only view's (autocommit) session transaction.
READ_ONLY = "read_only_transaction"
#: The execution option marking the view's connection (it lasts as long as that checkout of the connection).
READ_ONLY_OPTION = "tracker_read_only"


class WriteInReadOnlyView(RuntimeError):
    """A view marked read_only tried to write."""


def read_only(view):
    """Run the view with the session's connection in autocommit, refusing every write.

    Put it above `login_required`, so that loading the signed-in user is the first statement on that
    connection. A session that is already in a transaction, or holds unsaved changes (something before the
    view used it), is left as it is: the view then runs in that transaction, as any other view does."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        session = db.session()
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            return view(*args, **kwargs)
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT", READ_ONLY_OPTION: True})
        transaction = session.info[READ_ONLY] = session.get_transaction()
        try:
            return view(*args, **kwargs)
        finally:
            if session.info.pop(READ_ONLY, None) is transaction and session.get_transaction() is transaction:
                # Nothing to undo (nothing was written); the connection returns to the pool, which puts it
                # back in transactional mode, and the next use of this session begins a real transaction.
                session.rollback()

    return wrapped


def _read_only(session: Session) -> bool:
    transaction = session.info.get(READ_ONLY)
    return transaction is not None and session.get_transaction() is transaction


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _context, _instances) -> None:
    if _read_only(session):
        raise WriteInReadOnlyView("a read-only view tried to save changes")


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_statement(connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    """Core statements too (session.connection().execute, text()): only SELECTs leave a read-only view."""
    if connection.get_execution_options().get(READ_ONLY_OPTION) and not statement.lstrip()[:6].upper() == "SELECT":
        raise WriteInReadOnlyView("a read-only view tried to write")
