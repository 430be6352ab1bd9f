"""Thousands of rows in one statement: an executemany on the driver's cursor (SQLite) or a COPY (PostgreSQL).

For the bulk writers (an imported plan's actions, links, outcomes and audit events), which would otherwise
spend most of their time in SQLAlchemy's per-row parameter building. Inside `overlapped_copies` the COPYs run
on a worker thread while the caller builds the next rows (PostgreSQL's row-by-row foreign-key checks at the end
of each COPY are most of an import's time there).
"""
from __future__ import annotations

import contextlib
import gc
import io
import queue
import threading

from sqlalchemy import event

from tracker.extensions import db


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector paused while bulk work runs (a big import, a workbook's snapshot read).

    Such work makes hundreds of thousands of small objects (rows, tuples, dataclasses) that live until it ends,
    none of them in a reference cycle; as they pile up the collector walks the whole heap again and again for
    nothing (a quarter of an import's time, a third of a snapshot read's). Nested uses are one pause: it is
    switched on again when the outermost ends, and the one collection then owed happens as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class BulkInsert:
    """Rows of `table` with the columns `names` (given in the table's column order), written in one
    executemany on the driver's cursor (SQLite) or one COPY (PostgreSQL), in the session's transaction.

    Every column with a Python-side default must be given: nothing fills it in here. The caller converts
    each value with its column type's bind processor (`processor(name)`, the dialect's, as SQLAlchemy would
    apply it), once per distinct value where values repeat (the same timestamp, status or due date in
    thousands of rows): SQLAlchemy's per-row parameter building, most of the cost of thousands of rows, is
    skipped.
    """

    def __init__(self, table, names):
        self.table, self.names = table, list(names)
        self.connection = db.session.connection()
        self.dialect = self.connection.dialect
        self.sql, self.positional = _statement(table, tuple(self.names), self.dialect)
        if self.dialect.name == "postgresql":
            self.copy_sql = _copy_statement(self.connection, table, self.names)

    def processor(self, name: str, *, identity: bool = True):
        """The bind processor of column `name` on this dialect (the identity when it has none, unless
        `identity` is false: then None)."""
        process = self.table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process if process is not None or not identity else _unchanged

    def takes_json_text(self, name: str) -> bool:
        """Whether JSON column `name` may be given text json.dumps wrote (with its defaults) instead of the
        value: when the dialect serialises with json.dumps (no serialiser configured; on PostgreSQL psycopg
        writes json.dumps' text and COPY reads text), the stored text is the same."""
        if self.dialect._json_serializer is not None:
            return False
        if self.dialect.name == "postgresql":
            import json

            from psycopg.adapt import PyFormat
            from psycopg.types.json import Json

            dumper = self.connection.connection.dbapi_connection.adapters.get_dumper(Json, PyFormat.TEXT)
            return getattr(dumper, "_dumps", None) is json.dumps
        return self.dialect.name == "sqlite"

    def write(self, values: list) -> None:
        """The rows, each a tuple of converted values in `names` order."""
        if not values:
            return
        if self.dialect.name == "postgresql":
            sql = self.copy_sql
            copies = self.connection.info.get(_COPIES)
            if copies is not None:
                copies.put(sql, copies.text(values))
            else:
                _copy_rows(self.connection.connection.dbapi_connection, sql, values)
        elif self.positional:
            self.connection.exec_driver_sql(self.sql, values)
        else:
            self.connection.exec_driver_sql(self.sql, [dict(zip(self.names, v)) for v in values])


def _unchanged(value):
    return value


#: (table, columns, dialect class, parameter style) -> the INSERT's SQL and whether its parameters are positional:
#: each bulk insert compiled once per process, not once per batch.
_COMPILED: dict[tuple, tuple[str, bool]] = {}


def _statement(table, names: tuple[str, ...], dialect) -> tuple[str, bool]:
    key = (table, names, type(dialect), dialect.paramstyle)
    found = _COMPILED.get(key)
    if found is None:
        order = [column.key for column in table.c if column.key in names]
        if order != list(names):
            raise ValueError(f"give the columns of {table.name} in the table's order: {order}")
        defaulted = [column.key for column in table.c if column.default is not None and column.key not in names]
        if defaulted:  # SQLAlchemy would fill these in; a bulk insert leaves them to the caller
            raise ValueError(f"give a value for every column of {table.name} with a default: {defaulted}")
        compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
        if compiled.positional and list(compiled.positiontup) != list(names):
            raise ValueError(f"unexpected parameter order {compiled.positiontup}")
        found = _COMPILED[key] = (str(compiled), compiled.positional)
    return found


def _copy_statement(connection, table, names: list[str]) -> str:
    preparer = connection.dialect.identifier_preparer
    return (f"COPY {preparer.format_table(table)} "
            f"({', '.join(preparer.quote(table.c[name].name) for name in names)}) FROM STDIN")


def _copy_rows(driver_connection, sql: str, values) -> None:
    """On PostgreSQL, the rows through COPY ... FROM STDIN on the session's own connection (its transaction):
    one stream instead of a statement or round trip per row. `values` is rows, or the COPY's text (bytes)."""
    cursor = driver_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            if isinstance(values, bytes):
                copy.write(values)
            else:
                for row in values:
                    copy.write_row(row)
    finally:
        cursor.close()


# -- COPYs overlapped with the work that builds the next rows -------------------------------------------------

#: The key of a connection's running `overlapped_copies` in its `info`.
_COPIES = "tracker.bulk.copies"
#: COPYs waiting their turn at most (each a batch's rows): the builder waits rather than hold more in memory.
QUEUED_COPIES = 8


@contextlib.contextmanager
def overlapped_copies():
    """Inside, on PostgreSQL, `BulkInsert.write`'s COPYs run one after another on a worker thread, in the order
    written, on the session's own connection and transaction, while the caller goes on building the next rows.

    A COPY's server side (index upkeep, and the foreign-key checks PostgreSQL runs row by row when the COPY
    ends) then overlaps with our own work instead of adding to it: while the server works, the worker waits in
    the driver, which releases the GIL. Every other statement on the connection first waits for the COPYs
    queued before it (so reads see them, and statements keep their order), and so does leaving the block,
    which raises the first COPY's error, if any, as a plain write would have. Elsewhere (SQLite) it does
    nothing. Nested uses are one."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or _COPIES in connection.info:
        yield
        return
    copies = _Copies(connection.connection.dbapi_connection)
    connection.info[_COPIES] = copies

    def wait_first(*_args):
        copies.wait()

    event.listen(connection, "before_cursor_execute", wait_first)
    try:
        yield
    except BaseException:
        copies.stop()
        raise
    else:
        copies.stop()
        copies.raise_error()
    finally:
        event.remove(connection, "before_cursor_execute", wait_first)
        del connection.info[_COPIES]


class _Copies:
    """The worker thread of `overlapped_copies` and its queue of (COPY statement, rows)."""

    def __init__(self, driver_connection):
        self.driver_connection = driver_connection
        self.cursor = driver_connection.cursor()  # formats rows; never runs a statement
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUED_COPIES)
        self.error: BaseException | None = None
        self.raised = False
        self.thread = threading.Thread(target=self._run, name="tracker-bulk-copies", daemon=True)
        self.thread.start()

    def text(self, values) -> bytes:
        """The rows as COPY's text, formatted in the caller's thread by the driver's own Copy object and
        adapters (as a COPY on the connection formats them; psycopg documents a Copy made by hand with a
        FileWriter for this), so that the worker thread only sends bytes and hardly ever waits for the GIL
        while the caller computes. Making the Copy reads only the connection's client encoding (which a COPY
        never changes); the formatting cursor runs no statement."""
        from psycopg.copy import Copy, FileWriter

        buffer = io.BytesIO()
        with Copy(self.cursor, writer=FileWriter(buffer)) as copy:
            for row in values:
                copy.write_row(row)
        return buffer.getvalue()

    def put(self, sql: str, data: bytes) -> None:
        self.raise_error()
        self.queue.put((sql, data))

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            try:
                if job is None:
                    return
                if self.error is None:  # after a failed COPY the transaction is lost: the rest are dropped
                    _copy_rows(self.driver_connection, *job)
            except BaseException as error:  # handed to the caller's thread (raise_error)
                self.error = error
            finally:
                self.queue.task_done()

    def wait(self) -> None:
        """Until every queued COPY has ended; raises the first one's error."""
        self.queue.join()
        self.raise_error()

    def raise_error(self) -> None:
        """The failed COPY's error, once (the later COPYs were dropped: the transaction is lost)."""
        if self.error is not None and not self.raised:
            self.raised = True
            raise self.error

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.cursor.close()
