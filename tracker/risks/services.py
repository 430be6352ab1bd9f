"""Decisions about risks. Services flush, never commit; the caller commits once.

Scores are never overwritten: adding a risk records its first scored review, and every later review, closing
or tolerating appends another (who, when, why, and the inherent, residual and target levels then).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from tracker import text as texts
from tracker.audit import services as audit
from tracker.auth.models import User
from tracker.cells import looks_like_formula
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan
from tracker.risks import scoring
from tracker.risks.models import Risk, RiskMatrix, RiskReview, RiskStatus

UNCHANGED = object()
Pair = tuple[int, int]


# --------------------------------------------------------------------------- reading
def matrix_for(partnership_id: int) -> scoring.Matrix:
    return matrices_for([partnership_id])[partnership_id]


def matrices_for(partnership_ids: Iterable[int]) -> dict[int, scoring.Matrix]:
    """{partnership id: its matrix} in one query; the default 5 x 5 for partnerships without one."""
    ids = set(partnership_ids)
    found = {i: scoring.DEFAULT for i in ids}
    if ids:
        for row in db.session.scalars(select(RiskMatrix).where(RiskMatrix.partnership_id.in_(ids))):
            found[row.partnership_id] = row.matrix()
    return found


def latest_reviews(risk_ids: Iterable[int], *, until: dt.datetime | None = None) -> dict[int, RiskReview]:
    """{risk id: its latest review (up to `until`)} in one query."""
    ids = list(set(risk_ids))
    if not ids:
        return {}
    last = select(func.max(RiskReview.id)).where(RiskReview.risk_id.in_(ids))
    if until is not None:
        last = last.where(RiskReview.reviewed_at <= until)
    last = last.group_by(RiskReview.risk_id)
    return {r.risk_id: r for r in db.session.scalars(select(RiskReview).where(RiskReview.id.in_(last)))}


def history(risk: Risk) -> list[RiskReview]:
    """Every review of the risk, newest first."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(select(RiskReview).where(RiskReview.risk_id == risk.id)
                                   .options(joinedload(RiskReview.reviewed_by)).order_by(RiskReview.id.desc())))


# --------------------------------------------------------------------------- checks
def _text_line(value, field: str, label: str, max_length: int, required: bool = False) -> str:
    value = texts.line(value, field=field, label=label, max_length=max_length, required=required) or ""
    _no_formula(value, field, label)
    return value


def _text_block(value, field: str, label: str) -> str:
    value = texts.paragraphs(value, field=field, label=label, max_length=5_000) or ""
    _no_formula(value, field, label)
    return value


def _no_formula(value: str, field: str, label: str) -> None:
    if looks_like_formula(value):
        raise RuleError(f"{label} starts with '{value[0]}', which a spreadsheet would run as a formula. "
                        "Remove that character or start with a word.", field)


def _categories(value) -> str:
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    value = _text_line(value, "categories", "The categories", 500)
    parts = [c.strip() for c in value.split(",") if c.strip()]
    return ", ".join(dict.fromkeys(parts))


