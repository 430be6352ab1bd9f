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
from tracker.timeutil import long_date, today
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


def _plan_choices(form: CommitteeForm, partnership_id: int | None) -> None:
    plans = services.partnership_plans(partnership_id) if partnership_id is not None else []
    form.plans.choices = [SelectChoice(p.id, p.name) for p in plans]


def _chosen_partnership(partnerships: list[Partnership]) -> Partnership | None:
    """The partnership the form names; None when it names none the person manages (never another one)."""
    posted = request.values.get("partnership_id")
    if posted is None:
        return partnerships[0] if len(partnerships) == 1 or request.method == "GET" else None
    return next((p for p in partnerships if str(p.id) == posted.strip()), None)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    partnerships = managed_partnerships()
    if not partnerships:
        abort(403)
    partnership = _chosen_partnership(partnerships)
    form = CommitteeForm()
    _plan_choices(form, partnership.id if partnership else None)
    choosing = request.method == "POST" and "choose" in request.form  # "Choose partnership": show its plans
    if choosing:
        form.plans.data = []
    elif request.method == "POST" and partnership is None:
        form.validate()
        form.form_errors.append("Choose the partnership the committee belongs to.")
    elif form.validate_on_submit():
        chosen = [p for p in services.partnership_plans(partnership.id) if p.id in form.plans.data]
        saved, committee = commit_or_refuse(lambda: services.save_committee(
            None, partnership_id=partnership.id, name=form.name.data, kind=form.kind.data,
            papers_due_working_days=form.papers_due_working_days.data, plans=chosen, actor=current_user), form)
        if saved:
            flash(f"Committee {committee.name} created in {partnership.name}.", "success")
            return redirect(url_for(".detail", committee_id=committee.id))
    return render_template("committees/form.html", form=form, committee=None, partnership=partnership,
                           partnerships=partnerships, choosing=choosing), \
        400 if (form.errors or form.form_errors) and not choosing else 200


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


def _save_meeting(committee: Committee, meeting: Meeting | None):
    """Add or change a meeting: a date in the past or on a bank holiday is shown as a warning to confirm."""
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    warnings = []
    if form.validate_on_submit():
        confirmed = request.form.get("confirmed") == "yes"

        def save():
            if meeting is None:
                return services.add_meeting(committee, form.held_on.data, form.title.data, actor=current_user,
                                            confirmed=confirmed)
            return services.edit_meeting(committee, meeting, form.held_on.data, form.title.data,
                                         actor=current_user, confirmed=confirmed)

        outcome = commit_or_refuse(save, form)
        if outcome.ok:
            saved = outcome.value
            flash(f"Meeting {'added' if meeting is None else 'saved'}: {long_date(saved.held_on)}.", "success")
            return redirect(url_for(".detail", committee_id=committee.id) + "#meetings")
        if isinstance(outcome.error, services.NeedsConfirmation):
            form.held_on.errors = []
            warnings = outcome.error.warnings
    status = 400 if form.errors or form.form_errors else (200 if request.method == "GET" or warnings else 400)
    return render_template("committees/meeting_form.html", form=form, committee=committee, meeting=meeting,
                           warnings=warnings), status


@bp.route("/<int:committee_id>/meetings", methods=["POST"])
@login_required
def add_meeting(committee_id: int):
    return _save_meeting(managed_committee_or_403(committee_id), None)


@bp.route("/<int:committee_id>/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit_meeting(committee_id: int, meeting_id: int):
    committee = managed_committee_or_403(committee_id)
    return _save_meeting(committee, _meeting(committee, meeting_id))


@bp.route("/<int:committee_id>/remove", methods=["GET", "POST"])
@login_required
def remove(committee_id: int):
    """Remove a committee, after a confirmation page; refused once papers were issued to it."""
    committee = managed_committee_or_403(committee_id)
    issued = workbooks.issued_for_committee(committee)
    if request.method == "POST":
        name = committee.name
        if commit_or_refuse(lambda: services.remove_committee(committee, actor=current_user)).ok:
            flash(f"Committee {name} removed.", "success")
            return redirect(url_for(".index"))
        return redirect(url_for(".detail", committee_id=committee_id))
    return render_template("committees/remove.html", committee=committee, issued=issued)


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
    from tracker.papers import services as papers

    committee = managed_committee_or_403(committee_id)
    meeting = _meeting(committee, meeting_id)
    quarter = workbooks.quarter_for_meeting(meeting)
    if papers.needs_a_job([plan.id for plan in committee.plans]):  # a long set: built by a background job
        return _issue_in_the_background(committee, meeting)
    created = papers.issue_meeting_papers(committee, meeting, actor_id=current_user.id)
    db.session.commit()
    workbooks.notify(created)
    count = len(created)
    flash(f"Issued {count} workbook{'s' if count != 1 else ''} for {quarter.label}." if created
          else "The papers for this meeting had already been issued.", "success" if created else "info")
    return redirect(url_for(".detail", committee_id=committee.id) + "#issued")


def _issue_in_the_background(committee: Committee, meeting: Meeting):
    from tracker.jobs.views import start_and_follow

    params = {"committee_id": committee.id, "meeting_id": meeting.id,
              "back": url_for(".detail", committee_id=committee.id) + "#issued"}
    return start_and_follow("issue_papers", params=params, partnership_id=committee.partnership_id)
