"""Adding evidence (append-only) and reading it back. Services flush, never commit; the file is stored last, and
only for good when the transaction commits (tracker.evidence.storage.put_after_commit)."""
from __future__ import annotations

import hashlib
import uuid

from flask import current_app
from sqlalchemy import select

from tracker import text as texts
from tracker.audit import services as audit
from tracker.errors import NotAllowed, NotFound, RuleError
from tracker.evidence import checks, permissions
from tracker.evidence.models import Evidence, Target
from tracker.evidence.storage import put_after_commit, storage
from tracker.extensions import db

TITLE_MAX = 200


def max_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES") or checks.DEFAULT_MAX_BYTES)


def add_evidence(target: Target | str, target_id: int, *, title: str | None = None, url: str | None = None,
                 filename: str | None = None, data: bytes | None = None, replaces_id: int | None = None,
                 actor=None, actor_id: int | None = None) -> Evidence:
    """A link (`url`) or a file (`filename`, `data`) as evidence on an item; with `replaces_id`, a new version of
    that evidence (the old one is kept). Every check runs before anything is stored."""
    try:
        target = Target(target)
    except ValueError:
        raise NotFound("That item does not exist.") from None
    item, partnership_id = permissions.resolve(target, target_id)
    if item is None or (actor is not None and not permissions.can_view(actor, partnership_id)):
        raise NotFound("That item does not exist.")
    if actor is not None:
        if not permissions.can_add(actor, target, item, partnership_id):
            raise NotAllowed(f"You cannot add evidence to this {target.label}.")
        actor_id = actor.id
    previous = None
    if replaces_id is not None:
        previous = db.session.get(Evidence, replaces_id) if texts.in_id_range(replaces_id) else None
        if previous is None or (previous.target, previous.target_id) != (target, target_id):
            raise RuleError("Choose evidence of this item to replace.", "replaces_id")
        if current_version(previous).id != previous.id:
            raise RuleError("That evidence has already been replaced: replace its latest version.", "replaces_id")
    has_file = data is not None or bool(filename)
    if has_file and url:
        raise RuleError("Give a link or a file, not both.", "url")
    if not has_file and not url:
        raise RuleError("Choose a file to upload or enter a link.", "file")
    row = Evidence(partnership_id=partnership_id, target=target, target_id=item.id, created_by_id=actor_id,
                   replaces_id=previous.id if previous else None, version=previous.version + 1 if previous else 1)
    if has_file:
        name, kind = checks.check_upload(filename, data or b"", max_bytes())
        row.filename, row.content_type, row.size = name, kind.content_type, len(data)
        row.sha256 = hashlib.sha256(data).hexdigest()
        row.storage_key = f"{partnership_id}/{uuid.uuid4().hex}.{kind.extension}"
    else:
        row.url = checks.check_link(url)
    row.title = texts.line(title, field="title", label="The title", max_length=TITLE_MAX) or \
        (previous.title if previous else None) or row.filename or row.url[:TITLE_MAX]
    db.session.add(row)
    db.session.flush()
    if row.storage_key:
        put_after_commit(db.session(), row.storage_key, data)
    audit.record(user_id=actor_id, entity_type="evidence", entity_id=row.id,
                 verb="replace" if previous else "create", partnership_id=partnership_id,
                 plan_id=_plan_id(target, item),
                 after={"target": target, "target_id": item.id, "title": row.title, "filename": row.filename,
                        "url": row.url, "sha256": row.sha256, "version": row.version,
                        "replaces_id": row.replaces_id},
                 summary=f"Evidence {'replaced' if previous else 'added'} on {target.label}: {row.title}")
    return row


def _plan_id(target: Target, item) -> int | None:
    if target is Target.ACTION:
        return item.plan_id
    if target is Target.UPDATE:
        return item.action.plan_id
    if target is Target.RECOMMENDATION:
        return item.report.plan_id
    return None


def current_version(evidence: Evidence) -> Evidence:
    newer = db.session.scalar(select(Evidence).where(Evidence.replaces_id == evidence.id))
    return evidence if newer is None else current_version(newer)


def for_item(target: Target | str, target_id: int) -> list[Evidence]:
    """The current versions of an item's evidence, oldest first, each with `.history` (older versions)."""
    rows = db.session.scalars(select(Evidence).where(Evidence.target == Target(target),
                                                     Evidence.target_id == target_id)
                              .order_by(Evidence.id)).all()
    replaced = {row.replaces_id for row in rows if row.replaces_id}
    by_id = {row.id: row for row in rows}
    current = [row for row in rows if row.id not in replaced]
    for row in current:
        history, at = [], row
        while at.replaces_id and at.replaces_id in by_id:
            at = by_id[at.replaces_id]
            history.append(at)
        row.history = history
    return current


def for_updates(update_ids: list[int]) -> dict[int, list[Evidence]]:
    """The current evidence of each of these progress updates, in one query."""
    if not update_ids:
        return {}
    rows = db.session.scalars(select(Evidence).where(Evidence.target == Target.UPDATE,
                                                     Evidence.target_id.in_(update_ids)).order_by(Evidence.id)).all()
    replaced = {row.replaces_id for row in rows if row.replaces_id}
    found: dict[int, list[Evidence]] = {}
    for row in rows:
        if row.id not in replaced:
            row.history = [r for r in rows if r.id in replaced and r.target_id == row.target_id
                           and r.id < row.id and _chain_of(r, rows) is row]
            found.setdefault(row.target_id, []).append(row)
    return found


def _chain_of(row: Evidence, rows: list[Evidence]) -> Evidence:
    by_replaces = {r.replaces_id: r for r in rows if r.replaces_id}
    while row.id in by_replaces:
        row = by_replaces[row.id]
    return row


def count_for(target: Target | str, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(select(Evidence.target_id, Evidence.id, Evidence.replaces_id).where(
        Evidence.target == Target(target), Evidence.target_id.in_(ids))).all()
    replaced = {r.replaces_id for r in rows if r.replaces_id}
    counts: dict[int, int] = {}
    for r in rows:
        if r.id not in replaced:
            counts[r.target_id] = counts.get(r.target_id, 0) + 1
    return counts


def readable(evidence_id: int, user) -> Evidence:
    """The evidence, if `user` may see its item; NotFound otherwise (no leak of its existence)."""
    evidence = db.session.get(Evidence, evidence_id) if texts.in_id_range(evidence_id) else None
    if evidence is None:
        raise NotFound("That evidence does not exist.")
    item, partnership_id = permissions.resolve(evidence.target, evidence.target_id)
    if item is None or not permissions.can_view(user, partnership_id):
        raise NotFound("That evidence does not exist.")
    return evidence


def file_bytes(evidence: Evidence) -> bytes:
    return storage().get(evidence.storage_key)