def _scores(matrix: scoring.Matrix, inherent: Pair, residual: Pair, target: Pair) -> dict:
    values = {}
    for what, pair in (("inherent", inherent), ("residual", residual), ("target", target)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise RuleError(f"Give the {what} likelihood and impact.", f"{what}_likelihood")
        values[what] = matrix.check(pair[0], pair[1], what=what)
        values[f"{what}_likelihood"], values[f"{what}_impact"] = pair
    if values["residual"] > values["inherent"]:
        raise RuleError(f"The residual score ({values['residual']}) cannot be higher than the inherent score "
                        f"({values['inherent']}): mitigation lowers a risk.", "residual_likelihood")
    if values["target"] > values["inherent"]:
        raise RuleError(f"The target score ({values['target']}) cannot be higher than the inherent score "
                        f"({values['inherent']}).", "target_likelihood")
    return {k: v for k, v in values.items() if k not in ("inherent", "residual", "target")}


def _owner(partnership_id: int, owner_id) -> int | None:
    if owner_id in (None, 0, ""):
        return None
    owner = db.session.get(User, owner_id) if isinstance(owner_id, int) and texts.in_id_range(owner_id) else None
    if owner is None or not owner.active or owner.role_in(partnership_id) is None:
        raise RuleError("The owner must have an account in this partnership.", "owner_id")
    return owner.id


def _plans(partnership_id: int, plans: Sequence[Plan]) -> list[Plan]:
    if any(p.partnership_id != partnership_id for p in plans):
        raise RuleError("A risk can only be on its own partnership's plans.", "plans")
    return list(dict.fromkeys(plans))


def _actions(partnership_id: int, actions: Sequence[Action]) -> list[Action]:
    if any(a.plan.partnership_id != partnership_id for a in actions):
        raise RuleError("Mitigating actions must be the partnership's own actions.", "actions")
    return list(dict.fromkeys(actions))


def _review_date(value) -> dt.date | None:
    return texts.date_in_range(value, field="review_date", label="The review date")


def _actor(actor: User | None, actor_id: int | None, allowed: bool, message: str) -> int | None:
    if actor is None:
        return actor_id
    if not allowed:
        raise NotAllowed(message)
    return actor.id


def snapshot(risk: Risk) -> dict:
    return {"reference": risk.reference, "title": risk.title, "description": risk.description,
            "categories": risk.categories, "mitigations": risk.mitigations, "recommendation": risk.recommendation,
            "owner_id": risk.owner_id, "status": risk.status, "review_date": risk.review_date,
            "plans": sorted(p.id for p in risk.plans), "actions": sorted(a.id for a in risk.actions)}


def _score_snapshot(review: RiskReview) -> dict:
    return {"inherent": review.inherent.value, "residual": review.residual.value, "target": review.target.value,
            "status": review.status, "reason": review.reason}


# --------------------------------------------------------------------------- writes
def create_risk(partnership: Partnership, *, reference: str, title: str, inherent: Pair, residual: Pair,
                target: Pair, description: str = "", categories="", mitigations: str = "",
                recommendation: str = "", owner_id: int | None = None, review_date: dt.date | None = None,
                plans: Sequence[Plan] = (), actions: Sequence[Action] = (), status: RiskStatus = RiskStatus.OPEN,
                reason: str = "Added to the register", actor: User | None = None,
                actor_id: int | None = None) -> Risk:
    """A new risk with its first scored review."""
    from tracker.risks.permissions import can_add_risk

    actor_id = _actor(actor, actor_id, actor is not None and can_add_risk(actor, partnership.id),
                      "Only the partnership's plan managers add risks.")
    reference = _text_line(reference, "reference", "The reference", 40, required=True)
    if db.session.scalar(select(Risk.id).where(Risk.partnership_id == partnership.id,
                                               Risk.reference == reference)) is not None:
        raise Conflict(f"The register already has a risk {reference}.", "reference")
    matrix = matrix_for(partnership.id)
    scores = _scores(matrix, inherent, residual, target)
    risk = Risk(partnership_id=partnership.id, reference=reference,
                title=_text_line(title, "title", "The title", 300, required=True),
                description=_text_block(description, "description", "The description"),
                categories=_categories(categories),
                mitigations=_text_block(mitigations, "mitigations", "The mitigating actions"),
                recommendation=_text_block(recommendation, "recommendation", "The approval recommendation"),
                owner_id=_owner(partnership.id, owner_id), status=RiskStatus(status),
                review_date=_review_date(review_date),
                plans=_plans(partnership.id, plans), actions=_actions(partnership.id, actions))
    db.session.add(risk)
    db.session.flush()
    review = RiskReview(risk_id=risk.id, reviewed_by_id=actor_id, status=risk.status,
                        reason=_text_block(reason, "reason", "The reason"), **scores)
    db.session.add(review)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="risk", entity_id=risk.id, verb="create",
                 partnership_id=partnership.id, after={**snapshot(risk), **_score_snapshot(review)},
                 summary=f"Added risk {risk.reference}: {risk.title}")
    return risk


