"""The shared URL builders (tests/url_builders.py) are exactly what Werkzeug compiles afresh, for every rule."""
from flask import url_for

from tests import url_builders
from tests.conftest import URL_BUILDERS_SHARED


def _same(shared, fresh) -> bool:
    return shared.__code__ == fresh.__code__ and shared.__defaults__ == fresh.__defaults__


def test_the_builders_are_shared_between_apps(make_app):
    assert URL_BUILDERS_SHARED, "Werkzeug changed shape: tests/url_builders.py no longer applies (the suite is slower)"
    first, second = make_app(), make_app()
    rules = {(rule.endpoint, rule.rule): rule for rule in first.url_map.iter_rules()}
    for rule in second.url_map.iter_rules():
        earlier = rules[rule.endpoint, rule.rule]
        assert rule._build.__func__ is earlier._build.__func__ or rule.defaults, rule.rule
        assert rule._build_unknown.__func__ is earlier._build_unknown.__func__ or rule.defaults, rule.rule


def test_every_rules_builders_are_what_werkzeug_compiles(app):
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        assert _same(rule._build.__func__, url_builders.fresh_builder(rule, False)), rule.rule
        assert _same(rule._build_unknown.__func__, url_builders.fresh_builder(rule, True)), rule.rule


def test_links_are_built_as_before(app):
    with app.test_request_context():
        assert url_for("plans.action", action_id=7).endswith("/actions/7")
        assert url_for("plans.action", action_id=7, tab="history").endswith("/actions/7?tab=history")
        assert url_for("static", filename="a b.css").endswith("/static/a%20b.css")
        assert url_for("static", filename="x.css", v="1").endswith("/static/x.css?v=1")
