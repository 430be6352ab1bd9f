from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from tracker.committees import services
from tracker.committees.forms import CommitteeForm, MeetingForm, MemberForm
from tracker.committees.models import Committee, CommitteeMember, Meeting
from tracker.doors import commit_or_refuse
from tracker.extensions import db
from tracker.partnerships.queries import managed_by
from tracker.partnerships.models import Partnership
from tracker.timeutil import today
from tracker.workbooks import services as workbooks

bp = Blueprint("committees", __name__, url_prefix="/committees")


def committee_or_404(committee_id: int) -> Committee:
    committee = db.session.get(Committee, committee_id)
    if committee is None or not services.can_view_committee(current_user, committee):
        abort(404)
    return committee


def managed_committee_or_403(committee_id: int) -> Committee:
    committee = committee_or_404(committee_id)
    if not services.can_manage_committee(current_user, committee):
        abort(403)
    return committee


def managed_partnerships() -> list[Partnership]:
    return managed_by(current_user)


def member_choices(committee: Committee) -> list[SelectChoice]:
    return [SelectChoice(u.id, u.name) for u in services.partnership_users(committee.partnership_id)]


@bp.route("/")
@login_required
def index():
    """Committees the user can see, with their next meeting and when its papers are due."""
    committees = services.visible_committees(current_user)
    upcoming = {c.id: next((m for m in c.meetings if m.held_on >= today()), None) for c in committees}
    return render_template("committees/index.html", committees=committees, upcoming=upcoming,
                           papers_due=workbooks.papers_due, can_create=bool(managed_partnerships()))


@bp.route("/<int:committee_id>")
@login_required
def detail(committee_id: int):
    committee = committee_or_404(committee_id)
    manage = services.can_manage_committee(current_user, committee)
    member_form = MemberForm()
    member_form.user_id.choices = member_choices(committee)
    return render_template(
        "committees/detail.html", committee=committee, manage=manage, member_form=member_form,
        meeting_form=MeetingForm(), issued=workbooks.issued_for_committee(committee),
        papers_due=workbooks.papers_due, quarter_for=workbooks.quarter_for_meeting, today=today(),
    )


def _plan_choices(form: CommitteeForm, partnership_id: int) -> None:
    form.plans.choices = [SelectChoice(p.id, p.name) for p in services.partnership_plans(partnership_id)]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    partnerships = managed_partnerships()
    if not partnerships:
        abort(403)
    partnership = next((p for p in partnerships if str(p.id) == request.values.get("partnership_id")),
                       partnerships[0])
    form = CommitteeForm()
    _plan_choices(form, partnership.id)
    if form.validate_on_submit():
        chosen = [p for p in services.partnership_plans(partnership.id) if p.id in form.plans.data]
        saved, committee = commit_or_refuse(lambda: services.save_committee(
            None, partnership_id=partnership.id, name=form.name.data, kind=form.kind.data,
            papers_due_working_days=form.papers_due_working_days.data, plans=chosen, actor=current_user), form)
        if saved:
            flash(f"Committee {committee.name} created.", "success")
            return redirect(url_for(".detail", committee_id=committee.id))
    return render_template("committees/form.html", form=form, committee=None, partnership=partnership,
                           partnerships=partnerships)


@bp.route("/<int:committee_id>/edit", methods=["GET", "POST"])
@login_required
def edit(committee_id: int):
    committee = managed_committee_or_403(committee_id)
    form = CommitteeForm(obj=committee if request.method == "GET" else None)
    _plan_choices(form, committee.partnership_id)
    if request.method == "GET":
        form.kind.data = committee.kind.value
        form.plans.data = [p.id for p in committee.plans]
    if form.validate_on_submit():
        chosen = [p for p in services.partnership_plans(committee.partnership_id) if p.id in form.plans.data]
        saved, _ = commit_or_refuse(lambda: services.save_committee(
            committee, partnership_id=committee.partnership_id, name=form.name.data, kind=form.kind.data,
            papers_due_working_days=form.papers_due_working_days.data, plans=chosen, actor=current_user), form)
        if saved:
            flash("Committee saved.", "success")
            return redirect(url_for(".detail", committee_id=committee.id))
        committee = db.session.get(Committee, committee_id)
    return render_template("committees/form.html", form=form, committee=committee,
                           partnership=committee.partnership, partnerships=[])


@bp.route("/<int:committee_id>/members", methods=["POST"])
@login_required
def add_member(committee_id: int):
    committee = managed_committee_or_403(committee_id)
    form = MemberForm()
    form.user_id.choices = member_choices(committee)
    if form.validate_on_submit():
        user = next(u for u in services.partnership_users(committee.partnership_id) if u.id == form.user_id.data)
        name = user.name
        if commit_or_refuse(lambda: services.add_member(committee, user, form.role_label.data,
                                                        actor=current_user), once_form=form).ok:
            flash(f"{name} added.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for(".detail", committee_id=committee.id) + "#members")


@bp.route("/<int:committee_id>/members/<int:member_id>/remove", methods=["POST"])
@login_required
def remove_member(committee_id: int, member_id: int):
    committee = managed_committee_or_403(committee_id)
    member = db.session.get(CommitteeMember, member_id)
    if member is None or member.committee_id != committee.id:
        abort(404)
    name = member.user.name
    if commit_or_refuse(lambda: services.remove_member(committee, member, actor=current_user)).ok:
        flash(f"{name} removed.", "success")
    return redirect(url_for(".detail", committee_id=committee.id) + "#members")


@bp.route("/<int:committee_id>/meetings", methods=["POST"])
@login_required
def add_meeting(committee_id: int):
    committee = managed_committee_or_403(committee_id)
    form = MeetingForm()
    if form.validate_on_submit():
        if commit_or_refuse(lambda: services.add_meeting(committee, form.held_on.data, form.title.data,
                                                         actor=current_user)).ok:
            flash("Meeting added.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for(".detail", committee_id=committee.id) + "#meetings")


def _meeting(committee: Committee, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.committee_id != committee.id:
        abort(404)
    return meeting


@bp.route("/<int:committee_id>/meetings/<int:meeting_id>/remove", methods=["POST"])
@login_required
def remove_meeting(committee_id: int, meeting_id: int):
    committee = managed_committee_or_403(committee_id)
    meeting = _meeting(committee, meeting_id)
    if commit_or_refuse(lambda: services.remove_meeting(committee, meeting, actor=current_user)).ok:
        flash("Meeting removed.", "success")
    return redirect(url_for(".detail", committee_id=committee.id) + "#meetings")


@bp.route("/<int:committee_id>/meetings/<int:meeting_id>/issue", methods=["POST"])
@login_required
def issue(committee_id: int, meeting_id: int):
    """Issue the papers for a meeting now, without waiting for the scheduler (never twice)."""
    committee = managed_committee_or_403(committee_id)
    meeting = _meeting(committee, meeting_id)
    quarter = workbooks.quarter_for_meeting(meeting)
    created = []
    for plan in committee.plans:
        workbook, is_new = workbooks.issue_workbook(plan, quarter, committee=committee, meeting=meeting,
                                                    actor_id=current_user.id)
        if is_new:
            created.append(workbook)
    db.session.commit()
    workbooks.notify(created)
    flash(f"Issued {len(created)} workbook(s) for {quarter.label}." if created
          else "The papers for this meeting had already been issued.", "success" if created else "info")
    return redirect(url_for(".detail", committee_id=committee.id) + "#issued")