def edit_risk(risk: Risk, *, actor: User | None = None, actor_id: int | None = None,
              expected_version: int | None = None, **changes) -> Risk:
    """Change a risk's details (not its scores: those change by a review)."""
    from tracker.risks.permissions import can_edit_risk

    actor_id = _actor(actor, actor_id, actor is not None and can_edit_risk(actor, risk),
                      "Only the plan's managers and the risk's owner change a risk.")
    _check_version(risk, expected_version)
    before = snapshot(risk)
    for key, value in changes.items():
        if key == "title":
            risk.title = _text_line(value, "title", "The title", 300, required=True)
        elif key in ("description", "mitigations", "recommendation"):
            risk.__setattr__(key, _text_block(value, key, f"The {key}"))
        elif key == "categories":
            risk.categories = _categories(value)
        elif key == "owner_id":
            risk.owner_id = _owner(risk.partnership_id, value)
        elif key == "review_date":
            risk.review_date = _review_date(value)
        elif key == "plans":
            risk.plans = _plans(risk.partnership_id, value)
        elif key == "actions":
            risk.actions = _actions(risk.partnership_id, value)
        else:
            raise TypeError(f"unknown risk field {key!r}")
    old, new = audit.changes(before, snapshot(risk))
    if old or new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="risk", entity_id=risk.id, verb="update",
                     partnership_id=risk.partnership_id, before=old, after=new,
                     summary=f"Edited risk {risk.reference}")
    return risk


def _check_version(risk: Risk, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != risk.version:
        raise Conflict("Someone else changed this risk while you were working on it. Nothing was saved: "
                       "check the risk as it is now and try again.", "version")


def review_risk(risk: Risk, *, inherent: Pair, residual: Pair, target: Pair, reason: str,
                review_date=UNCHANGED, actions=UNCHANGED, status: RiskStatus | None = None,
                expected_version: int | None = None, actor: User | None = None,
                actor_id: int | None = None) -> RiskReview:
    """Append a scored review: who, when, why. Earlier reviews are kept as they were."""
    from tracker.risks.permissions import can_edit_risk

    actor_id = _actor(actor, actor_id, actor is not None and can_edit_risk(actor, risk),
                      "Only the plan's managers and the risk's owner review a risk.")
    _check_version(risk, expected_version)
    if risk.status is RiskStatus.CLOSED and status in (None, RiskStatus.CLOSED):
        raise RuleError("The risk is closed: reopen it to review it.", "status")
    reason = _text_block(reason, "reason", "The reason")
    if not reason:
        raise RuleError("Say why the risk was reviewed, or what changed.", "reason")
    scores = _scores(matrix_for(risk.partnership_id), inherent, residual, target)
    if status is not None:
        risk.status = RiskStatus(status)
    if review_date is not UNCHANGED:
        risk.review_date = _review_date(review_date)
    if actions is not UNCHANGED:
        risk.actions = _actions(risk.partnership_id, actions)
    review = RiskReview(risk_id=risk.id, reviewed_by_id=actor_id, status=risk.status, reason=reason, **scores)
    db.session.add(review)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="risk", entity_id=risk.id, verb="review",
                 partnership_id=risk.partnership_id, after=_score_snapshot(review),
                 summary=f"Reviewed risk {risk.reference}: residual {review.residual.value}")
    return review


def set_status(risk: Risk, status: RiskStatus, *, reason: str, expected_version: int | None = None,
               actor: User | None = None, actor_id: int | None = None) -> RiskReview:
    """Close, tolerate or reopen a risk: a review entry with the scores as they stand and the reason."""
    status = RiskStatus(status)
    if status is risk.status:
        raise RuleError(f"The risk is already {status.label.lower()}.", "status")
    latest = latest_reviews([risk.id])[risk.id]
    return review_risk(risk, inherent=(latest.inherent_likelihood, latest.inherent_impact),
                       residual=(latest.residual_likelihood, latest.residual_impact),
                       target=(latest.target_likelihood, latest.target_impact), reason=reason, status=status,
                       expected_version=expected_version, actor=actor, actor_id=actor_id)


