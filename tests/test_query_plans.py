"""The plan page, My actions and the reminder digest read the actions table through its indexes.

Every statement those three run is captured as sent (an engine event), then explained by the database:
SQLite's EXPLAIN QUERY PLAN must not show a full `SCAN` of actions or progress_updates, and PostgreSQL, told to
avoid sequential scans, must still find an index for every one (a `Seq Scan` there means no index fits; a
weaker check, since any index of the table may then be walked whole: SQLite's is the sharper one). At a
few hundred rows either database might choose a scan anyway; so the question asked is "is there an index
this query can use?", which holds at national scale too (bench/ measures the time).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, insert

from tests import factories
from tracker.extensions import db
from tracker.plans.models import Action, ProgressUpdate
from tracker.rag import Status

BIG_TABLES = ("actions", "progress_updates")


@pytest.fixture
def busy_world(world):
    """Many plans and actions besides the world's own, so that a missing index would matter."""
    partnership = factories.partnership("Busy IJB")
    lead = factories.user(partnership, email="busy.lead@example.scot")
    for n in range(4):
        plan = factories.plan(partnership, f"Busy plan {n}")
        db.session.flush()
        db.session.execute(insert(Action), [
            {"plan_id": plan.id, "ref": f"B{n}.{i}", "text": f"Busy action {i}", "timescale_text": "March 2024",
             "due_end": dt.date(2024, 3, 31), "status": Status.ON_TRACK, "lead_officer_id": lead.id}
            for i in range(150)])
    db.session.commit()
    return world


def _captured(engine, run) -> list[tuple[str, object]]:
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT") and any(
                re.search(rf"\bFROM {t}\b|\bJOIN {t}\b", statement) for t in BIG_TABLES):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def _plan_of(statement: str, parameters) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    return "\n".join(row[0] for row in rows)


def _full_scans(plan: str, dialect: str) -> list[str]:
    found = []
    for table in BIG_TABLES:
        if dialect == "sqlite":
            found += [line for line in plan.splitlines()
                      if re.search(rf"\bSCAN {table}\b", line) and "USING" not in line]
        else:
            found += [line for line in plan.splitlines() if re.search(rf"Seq Scan on {table}\b", line)]
    return found


def _assert_indexed(statements) -> None:
    assert statements, "nothing captured"
    dialect = db.session.connection().dialect.name
    problems = []
    for statement, parameters in statements:
        scans = _full_scans(_plan_of(statement, parameters), dialect)
        if scans:
            problems.append(f"{' '.join(statement.split())[:300]}\n    -> {scans}")
    db.session.rollback()
    assert not problems, "full scans:\n" + "\n".join(problems)


def test_the_plan_page_uses_indexes(busy_world, client_as, app):
    client = client_as(busy_world.manager)
    factories.action(busy_world.plan, lead=busy_world.officer, ref="X1")
    db.session.commit()
    statements = _captured(db.engine, lambda: client.get(f"/plans/{busy_world.plan.id}"))
    _assert_indexed(statements)


def test_my_actions_uses_indexes(busy_world, client_as, app):
    client = client_as(busy_world.officer)
    statements = _captured(db.engine, lambda: client.get("/my-actions"))
    _assert_indexed(statements)


def test_the_digest_uses_indexes(busy_world, app):
    from tracker.reminders import jobs

    db.session.add(ProgressUpdate(action_id=busy_world.officer_action.id, author_id=busy_world.officer.id,
                                  status=Status.ON_TRACK, narrative="An update"))
    db.session.commit()
    statements = _captured(db.engine, lambda: jobs.run(dt.date(2026, 12, 1), dry_run=True))
    _assert_indexed(statements)
