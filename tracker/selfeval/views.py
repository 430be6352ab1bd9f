"""Self-evaluation pages: rounds, rating a proposal, movement, a proposal across rounds, benchmarking."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.auth.permissions import can_view_partnership, visible_partnership_ids
from tracker.selfeval.permissions import can_manage_round, round_or_404
from tracker.doors import commit_or_refuse, show
from tracker import links
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.partnerships.queries import managed_by
from tracker.text import parse_id
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.partnerships.models import Partnership
from tracker.plans.models import Plan
from tracker.selfeval import services
from tracker.selfeval.docx_export import export_round
from tracker.selfeval.forms import (
    ConfirmForm,
    LinkForm,
    NewRoundForm,
    NextRoundForm,
    RatingForm,
    RoundDetailsForm,
    StatusForm,
    TrackForm,
)
from tracker.selfeval.models import ProposedAction, Rating, RoundStatus, SelfEvaluationRound
from tracker.timeutil import today


bp = Blueprint("selfeval", __name__, url_prefix="/self-evaluation")

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


bp.add_app_template_global(links.action_url, "action_url")


def _managed_partnerships() -> list[Partnership]:
    return managed_by(current_user)


def _require_manager(round_: SelfEvaluationRound) -> None:
    if not can_manage_round(current_user, round_):
        abort(403, "Only the partnership's plan managers can change its self-evaluation.")


def _rating_of(round_: SelfEvaluationRound, item_id: int) -> Rating:
    rating = next((r for r in round_.ratings if r.item_id == item_id), None)
    if rating is None:
        abort(404)
    return rating


def _loaded_round(round_id: int) -> SelfEvaluationRound:
    round_or_404(round_id)
    return services.load_round(round_id)


@bp.route("/")
@login_required
def index():
    ids = visible_partnership_ids(current_user)
    query = (select(SelfEvaluationRound).options(selectinload(SelfEvaluationRound.partnership),
                                                 selectinload(SelfEvaluationRound.framework))
             .order_by(SelfEvaluationRound.completed_on.desc().nulls_first(), SelfEvaluationRound.created_at.desc()))
    if ids is not None:
        query = query.where(SelfEvaluationRound.partnership_id.in_(ids))
    rounds = db.session.scalars(query).all()
    return render_template("selfeval/index.html", rounds=rounds, can_start=bool(_managed_partnerships()),
                           can_benchmark=ids is None or len(ids) > 1)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_round():
    partnerships = _managed_partnerships()
    if not partnerships:
        abort(403, "Only plan managers can start a self-evaluation round.")
    frameworks = services.rated_frameworks({p.id for p in partnerships})
    form = NewRoundForm()
    form.partnership_id.choices = [(p.id, p.name) for p in partnerships]
    form.framework_id.choices = [(f.id, f.name) for f in frameworks]
    if form.validate_on_submit():
        partnership = db.session.get(Partnership, form.partnership_id.data)
        framework = db.session.get(Framework, form.framework_id.data)
        saved, round_ = commit_or_refuse(lambda: services.create_round(
            partnership=partnership, framework=framework, title=form.title.data, completed_on=form.completed_on.data,
            agreed_at=form.agreed_at.data, contact=form.contact.data, actor=current_user), form)
        if saved:
            flash(f"Started {round_.title}.", "success")
            return redirect(url_for(".round_overview", round_id=round_.id))
    return render_template("selfeval/round_form.html", form=form, round=None), 400 if form.errors else 200


@bp.route("/rounds/<int:round_id>")
@login_required
def round_overview(round_id: int):
    round_ = _loaded_round(round_id)
    return render_template("selfeval/overview.html", round=round_, overview=services.overview(round_, today()),
                           can_manage=can_manage_round(current_user, round_),
                           next_status=services.NEXT_STATUS.get(RoundStatus(round_.status)),
                           status_form=StatusForm(), Movement=services.Movement)


@bp.route("/rounds/<int:round_id>/details", methods=["GET", "POST"])
@login_required
def edit_round(round_id: int):
    round_ = round_or_404(round_id)
    _require_manager(round_)
    form = RoundDetailsForm(obj=round_)
    if form.validate_on_submit():
        saved, _ = commit_or_refuse(lambda: services.edit_round(
            round_, actor=current_user, title=form.title.data, completed_on=form.completed_on.data,
            agreed_at=form.agreed_at.data, contact=form.contact.data), form)
        if saved:
            flash("Saved the round's details.", "success")
            return redirect(url_for(".round_overview", round_id=round_.id))
    return render_template("selfeval/round_form.html", form=form, round=round_), 400 if form.errors else 200


@bp.route("/rounds/<int:round_id>/status", methods=["POST"])
@login_required
def change_status(round_id: int):
    round_ = round_or_404(round_id)
    _require_manager(round_)
    form = StatusForm()
    if not form.validate_on_submit() or form.to.data not in {s.value for s in RoundStatus}:
        abort(400)
    if commit_or_refuse(lambda: services.change_status(round_, RoundStatus(form.to.data), actor=current_user)).ok:
        flash(f"{round_.title} is now {RoundStatus(round_.status).label.lower()}.", "success")
    return redirect(url_for(".round_overview", round_id=round_id))


@bp.route("/rounds/<int:round_id>/next", methods=["GET", "POST"])
@login_required
def next_round(round_id: int):
    previous = round_or_404(round_id)
    _require_manager(previous)
    form = NextRoundForm(title=services.suggest_next_title(previous.title))
    if form.validate_on_submit():
        saved, round_ = commit_or_refuse(lambda: services.start_next_round(
            previous, title=form.title.data, completed_on=form.completed_on.data, actor=current_user), form)
        if saved:
            flash(f"Started {round_.title}. The evidence from {previous.title} is carried forward for editing; "
                  "the ratings are empty.", "success")
            return redirect(url_for(".round_overview", round_id=round_.id))
    return render_template("selfeval/next_round.html", form=form, previous=previous), 400 if form.errors else 200


def _version(value) -> int | None:
    return parse_id(value)


@bp.route("/rounds/<int:round_id>/proposals/<int:item_id>", methods=["GET", "POST"])
@login_required
def rate(round_id: int, item_id: int):
    round_ = _loaded_round(round_id)
    rating = _rating_of(round_, item_id)
    can_manage = can_manage_round(current_user, round_)
    form = RatingForm(obj=rating if request.method == "GET" else None)
    form.level.choices = [(index, label) for index, label in enumerate(round_.framework.levels)]
    if request.method == "GET":
        form.version.data = rating.version
    status = 200
    if request.method == "POST":
        if not can_manage:
            abort(403, "Only the partnership's plan managers can rate proposals.")
        if form.validate_on_submit():
            try:
                services.rate(rating, actor=current_user, level=form.level.data,
                              evidence=form.evidence.data, participants=form.participants.data,
                              proposed_actions=form.proposed_actions.data, reason=form.reason.data,
                              expected_version=_version(form.version.data))
            except services.RatingChangedError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
                status = 409
            except RuleError as error:
                db.session.rollback()
                show(form, error)
                status = error.status
            else:
                db.session.commit()
                flash(f"Saved the rating of {round_.framework.item_label.lower()} {rating.item.number}.", "success")
                return redirect(url_for(".rate", round_id=round_id, item_id=item_id))
        else:
            status = 400
        round_ = services.load_round(round_id)
        rating = _rating_of(round_, item_id)
        if status == 409:
            # The form keeps what this user typed; saving again, having checked, replaces the colleague's change.
            form.version.data = rating.version
    return render_template("selfeval/rate.html", **_rating_page(round_, rating, form, can_manage)), status


def _lead_choices(round_: SelfEvaluationRound) -> list:
    """Who may lead the tracked action: the partnership's officers (the service checks the choice again)."""
    from tracker.plans.queries import partnership_officers

    return [(None, "No lead officer yet")] + [(u.id, u.name) for u in partnership_officers(round_.partnership_id)]