@dataclass(frozen=True)
class MatrixPreview:
    """What setting a matrix would do: the checked matrix, the one it replaces, and the risks whose inherent,
    residual or target score would show in another band (their recorded scores stay as they are)."""

    matrix: scoring.Matrix
    before: scoring.Matrix
    changes: list[scoring.BandChange]
    risks: dict[int, Risk]

    @property
    def risk_count(self) -> int:
        return len({c.key for c in self.changes})

    def by_risk(self) -> list[tuple[Risk, list[scoring.BandChange]]]:
        grouped: dict[int, list[scoring.BandChange]] = {}
        for change in self.changes:
            grouped.setdefault(change.key, []).append(change)
        return sorted(((self.risks[k], v) for k, v in grouped.items()), key=lambda pair: pair[0].reference)


def preview_matrix(partnership: Partnership, size, bands) -> MatrixPreview:
    """Check a matrix (scoring.matrix_from_bands) and say which risks would change band; writes nothing.
    Refused when a risk's latest scores would not fit: recorded scores are never rewritten, so review it first."""
    matrix = scoring.matrix_from_bands(size, bands)
    before = matrix_for(partnership.id)
    risks = {r.id: r for r in db.session.scalars(select(Risk).where(Risk.partnership_id == partnership.id))}
    reviews = latest_reviews(risks)
    for review in sorted(reviews.values(), key=lambda r: risks[r.risk_id].reference):
        if max(review.inherent_likelihood, review.inherent_impact, review.residual_likelihood,
               review.residual_impact, review.target_likelihood, review.target_impact) > matrix.size:
            raise RuleError(f"Risk {risks[review.risk_id].reference} is scored beyond {matrix.size} x {matrix.size}: "
                            "review it first, as its recorded scores are never changed.", "size")
    scores = [(review.risk_id, what, getattr(review, what).value) for review in reviews.values()
              for what in ("inherent", "residual", "target")]
    changes = scoring.band_changes(before, matrix, sorted(scores, key=lambda s: (risks[s[0]].reference, s[1])))
    return MatrixPreview(matrix, before, changes, risks)


def set_matrix(partnership: Partnership, size, bands, *, expected: str | None = None, actor: User | None = None,
               actor_id: int | None = None) -> RiskMatrix:
    """The partnership's scoring matrix: its size and bands, each (name, lowest score) or (name, lowest, highest).

    The one door for the settings page and the CLI. Refused unless the bands hold every score exactly once, in
    order, each with a label (scoring.matrix_from_bands), and unless every risk's latest scores fit. Recorded
    scores are never rewritten: a risk may show in another band afterwards (preview_matrix says which).
    `expected` is the matrix the confirmation compared against (its describe()): refused if it changed since."""
    from tracker.risks.permissions import can_set_matrix

    actor_id = _actor(actor, actor_id, actor is not None and can_set_matrix(actor, partnership.id),
                      "Only the partnership's administrators set its risk matrix.")
    preview = preview_matrix(partnership, size, bands)
    if expected is not None and expected != preview.before.describe():
        raise Conflict("Someone else changed the scoring matrix while you were checking yours. Nothing was saved: "
                       "check the change again.", "size")
    matrix = preview.matrix
    row = db.session.scalar(select(RiskMatrix).where(RiskMatrix.partnership_id == partnership.id))
    if row is not None and row.size == matrix.size and row.bands == matrix.to_json():
        return row
    if row is None:
        row = RiskMatrix(partnership_id=partnership.id, size=matrix.size, bands=matrix.to_json())
        db.session.add(row)
    else:
        row.size, row.bands = matrix.size, matrix.to_json()
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="risk_matrix", entity_id=row.id, verb="update",
                 partnership_id=partnership.id, before={"matrix": preview.before.describe()},
                 after={"matrix": matrix.describe(), "risks_changing_band": preview.risk_count},
                 summary=f"Risk matrix set to {matrix.describe()}")
    return row
