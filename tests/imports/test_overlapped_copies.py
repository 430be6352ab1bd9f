"""tracker.bulk.overlapped_copies: on PostgreSQL an import's COPYs run on a worker thread while the next rows
are built. Whatever the thread does, the session sees what a plain write would give: every statement waits
for the COPYs written before it, the COPYs keep their order, and a COPY's error reaches the caller (at the next
statement or at the end of the block) with nothing written after it. On SQLite the block changes nothing."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests import factories
from tracker import bulk
from tracker.audit.models import AuditEvent
from tracker.bulk import BulkInsert, overlapped_copies
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action, action_organisations
from tracker.timeutil import utcnow


def _events(insert: BulkInsert, n: int, first: int = 0) -> list[tuple]:
    at = insert.processor("at")(utcnow())
    return [(at, None, None, None, "test", first + i, "copy", f"event {first + i}", None, None) for i in range(n)]


def _event_insert() -> BulkInsert:
    return BulkInsert(AuditEvent.__table__, ("at", "user_id", "partnership_id", "plan_id", "entity_type",
                                             "entity_id", "verb", "summary", "before", "after"))


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_statements_see_the_copies_written_before_them_in_order(app):
    with overlapped_copies():
        insert = _event_insert()
        for batch in range(5):
            insert.write(_events(insert, 300, batch * 300))
            # A read in the block waits for the COPYs queued before it.
            assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == (batch + 1) * 300
        insert.write(_events(insert, 300, 1500))
        assert (bulk._COPIES in db.session.connection().info) is _postgresql()
    assert bulk._COPIES not in db.session.connection().info
    entity_ids = db.session.scalars(select(AuditEvent.entity_id).order_by(AuditEvent.id)).all()
    assert entity_ids == list(range(1800))  # in the order written
    db.session.commit()
    assert not [t for t in threading.enumerate() if t.name == "tracker-bulk-copies"]


def test_the_block_waits_for_its_copies_and_nests(app):
    with overlapped_copies(), overlapped_copies():
        insert = _event_insert()
        insert.write(_events(insert, 2000))
    # No statement ran in the block: leaving it waited for the COPY.
    connection = db.session.connection()
    assert connection.scalar(select(func.count()).select_from(AuditEvent)) == 2000


def test_a_failed_copy_reaches_the_caller_and_its_thread_ends(app):
    with pytest.raises(Exception) as raised:
        with overlapped_copies():
            insert = _event_insert()
            insert.write(_events(insert, 10))
            # An organisation that does not exist: its foreign key check fails when this COPY ends.
            BulkInsert(action_organisations, ("action_id", "organisation_id")).write([(2**31 - 1, 2**31 - 1)])
            insert.write(_events(insert, 10, 10))
            db.session.scalar(select(func.count()).select_from(Action))
    assert "foreign key" in str(raised.value).lower()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert not [t for t in threading.enumerate() if t.name == "tracker-bulk-copies"]


def test_an_error_in_the_block_still_waits_for_the_copies_before_it(app):
    with pytest.raises(RuntimeError), overlapped_copies():
        insert = _event_insert()
        insert.write(_events(insert, 500))
        raise RuntimeError("a row was refused")
    # What was written before the error is there, as with plain writes (the caller rolls back).
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 500
    db.session.rollback()


def test_new_action_ids_are_reserved_in_ascending_order_on_postgresql(app):
    partnership = factories.partnership("Anytown")
    plan = factories.plan(partnership)
    known = plans.NewActions(plan, 3)
    if not _postgresql():
        assert not known.reserving and known.ids == []
        return
    first = known.take_ids(2)
    more = known.take_ids(4)  # one left, three more fetched
    ids = first + more
    assert ids == sorted(ids) and len(set(ids)) == 6
