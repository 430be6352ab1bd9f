"""The domain model, the MSG framework, the demo data and the command line."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.plans import services as plans
from tracker.plans.models import Action, AppendOnlyError, Plan, ProgressUpdate
from tracker.rag import Status
from tracker.selfeval.models import Rating, SelfEvaluationRound


def test_msg_framework_has_six_key_features_and_25_proposals(app):
    framework = frameworks.load_msg()
    assert [t.number for t in framework.themes] == ["1", "2", "3", "4", "5", "6"]
    items = frameworks.items_by_number(framework)
    assert len(items) == 25
    assert framework.levels == ["Not yet established", "Partly established", "Established", "Exemplary"]
    not_local = sorted(n for n, item in items.items() if not item.local_completion)
    assert not_local == ["3.2", "3.3", "5.3"]
    assert items["1.1"].title.startswith("All leadership development will be focused on shared")
    assert all(len(item.descriptors) == 4 for item in items.values())
    assert items["1.1"].descriptors[0] == "Lack of clear leadership and support for integration."


def test_loading_a_framework_twice_changes_nothing(app):
    frameworks.load_msg()
    db.session.commit()
    frameworks.load_msg()
    db.session.commit()
    assert db.session.scalar(select(func.count(Framework.id))) == 1
    assert db.session.scalar(select(func.count(Theme.id))) == 6
    assert db.session.scalar(select(func.count(FrameworkItem.id))) == 25


def test_action_links_to_several_proposals_and_organisations(app):
    home = factories.partnership()
    plan = factories.plan(home)
    items = frameworks.items_by_number(factories.msg())
    orgs = [factories.organisation(home, "Dundee Carers Centre"), factories.organisation(home, "Lead Scotland")]
    action = plans.create_action(plan=plan, text="Meet S95 officers", timescale="Autumn 2022",
                                 items=[items["2.1"], items["2.2"]], organisations=orgs)
    db.session.commit()
    assert [i.number for i in action.items] == ["2.1", "2.2"]
    assert [o.name for o in action.organisations] == ["Dundee Carers Centre", "Lead Scotland"]
    assert action.timescale_text == "Autumn 2022"
    assert action.due_end == dt.date(2022, 11, 30)
    assert action.timescale_kind == "dated"
    assert action.ref == "A1"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "action", AuditEvent.entity_id == action.id))
    assert event.verb == "create" and event.after["items"] == ["2.1", "2.2"]


def test_progress_updates_are_append_only_and_revise_timescales(app):
    home = factories.partnership()
    officer = factories.user(home)
    action = factories.action(factories.plan(home), lead=officer, timescale="March 2023")
    update = plans.record_progress(action, author_id=officer.id, status=Status.AT_RISK, narrative="Recruitment delay",
                                   revised_timescale="Q3 2023/24", revision_reason="Post vacant")
    db.session.commit()
    assert action.due_end == dt.date(2023, 12, 31)
    assert update.revised_due_end == dt.date(2023, 12, 31)
    assert action.status is Status.AT_RISK and action.last_update_at is not None
    update.narrative = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ProgressUpdate, update.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_revised_timescale_needs_a_reason(app):
    home = factories.partnership()
    action = factories.action(factories.plan(home))
    with pytest.raises(ValueError, match="reason"):
        plans.record_progress(action, author_id=None, status=Status.ON_TRACK, narrative="Delayed",
                              revised_timescale="June 2031")


def test_stale_edit_is_refused(app):
    home = factories.partnership()
    action = factories.action(factories.plan(home))
    db.session.commit()
    seen = action.version
    plans.edit_action(action, expected_version=seen, actor_id=None, text="First edit")
    db.session.commit()
    with pytest.raises(plans.ConcurrentEditError):
        plans.edit_action(action, expected_version=seen, actor_id=None, text="Second edit")
    assert action.text == "First edit"


def test_version_counter_refuses_concurrent_flush(app, make_app):
    home = factories.partnership()
    action = factories.action(factories.plan(home))
    db.session.commit()
    action_id = action.id
    # A second session loads the same row and saves first.
    other = db.session.registry()  # noqa: F841 (same scoped session: use a fresh Session instead)
    from sqlalchemy.orm import Session

    with Session(db.engine) as second:
        twin = second.get(Action, action_id)
        twin.text = "saved by someone else"
        second.commit()
    action.text = "my stale save"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()


def test_demo_loads_glasgow_and_dundee_and_is_idempotent(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "officer@demo.scot" in result.output

    def counts():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Plan, Action, Rating, SelfEvaluationRound, ProgressUpdate, FrameworkItem)}

    first = counts()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert counts() == first

    glasgow = db.session.scalar(select(Plan).where(Plan.name == "MSG improvement action plan 2019"))
    dundee = db.session.scalar(select(Plan).where(Plan.name == "A Caring Dundee 2: Carers Delivery Plan 2022"))
    assert len(dundee.actions) == 50
    assert len(dundee.framework.themes) == 4
    # The same action text under several proposals is one action linked to all.
    shared = [a for a in glasgow.actions if len(a.items) > 1]
    assert {tuple(i.number for i in a.items) for a in shared} >= {("2.1", "2.2"), ("6.1", "6.2", "6.3")}
    assert len(glasgow.actions) == 17
    round_ = db.session.scalar(select(SelfEvaluationRound))
    ratings = {r.item.number: r.level_label for r in round_.ratings}
    assert len(ratings) == 25
    assert ratings["1.1"] == "Established" and ratings["1.2"] == "Partly established"
    assert ratings["2.3"] == "Not yet established" and ratings["2.5"] == "Exemplary"
    assert ratings["3.2"] is None
    timescales = {a.ref: (a.timescale_text, a.due_end) for a in dundee.actions}
    # The document's timescale, moved by as many years as the demo moves the plan's agreement (see
    # tracker.demo.services.demo_dates), unless the demo's history revised it, with a reason.
    from tracker.demo.services import DUNDEE_PLAN_AGREED, demo_dates, shift_years
    moved = shift_years("Autumn 2022", demo_dates().years_since(DUNDEE_PLAN_AGREED))
    action = next(a for a in dundee.actions if a.ref == "1.1.3")
    assert timescales["1.1.3"][0] == moved or any(u.revision_reason for u in action.updates)
    assert timescales["2.1.1"][0] == "Development/improvement activity"
    lead_orgs = {a.ref: [o.name for o in a.organisations] for a in dundee.actions}
    assert lead_orgs["1.2.2"] == ["Carers Trust", "Carseview", "Penumbra"]


def test_plans_list_prints_id_partnership_and_name(app, runner):
    home = factories.partnership("Dundee")
    plan = factories.plan(home, "Carers delivery plan")
    db.session.commit()
    result = runner.invoke(args=["plans", "list"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines() == [f"{plan.id}\tDundee\tCarers delivery plan"]


def test_frameworks_load_command(app, runner):
    result = runner.invoke(args=["frameworks", "load"])
    assert result.exit_code == 0, result.output
    assert "6 themes, 25 items" in result.output


def test_production_needs_a_secret_key(monkeypatch):
    from tracker import create_app

    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@localhost/x")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_column_defaults_are_computed_per_row(app, time_machine):
    """Mutation it catches: `default=utcnow()` (evaluated once, at import) instead of `default=utcnow`:
    both actions would then carry the same stamp, from before either was made."""
    first, second = (dt.datetime(2030, 1, 6, 9, 0, tzinfo=dt.timezone.utc),
                     dt.datetime(2030, 1, 6, 9, 5, tzinfo=dt.timezone.utc))
    home = factories.partnership()
    plan = factories.plan(home)
    time_machine.move_to(first, tick=False)
    a = factories.action(plan)
    time_machine.move_to(second, tick=False)
    b = factories.action(plan)
    db.session.commit()
    db.session.expire_all()
    assert (a.created_at, b.created_at) == (first, second)
    assert a.created_at.tzinfo is not None


def test_a_test_configuration_ignores_the_callers_environment(monkeypatch, tmp_path):
    """Mutation it catches: `load_config` merging `from_environment()` under a TESTING config, as it did:
    a developer's exported TRUST_PROXY, SIGN_IN_* or MAIL_* then changed what the tests test."""
    from tracker import create_app

    hostile = {"TRUST_PROXY": "1", "MAIL_SERVER": "192.0.2.1", "MAIL_USERNAME": "someone",
               "SIGN_IN_MAX_FAILURES_PER_EMAIL": "1", "TRACKER_ENV": "production"}
    for name, value in hostile.items():
        monkeypatch.setenv(name, value)
    database = f"sqlite:///{tmp_path}/t.db"
    tested = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database}).config
    assert (tested["TRUST_PROXY"], tested["MAIL_SERVER"], tested["MAIL_USERNAME"],
            tested["SIGN_IN_MAX_FAILURES_PER_EMAIL"], tested["ENV_NAME"]) == (False, "localhost", None, 5,
                                                                             "development")
    monkeypatch.setenv("SECRET_KEY", "production-secret-" + "k" * 32)
    monkeypatch.setenv("BASE_URL", "https://tracker.example.scot")
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("ALLOW_SQLITE_IN_PRODUCTION", "1")
    production = create_app().config  # no test configuration: the environment is read as before
    assert (production["TRUST_PROXY"], production["MAIL_SERVER"], production["SIGN_IN_MAX_FAILURES_PER_EMAIL"],
            production["ENV_NAME"]) == (True, "192.0.2.1", 1, "production")
