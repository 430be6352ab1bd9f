"""Each distinct URL rule's builder functions compiled once per test process, not once per app.

The suite builds an app for every test (about 4,000 a pass), and most of `create_app`'s time (0.1 s) is
Werkzeug compiling two builder functions for each of the app's URL rules (an AST made and compiled per rule),
the same functions for every app. A builder is a plain function of the rule it is bound to (`.self`), its
arguments and query; what it does is decided by the rule's text, its parsed parts (`_trace`) and its defaults'
names. So one compiled for an earlier app's identical rule is exactly what a fresh compile would give
(tests/test_url_builders.py compares them for every rule of the app). Rules with a default for a part of their
own path are compiled as usual (the default is folded into the function).

Tests only: production builds one app per process. If Werkzeug's shape changes, nothing is cached.
"""
from __future__ import annotations

from werkzeug.routing.rules import Rule

_ORIGINAL = getattr(Rule, "_compile_builder", None)
_CACHE: dict[tuple, object] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple | None:
    defaults = rule.defaults or {}
    trace = tuple(rule._trace)
    if any(dynamic and part in defaults for dynamic, part in trace):
        return None
    return rule.rule, trace, tuple(str(name) for name in defaults), bool(append_unknown)


def _compile_builder(self: Rule, append_unknown: bool = True):
    key = _key(self, append_unknown)
    if key is None:
        return _ORIGINAL(self, append_unknown)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = _ORIGINAL(self, append_unknown)
    return found


def install() -> bool:
    """Share builders between apps; whether it could (Werkzeug still has the method and the rules' trace)."""
    if _ORIGINAL is None or "_trace" not in Rule.compile.__code__.co_names:
        return False
    Rule._compile_builder = _compile_builder
    return True


def fresh_builder(rule: Rule, append_unknown: bool):
    """The builder Werkzeug itself compiles for `rule` (for the test that compares)."""
    return _ORIGINAL(rule, append_unknown)
