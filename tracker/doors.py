"""The one commit point of the web views: run a service call, commit once, or show its refusal.

Every write a page makes goes through `commit_or_refuse`: the service decides (raising `RuleError` with a
field and a plain message), this commits on success and, on a refusal, rolls back and puts the message
beside the form field it names (or at the top of the form, or in a flash message when there is no form).
A form with a one-time token (tracker.once) spends it in the same transaction: a replay saves nothing.
A concurrent edit (the service's `Conflict` on "version", or SQLAlchemy's StaleDataError from the version
counter) and a uniqueness clash that slipped past the service's own check are refusals too.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from tracker import once
from tracker.errors import Conflict, RuleError
from tracker.extensions import db

T = TypeVar("T")

CONCURRENT_EDIT = ("Someone else changed this while you were working on it. Nothing was saved: check the "
                   "record as it is now and try again.")
DUPLICATE = "That clashes with a record saved at the same moment. Nothing was saved: try again."


@dataclass
class Outcome(Generic[T]):
    """What `commit_or_refuse` did: `ok` with the service's `value`, or the `error` it refused with."""

    ok: bool
    value: T | None = None
    error: RuleError | None = None

    @property
    def concurrent(self) -> bool:
        return isinstance(self.error, Conflict) and self.error.field == "version"

    @property
    def status(self) -> int:
        return 200 if self.ok else self.error.status

    def __iter__(self):  # saved, value = commit_or_refuse(...)
        return iter((self.ok, self.value))


def refusal(error: Exception) -> RuleError | None:
    """The RuleError a write failed with, translating the database's own refusals; None if it is not one."""
    if isinstance(error, RuleError):
        return error
    if isinstance(error, StaleDataError):
        return Conflict(CONCURRENT_EDIT, "version")
    if isinstance(error, IntegrityError):
        return Conflict(DUPLICATE)
    return None


def commit_or_refuse(write: Callable[[], T], form=None, *, fields: Mapping[str, str] | None = None,
                     concurrent_message: str | None = None, once_form=None) -> Outcome[T]:
    """Run `write` and commit; on a refusal roll back and show it. `fields` maps service fields to form fields.

    `once_form` is the form whose one-time token is spent when the refusal goes to a flash message instead."""
    token = once.posted_token(form if form is not None else once_form)
    if token is not None and once.spent(token) is not None:
        once.replay(token)  # the same form saved a second time: nothing new, show what was saved
    try:
        value = write()
        if token is not None:
            once.spend(token)
        db.session.commit()
        return Outcome(True, value)
    except (RuleError, StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        if token is not None and isinstance(exc, IntegrityError) and once.spent(token) is not None:
            once.replay(token)  # a double click: the other request saved it a moment ago
        error = refusal(exc)
    if isinstance(error, Conflict) and error.field == "version":
        flash(concurrent_message or CONCURRENT_EDIT, "error")
    else:
        show(form, error, fields)
    return Outcome(False, None, error)


def show(form, error: RuleError, fields: Mapping[str, str] | None = None) -> None:
    """Put a refusal beside the field it is about, at the top of the form, or in a flash message (each of them,
    for several refusals of one write: RuleErrors)."""
    for each in getattr(error, "errors", None) or [error]:
        _show_one(form, each, fields)


def _show_one(form, error: RuleError, fields: Mapping[str, str] | None = None) -> None:
    name = (fields or {}).get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if form is not None and name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    elif form is not None:
        form.form_errors.append(error.message)
    else:
        flash(error.message, "error")
