"""The one refusal every service raises, and the doors translate.

A service that will not make a change raises `RuleError(message, field=None)` (or one of the subclasses
below): `message` is a plain-English sentence for the person who tried, `field` names the input it is about
(the form field, the JSON key, the spreadsheet column) so each door can put the message in the right place.
Web forms show it beside the field, the API answers `status` with `{"error": message, "field": field}`, the
Excel return lists it as a problem with its sheet, row and cell, the CLI prints it and exits non-zero.
"""
from __future__ import annotations


class RuleError(ValueError):
    """A write refused: nothing was changed. `status` is the HTTP status a door answers with."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict:
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


class NotAllowed(RuleError):
    """The person may not make this change (403)."""

    status = 403


class NotFound(RuleError):
    """The record does not exist, or the person may not know it does (404)."""

    status = 404


class Conflict(RuleError):
    """The change clashes with the record as it now stands: a concurrent edit, a duplicate (409)."""

    status = 409


class RuleErrors(RuleError):
    """Several refusals of one write, each about its own field (`errors`), so a form shows them all at once.
    Elsewhere it reads as the first: its message, field and status."""

    def __init__(self, errors: list[RuleError]):
        super().__init__(errors[0].message, errors[0].field)
        self.status = errors[0].status
        self.errors = list(errors)


class FieldChecks:
    """Collects the refusals of independent field checks: `with checks.field(): ...` for each, then `done()`
    raises the one refusal as it is, several as RuleErrors, none: nothing. A refusal of the whole write
    (NotAllowed, NotFound) is raised at once."""

    def __init__(self):
        self.errors: list[RuleError] = []

    def field(self):
        return _Check(self)

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise RuleErrors(self.errors)


class _Check:
    def __init__(self, checks: FieldChecks):
        self.checks = checks

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback) -> bool:
        if error is None or not isinstance(error, RuleError) or isinstance(error, (NotAllowed, NotFound)):
            return False
        self.checks.errors.extend(getattr(error, "errors", None) or [error])  # (a RuleErrors: its refusals)
        return True
