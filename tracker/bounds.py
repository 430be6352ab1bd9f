"""Limits on what a request can carry, checked before any view runs.

- Ids in URLs: Werkzeug's `int` converter accepts any number of digits; an id beyond the database's integer
  range would reach the query and fail there (PostgreSQL refuses it with an error, SQLite answers). The converter here
  matches only ids in range, so anything larger is a plain 404.
- JSON bodies: nested deeper than `MAX_JSON_DEPTH` they are refused with 400 before parsing, so a body of
  100,000 brackets cannot exhaust the parser's recursion.
"""
from __future__ import annotations

import json

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from tracker.text import ID_MAX

MAX_JSON_DEPTH = 32


def _up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 0..limit (no leading zeros beyond one digit)."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        rest = len(digits) - i - 1
        if int(digit) > (1 if i == 0 else 0):
            low = "1" if i == 0 else "0"
            options.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` limited to the range of the database's id columns (up to 2**31 - 1, tracker.text.ID_MAX).

    The limit is in the converter's regular expression, not only in `to_python`: a URL with a larger number
    then matches no rule at all and is a 404, whatever the method (a converter refusing after the match
    would leave Werkzeug answering 405 where a GET-only rule shares the path).
    """

    regex = _up_to(ID_MAX)

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=ID_MAX if max is None else max,
                         signed=signed)

    def to_python(self, value: str):
        return super().to_python(value)


def json_depth_exceeds(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit` (a linear scan, no parsing)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested beyond MAX_JSON_DEPTH (and any that exhaust recursion)."""

    def loads(self, s, **kwargs):
        if json_depth_exceeds(s):
            raise BadRequest(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise BadRequest("The JSON is nested too deeply.") from None


def init_app(app: Flask) -> None:
    """Call before blueprints are registered: their rules are compiled with the converter then in place."""
    app.url_map.converters["int"] = IdConverter
    app.json_provider_class = BoundedJSONProvider
    app.json = BoundedJSONProvider(app)
