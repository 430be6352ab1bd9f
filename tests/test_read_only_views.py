"""Views marked tracker.reads.read_only (the plan page, My actions) read outside a transaction and never write.

Their connection is in autocommit for the view (no BEGIN or ROLLBACK round trips, and psycopg keeps its
prepared statements), goes back to the pool as a transactional connection, and any write during the view is
refused before it reaches the database, so nothing can be committed half-way.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from tests import factories
from tests.conftest import executions_of, sign_in_client
from tests.page_clients import client_as  # noqa: F401  (fixture: each request in its own app context)
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.reads import WriteInReadOnlyView, read_only


@pytest.fixture
def plan_world(app):
    partnership = factories.partnership()
    manager = factories.user(partnership, Role.PLAN_MANAGER)
    plan = factories.plan(partnership, manager=manager)
    factories.action(plan, lead=manager)
    db.session.commit()
    return plan.id, manager


def isolation_levels(app, client, url: str) -> list[str | None]:
    """The isolation level of the connection each statement of one GET ran on."""
    return executions_of(app, client, url, lambda conn, _statement: conn.get_execution_options().get(
        "isolation_level"))[0]


@pytest.mark.parametrize("cached", [False, True], ids=["built", "cached"])
def test_the_plan_page_and_my_actions_read_outside_a_transaction(app, client_as, plan_world, cached):
    plan_id, manager = plan_world
    client = client_as(manager)
    for url in (f"/plans/{plan_id}", "/my-actions"):
        if cached:
            client.get(url)
        levels = isolation_levels(app, client, url)
        assert levels and set(levels) == {"AUTOCOMMIT"}, url


def test_the_connection_goes_back_to_the_pool_transactional(app, client_as, plan_world):
    plan_id, manager = plan_world
    manager_id, name, client = manager.id, manager.name, client_as(manager)
    db.session.remove()
    assert client.get(f"/plans/{plan_id}").status_code == 200
    with db.engine.connect() as connection:  # the pool gives back the connection the page used (one in use)
        assert connection.get_isolation_level() != "AUTOCOMMIT"
        driver = connection.connection.dbapi_connection
        if db.engine.dialect.name == "postgresql":
            assert driver.autocommit is False
        else:
            assert driver.isolation_level is not None  # pysqlite's autocommit is isolation_level None
    # And a write that fails is still undone as a whole.
    user = db.session.get(User, manager_id)
    user.name = "Renamed"
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(User.name).where(User.id == manager_id)) == name


WRITES = {
    "flush": lambda user_id: (setattr(db.session.get(User, user_id), "name", "Written"), db.session.flush()),
    "autoflush": lambda user_id: (setattr(db.session.get(User, user_id), "name", "Written"),
                                  db.session.scalar(select(User.id).limit(1))),
    "core": lambda user_id: db.session.execute(update(User).where(User.id == user_id).values(name="Written")),
    "connection": lambda user_id: db.session.connection().execute(
        text("UPDATE users SET name = 'Written' WHERE id = :id"), {"id": user_id}),
    "sql": lambda user_id: db.session.connection().exec_driver_sql(
        f"  update users set name = 'Written' where id = {int(user_id)}"),
}


def _mounted(app, view, name: str):
    """The view at /test-read-only/<user_id>, and (the id, a client signed in as) a new person called `name`."""
    app.add_url_rule("/test-read-only/<int:user_id>", "test_read_only", view)
    with app.app_context():
        user = factories.user(name=name)
        db.session.commit()
        user_id, client = user.id, sign_in_client(app, user)
        db.session.remove()
    return user_id, client


@pytest.mark.parametrize("how", sorted(WRITES))
def test_a_write_in_a_read_only_view_is_refused_and_nothing_is_saved(make_app, how):
    app = make_app()
    refused = []

    @read_only
    def writes(user_id: int):
        try:
            WRITES[how](user_id)
        except WriteInReadOnlyView:
            refused.append(how)
            raise
        return "written"

    user_id, client = _mounted(app, writes, "Unchanged")
    response = client.get(f"/test-read-only/{user_id}")
    assert response.status_code == 500 and refused == [how]
    with app.app_context():
        assert db.session.scalar(select(User.name).where(User.id == user_id)) == "Unchanged"
        db.session.remove()


def test_a_read_only_view_reads_as_usual(make_app):
    app = make_app()

    @read_only
    def reads(user_id: int):
        return db.session.scalar(select(User.name).where(User.id == user_id)) + " " + str(
            db.session.execute(text("select 1")).scalar())

    user_id, client = _mounted(app, reads, "Reader")
    assert client.get(f"/test-read-only/{user_id}").text == "Reader 1"