def _rating_page(round_: SelfEvaluationRound, rating: Rating, form: RatingForm, can_manage: bool) -> dict:
    items = [item for theme in round_.framework.themes for item in theme.items]
    index = next(i for i, item in enumerate(items) if item.id == rating.item_id)
    plans = services.plans_for(round_) if can_manage else []
    action_forms = {}
    leads = _lead_choices(round_) if plans and rating.proposed else []
    for proposed in rating.proposed:
        track, link = TrackForm(prefix=f"track-{proposed.id}"), LinkForm(prefix=f"link-{proposed.id}")
        track.plan_id.choices = link.plan_id.choices = [(p.id, p.name) for p in plans]
        track.lead_officer_id.choices = leads
        action_forms[proposed.id] = (track, link)
    return {
        "round": round_, "rating": rating, "item": rating.item, "form": form, "can_manage": can_manage,
        "previous_item": items[index - 1] if index > 0 else None,
        "next_item": items[index + 1] if index + 1 < len(items) else None,
        "plans": plans, "action_forms": action_forms,
        "agreed": RoundStatus(round_.status) is not RoundStatus.DRAFT, "confirm_form": ConfirmForm(),
    }


def _proposed_or_404(round_: SelfEvaluationRound, proposed_id: int) -> ProposedAction:
    proposed = db.session.get(ProposedAction, proposed_id)
    if proposed is None or proposed.rating.round_id != round_.id:
        abort(404)
    return proposed


