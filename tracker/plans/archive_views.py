"""Archiving and restoring plans: routes on the plans blueprint, kept apart from its other pages.

An archived plan leaves plan lists, My actions, digests, workbooks and the API's lists; it is never deleted,
and its page, history and audit trail stay readable.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tracker.auth.permissions import visible_partnership_ids
from tracker.doors import commit_or_refuse
from tracker.extensions import db
from tracker.plans import services
from tracker.plans.forms import ArchiveForm
from tracker.plans.models import Action
from tracker.plans.permissions import can_manage_plan, plan_or_404
from tracker.plans.views import bp, manageable_or_403
from tracker.rag import Status


@bp.route("/plans/<int:plan_id>/archive", methods=["GET", "POST"])
@login_required
def archive_plan(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    form = ArchiveForm()
    if plan.archived_at is not None:
        flash("This plan is already archived.", "info")
        return redirect(url_for("plans.archived"))
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.archive_plan(plan, actor=current_user), form)
        if saved:
            flash(f"Archived {plan.name}. It no longer appears in plan lists, reminders or workbooks; "
                  "restore it from Archived plans.", "success")
            return redirect(url_for("plans.archived"))
    open_actions = db.session.scalar(select(func.count(Action.id)).where(
        Action.plan_id == plan.id, Action.status.in_([s for s in Status if s.is_open])))
    return render_template("plans/archive.html", plan=plan, form=form, open_actions=open_actions), \
        400 if form.errors or form.form_errors else 200


@bp.route("/plans/<int:plan_id>/restore", methods=["POST"])
@login_required
def restore_plan(plan_id: int):
    plan = manageable_or_403(plan_or_404(plan_id))
    form = ArchiveForm()
    if not form.validate_on_submit():
        flash("The form had expired. Try again.", "error")
        return redirect(url_for("plans.archived"))
    saved, _ = commit_or_refuse(lambda: services.restore_plan(plan, actor=current_user))
    if saved:
        flash(f"Restored {plan.name}.", "success")
        return redirect(url_for("plans.plan", plan_id=plan.id))
    return redirect(url_for("plans.archived"))


@bp.route("/plans/archived")
@login_required
def archived():
    plans = services.archived_plans(visible_partnership_ids(current_user))
    manageable = {plan.id for plan in plans if can_manage_plan(current_user, plan)}
    return render_template("plans/archived.html", plans=plans, manageable=manageable, form=ArchiveForm())
