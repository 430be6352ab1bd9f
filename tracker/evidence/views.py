"""Evidence pages: add (or replace) evidence on an item, and download a file to those who may see the item."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker import text as texts
from tracker.doors import commit_or_refuse
from tracker.errors import NotFound
from tracker.evidence import permissions, services
from tracker.evidence.forms import EvidenceForm
from tracker.evidence.models import Target

bp = Blueprint("evidence", __name__, url_prefix="/evidence")
TARGETS = "action, update, rating, recommendation"


def back_to(target: Target, item) -> str:
    if target is Target.ACTION:
        return url_for("plans.action", action_id=item.id)
    if target is Target.UPDATE:
        return url_for("plans.action", action_id=item.action_id)
    if target is Target.RATING:
        return url_for("selfeval.rate", round_id=item.round_id, item_id=item.item_id)
    return url_for("scrutiny.recommendation", recommendation_id=item.id)


@bp.app_context_processor
def helpers():
    def evidence_for(target: str, target_id: int):
        return services.for_item(target, target_id)

    def can_add_evidence(target: str, item) -> bool:
        _, partnership_id = permissions.resolve(target, item.id)
        return current_user.is_authenticated and partnership_id is not None and \
            permissions.can_add(current_user, Target(target), item, partnership_id)

    def evidence_of_updates(action) -> list:
        """(update, its current evidence) for an action's updates that have evidence, oldest first."""
        found = services.for_updates([u.id for u in action.updates])
        return [(u, found[u.id]) for u in action.updates if u.id in found]

    return {"evidence_for": evidence_for, "can_add_evidence": can_add_evidence,
            "evidence_of_updates": evidence_of_updates}


@bp.route(f"/<any({TARGETS}):target>/<int:target_id>/add", methods=["GET", "POST"])
@login_required
def add(target: str, target_id: int):
    target = Target(target)
    item, partnership_id = permissions.resolve(target, target_id)
    if item is None or not permissions.can_view(current_user, partnership_id):
        abort(404)
    if not permissions.can_add(current_user, target, item, partnership_id):
        abort(403)
    form = EvidenceForm()
    replaces = texts.parse_id(request.values.get("replaces", ""))
    if form.validate_on_submit():
        upload = form.file.data if form.file.data and form.file.data.filename else None
        data = upload.read(services.max_bytes() + 1) if upload else None
        saved, _ = commit_or_refuse(lambda: services.add_evidence(
            target, item.id, title=form.title.data, url=form.url.data or None,
            filename=upload.filename if upload else None, data=data, replaces_id=replaces, actor=current_user),
            form, fields={"replaces_id": "file"})
        if saved:
            flash("Evidence added." if replaces is None else "Evidence replaced; the earlier version is kept.",
                  "success")
            return redirect(back_to(target, item))
    status = 400 if request.method == "POST" else 200
    return render_template("evidence/add.html", form=form, target=target, item=item, replaces=replaces,
                           back=back_to(target, item)), status


@bp.route("/<int:evidence_id>/download")
@login_required
def download(evidence_id: int):
    try:
        evidence = services.readable(evidence_id, current_user)
    except NotFound:
        abort(404)
    if not evidence.is_file:
        abort(404)  # a link is shown as a link, never redirected to
    try:
        data = services.file_bytes(evidence)
    except (OSError, KeyError):
        current_app.logger.error("Evidence file %s is missing from storage", evidence.storage_key)
        abort(404)
    response = Response(data, mimetype=evidence.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=evidence.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