def _plan_or_error(round_: SelfEvaluationRound, plan_id) -> Plan:
    plan = db.session.get(Plan, plan_id) if plan_id is not None else None
    if plan is None or plan.partnership_id != round_.partnership_id:
        raise services.SelfEvalError("Choose one of your partnership's plans.")
    return plan


@bp.route("/rounds/<int:round_id>/proposed/<int:proposed_id>/track", methods=["POST"])
@login_required
def track(round_id: int, proposed_id: int):
    round_ = round_or_404(round_id)
    _require_manager(round_)
    proposed = _proposed_or_404(round_, proposed_id)
    form = TrackForm(prefix=f"track-{proposed.id}")
    form.plan_id.choices = [(p.id, p.name) for p in services.plans_for(round_)]
    form.lead_officer_id.choices = _lead_choices(round_)
    def track():
        if not form.validate_on_submit():
            raise services.SelfEvalError("Choose one of your partnership's plans.")
        return services.track_proposed_action(proposed, plan=_plan_or_error(round_, form.plan_id.data),
                                              actor=current_user, lead_officer_id=form.lead_officer_id.data)

    saved, action = commit_or_refuse(track)
    if saved:
        flash(f"Created action {action.ref} on {action.plan.name}.", "success")
    return redirect(url_for(".rate", round_id=round_id, item_id=proposed.rating.item_id) + "#proposed-actions")


@bp.route("/rounds/<int:round_id>/proposed/<int:proposed_id>/link", methods=["POST"])
@login_required
def link(round_id: int, proposed_id: int):
    round_ = round_or_404(round_id)
    _require_manager(round_)
    proposed = _proposed_or_404(round_, proposed_id)
    item_id = proposed.rating.item_id
    form = LinkForm(prefix=f"link-{proposed.id}")
    form.plan_id.choices = [(p.id, p.name) for p in services.plans_for(round_)]
    def link_action():
        if not form.validate_on_submit():
            raise services.SelfEvalError("Choose a plan and enter the reference of the action to link.")
        plan = _plan_or_error(round_, form.plan_id.data)
        return services.link_proposed_action(proposed, action=services.find_action(plan, form.ref.data),
                                             actor=current_user)

    saved, action = commit_or_refuse(link_action)
    if saved:
        flash(f"Linked to action {action.ref}.", "success")
    return redirect(url_for(".rate", round_id=round_id, item_id=item_id) + "#proposed-actions")


@bp.route("/rounds/<int:round_id>/proposed/<int:proposed_id>/unlink", methods=["POST"])
@login_required
def unlink(round_id: int, proposed_id: int):
    round_ = round_or_404(round_id)
    _require_manager(round_)
    proposed = _proposed_or_404(round_, proposed_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.unlink_proposed_action(proposed, actor=current_user)
    db.session.commit()
    flash("Removed the link. The tracked action itself is unchanged.", "success")
    return redirect(url_for(".rate", round_id=round_id, item_id=proposed.rating.item_id) + "#proposed-actions")


@bp.route("/partnerships/<int:partnership_id>/proposals/<int:item_id>")
@login_required
def history(partnership_id: int, item_id: int):
    partnership = db.session.get(Partnership, partnership_id)
    item = db.session.get(FrameworkItem, item_id)
    if partnership is None or item is None or not can_view_partnership(current_user, partnership_id):
        abort(404)
    framework = item.theme.framework
    if framework.partnership_id not in (None, partnership_id):
        abort(404)
    result = services.proposal_history(partnership_id, item)
    return render_template("selfeval/history.html", partnership=partnership, item=item, framework=framework,
                           history=result, today=today())


@bp.route("/rounds/<int:round_id>/export.docx")
@login_required
def export(round_id: int):
    round_ = _loaded_round(round_id)
    data = export_round(round_)
    name = "".join(c if c.isalnum() else "-" for c in f"{round_.partnership.name} {round_.title}".lower())
    return send_file(io.BytesIO(data), mimetype=DOCX_MIMETYPE, as_attachment=True,
                     download_name=f"{'-'.join(filter(None, name.split('-')))}.docx")


@bp.route("/benchmarking")
@login_required
def benchmarking():
    ids = visible_partnership_ids(current_user)
    frameworks = services.rated_frameworks(ids)
    framework = next((f for f in frameworks if str(f.id) == request.args.get("framework")),
                     frameworks[0] if frameworks else None)
    result = services.benchmark(framework, ids) if framework is not None else None
    return render_template("selfeval/benchmarking.html", frameworks=frameworks, framework=framework,
                           benchmark=result, several=ids is None or len(ids) > 1)
