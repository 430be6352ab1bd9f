"""Thousands of rows in one statement: an executemany on the driver's cursor (SQLite) or a COPY (PostgreSQL).

For the bulk writers (an imported plan's actions, links, outcomes and audit events), which would otherwise
spend most of their time in SQLAlchemy's per-row parameter building.
"""
from __future__ import annotations

import contextlib
import gc

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
            _copy_rows(self.connection, self.table, self.names, values)
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


def _copy_rows(connection, table, names: list[str], values: list) -> None:
    """On PostgreSQL, the rows through COPY ... FROM STDIN on the session's own connection (its transaction):
    one stream instead of a statement or round trip per row."""
    preparer = connection.dialect.identifier_preparer
    sql = (f"COPY {preparer.format_table(table)} "
           f"({', '.join(preparer.quote(table.c[name].name) for name in names)}) FROM STDIN")
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
    finally:
        cursor.close()
