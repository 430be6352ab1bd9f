"""What each test starts from: every table empty and every id counting from 1 again (tests/conftest.py)."""
from sqlalchemy import func, select

from tests import conftest, factories
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action


def _fresh_ids():
    partnership = factories.partnership()
    plan = factories.plan(partnership)
    action = factories.action(plan)
    db.session.commit()
    return partnership.id, plan.id, action.id


def test_a_few_rows_are_deleted_and_the_ids_start_again(app):
    _fresh_ids()
    _fresh_ids()
    conftest._empty_all_tables()
    assert all(db.session.scalar(select(func.count()).select_from(table)) == 0
               for table in db.metadata.sorted_tables)
    assert _fresh_ids() == (1, 1, 1)


def test_many_rows_are_truncated_and_the_ids_start_again(app, monkeypatch):
    monkeypatch.setattr(conftest, "_DELETE_AT_MOST", 2)
    for _ in range(4):
        _fresh_ids()
    assert db.session.scalar(select(func.count(Partnership.id))) == 4
    conftest._empty_all_tables()
    assert db.session.scalar(select(func.count(Action.id))) == 0
    assert _fresh_ids() == (1, 1, 1)
