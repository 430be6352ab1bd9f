"""Indicator pages: list, define, the trend page, entering values (grid, one period, .xlsx upload)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import Membership, User
from tracker.plans.permissions import plan_or_404, plans_query
from tracker.extensions import db
from tracker.text import parse_id
from tracker.indicators import services, spreadsheet
from tracker.indicators.chart import trend_chart
from tracker.indicators.forms import (
    CsrfForm,
    IndicatorForm,
    UploadForm,
    parse_number,
    parse_yearly_targets,
    yearly_targets_text,
)
from tracker.indicators.models import Dimension, Indicator
from tracker.indicators.permissions import can_define_indicators, can_enter_values, indicator_or_404
from tracker.periods import Period
from tracker.plans.models import Plan
from tracker.timeutil import today

bp = Blueprint("indicators", __name__, url_prefix="/indicators")

#: Blank breakdown rows offered on the one-period page, and the most rows read from it.
SPARE_BREAKDOWN_ROWS = 3
MAX_BREAKDOWN_ROWS = 200
#: A preview may be confirmed for this long.
PREVIEW_MAX_AGE_SECONDS = 3600


@bp.app_context_processor
def indicator_helpers():
    return {"can_define_indicators": can_define_indicators}


@bp.app_template_filter("period_label")
def period_label(start: dt.date, frequency: str) -> str:
    return Period(frequency, start).label


@bp.app_template_test("enterable")
def enterable(indicator: Indicator) -> bool:
    """`indicator is enterable`: the signed-in user may enter its values."""
    return current_user.is_authenticated and can_enter_values(current_user, indicator)


@bp.route("/")
@login_required
def index():
    plans = db.session.scalars(plans_query(current_user).order_by(Plan.name)
                               .options(selectinload(Plan.partnership))).all()
    indicators = db.session.scalars(
        services.indicators_query().where(Indicator.plan_id.in_([p.id for p in plans])).order_by(Indicator.name)
    ).all()
    by_plan: dict[int, list] = {p.id: [] for p in plans}
    for trend in services.trends(indicators, today()):
        by_plan[trend.indicator.plan_id].append(trend)
    return render_template("indicators/index.html", plans=plans, by_plan=by_plan)


def _officer_choices(plan: Plan) -> list[SelectChoice]:
    users = db.session.scalars(
        select(User).join(Membership).where(Membership.partnership_id == plan.partnership_id, User.active.is_(True))
        .order_by(User.name)
    ).all()
    return [SelectChoice(0, "No one yet")] + [
        SelectChoice(u.id, u.name + (f", {u.job_title}" if u.job_title else "")) for u in users]


def _indicator_form(plan: Plan, indicator: Indicator | None = None) -> IndicatorForm:
    form = IndicatorForm(obj=None)
    form.responsible_officer_id.choices = _officer_choices(plan)
    form.items.choices = [SelectChoice(item.id, item.label[:200]) for item in services.plan_items(plan)]
    if indicator is not None and request.method == "GET":
        form.name.data = indicator.name
        form.definition.data = indicator.definition
        form.unit.data = indicator.unit.value
        form.frequency.data = indicator.frequency
        form.starts_on.data = indicator.first_period.label
        form.direction.data = "higher" if indicator.higher_is_better else "lower"
        form.target.data = f"{indicator.target:g}" if indicator.target is not None else ""
        form.yearly_targets.data = yearly_targets_text(indicator.targets)
        form.source.data = indicator.source
        form.responsible_officer_id.data = indicator.responsible_officer_id or 0
        form.items.data = [item.id for item in indicator.items]
    elif indicator is None and request.method == "GET":
        form.starts_on.data = Period.containing("quarterly", today()).label
    return form


def _fields(form: IndicatorForm, plan: Plan) -> dict:
    chosen = set(form.items.data or [])
    return {
        "name": form.name.data,
        "definition": form.definition.data or "",
        "unit": form.unit.data,
        "frequency": form.frequency.data,
        "starts_on": Period.parse(form.frequency.data, form.starts_on.data).start,
        "higher_is_better": form.direction.data == "higher",
        "target": parse_number(form.target.data, "target"),  # both already checked by the form
        "yearly_targets": parse_yearly_targets(form.yearly_targets.data),
        "source": form.source.data or "",
        "responsible_officer_id": form.responsible_officer_id.data or None,
        "items": [item for item in services.plan_items(plan) if item.id in chosen],
    }


@bp.route("/plans/<int:plan_id>/new", methods=["GET", "POST"])
@login_required
def new(plan_id: int):
    plan = plan_or_404(plan_id)
    if not can_define_indicators(current_user, plan):
        abort(403)
    form = _indicator_form(plan)
    if form.validate_on_submit():
        try:
            indicator = services.create_indicator(plan, actor=current_user, **_fields(form, plan))
        except services.IndicatorError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Indicator '{indicator.name}' added.", "success")
            return redirect(url_for(".show", indicator_id=indicator.id))
    return render_template("indicators/form.html", form=form, plan=plan, indicator=None), (400 if form.errors else 200)


@bp.route("/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit(indicator_id: int):
    indicator = indicator_or_404(indicator_id)
    plan = indicator.plan
    if not can_define_indicators(current_user, plan):
        abort(403)
    form = _indicator_form(plan, indicator)
    if form.validate_on_submit():
        try:
            services.edit_indicator(indicator, actor=current_user, **_fields(form, plan))
        except services.IndicatorError as error:
            db.session.rollback()
            form.frequency.errors.append(str(error))
        else:
            db.session.commit()
            flash("Indicator saved.", "success")
            return redirect(url_for(".show", indicator_id=indicator.id))
    return render_template("indicators/form.html", form=form, plan=plan, indicator=indicator), (
        400 if form.errors else 200)


@bp.route("/<int:indicator_id>")
@login_required
def show(indicator_id: int):
    indicator = indicator_or_404(indicator_id)
    trend = services.trends([indicator], today())[0]
    return render_template("indicators/show.html", indicator=indicator, trend=trend, chart=trend_chart(trend),
                           corrections=services.corrections(services.value_history(indicator)),
                           actions=services.related_actions(indicator),
                           breakdowns=services.breakdown_tables(trend),
                           latest_entry=trend.latest.entry if trend.latest else None)


def _grid_periods(indicator: Indicator, values: dict) -> list[Period]:
    """The periods offered on the grid: the trend's, up to the last that has ended (a value for a period in
    progress is refused: it would be a provisional figure reported as the period's)."""
    day = today()
    periods = [p for p in services.trend_periods(indicator, values, day) if p.end < day]
    last_ended = Period.containing(indicator.frequency, day).previous()
    if last_ended.start >= indicator.starts_on and (not periods or periods[-1] < last_ended):
        periods.append(last_ended)
    return periods


@bp.route("/<int:indicator_id>/values", methods=["GET", "POST"])
@login_required
def values(indicator_id: int):
    """A grid of periods: one value and note per period; only changed rows are saved."""
    indicator = indicator_or_404(indicator_id)
    if not can_enter_values(current_user, indicator):
        abort(403)
    form = CsrfForm()
    current = services.current_values([indicator.id])[indicator.id]
    periods = _grid_periods(indicator, current)
    errors: dict[str, str] = {}
    confirm: set[str] = set()
    if form.validate_on_submit():
        saved = 0
        for period in periods:
            key = period.start.isoformat()
            expected = request.form.get(f"current-{key}", "")
            try:
                if services.enter_total(indicator, period, value=parse_number(request.form.get(f"value-{key}")),
                                        note=request.form.get(f"note-{key}", ""), actor=current_user,
                                        expected_current_id=parse_id(expected),
                                        today=today(), confirmed=bool(request.form.get(f"confirm-{key}"))):
                    saved += 1
            except services.ValueChangedError as error:
                errors[key] = str(error)
                break  # the session needs a rollback before anything else
            except services.IndicatorError as error:
                errors[key] = str(error)
                if isinstance(error, services.NeedsConfirmation):
                    confirm.add(key)
        if errors:
            db.session.rollback()
        else:
            db.session.commit()
            flash(f"Saved {saved} value{'s' if saved != 1 else ''}." if saved else "No values changed.", "success")
            return redirect(url_for(".show", indicator_id=indicator.id))
    rows = [(p, current.get(p.start)) for p in periods]
    other = request.args.get("period")
    other_error = None
    if other is not None:
        try:
            Period.parse(indicator.frequency, other)
        except ValueError as error:
            other_error = str(error)
    return render_template("indicators/values.html", indicator=indicator, rows=rows, form=form, errors=errors,
                           confirm=confirm, posted=request.form if errors else None,
                           other_period=other, other_error=other_error), (400 if errors else 200)


@bp.route("/<int:indicator_id>/values/other")
@login_required
def other_period(indicator_id: int):
    """Go to an earlier period's page (a baseline, say) from its label; changes nothing."""
    indicator = indicator_or_404(indicator_id)
    if not can_enter_values(current_user, indicator):
        abort(403)
    typed = request.args.get("period", "")
    try:
        period = Period.parse(indicator.frequency, typed)
    except ValueError:
        # Back to the field, with what was typed and the reason beside it (values() reads it again).
        return redirect(url_for(".values", indicator_id=indicator.id, period=typed[:100], _anchor="other-period"))
    return redirect(url_for(".period_value", indicator_id=indicator.id, start=period.start.isoformat()))


def _period_or_404(indicator: Indicator, start: str) -> Period:
    try:
        return Period(indicator.frequency, dt.date.fromisoformat(start))
    except ValueError:
        abort(404)


@bp.route("/<int:indicator_id>/values/<start>", methods=["GET", "POST"])
@login_required
def period_value(indicator_id: int, start: str):
    """One period's value with its breakdowns by locality and protected characteristic."""
    indicator = indicator_or_404(indicator_id)
    if not can_enter_values(current_user, indicator):
        abort(403)
    period = _period_or_404(indicator, start)
    form = CsrfForm()
    entry = services.current_values([indicator.id])[indicator.id].get(period.start)
    error, needs_confirmation = None, False
    if form.validate_on_submit():
        try:
            parts = []
            rows = request.form.get("rows", "")
            for index in range(min(parse_id(rows) or 0, MAX_BREAKDOWN_ROWS)):
                category = request.form.get(f"category-{index}", "").strip()
                figure = parse_number(request.form.get(f"figure-{index}"), "breakdown figure")
                if not category and figure is None:
                    continue
                if figure is None:
                    raise services.IndicatorError(f"Enter the figure for {category}.")
                try:
                    dimension = Dimension(request.form.get(f"dimension-{index}", ""))
                except ValueError:
                    raise services.IndicatorError("Choose what each breakdown row is by.") from None
                parts.append(services.BreakdownInput(dimension, category, figure))
            expected = request.form.get("current", "")
            changed = services.enter_value(
                indicator, period, value=parse_number(request.form.get("value")), note=request.form.get("note", ""),
                breakdowns=parts, actor=current_user, today=today(),
                expected_current_id=parse_id(expected), confirmed=bool(request.form.get("confirm")))
        except services.IndicatorError as problem:
            db.session.rollback()
            error = str(problem)
            needs_confirmation = isinstance(problem, services.NeedsConfirmation)
        else:
            db.session.commit()
            flash(f"Saved the value for {period.label}." if changed else "Nothing changed.", "success")
            return redirect(url_for(".show", indicator_id=indicator.id))
    parts = list(entry.breakdowns) if entry else []
    return render_template("indicators/period.html", indicator=indicator, period=period, entry=entry, form=form,
                           error=error, parts=parts, spare=SPARE_BREAKDOWN_ROWS, dimensions=list(Dimension),
                           needs_confirmation=needs_confirmation,
                           posted=request.form if error else None), (400 if error else 200)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="indicator-values-import")


@bp.route("/plans/<int:plan_id>/import", methods=["GET", "POST"])
@login_required
def upload(plan_id: int):
    """Upload an .xlsx of values and see what it would change; nothing is saved until confirmed."""
    plan = plan_or_404(plan_id)
    indicators = db.session.scalars(services.indicators_query().where(Indicator.plan_id == plan.id)).all()
    if not any(can_enter_values(current_user, i) for i in indicators):
        abort(403)
    form = UploadForm()
    items, token = None, None
    if form.validate_on_submit():
        try:
            rows = spreadsheet.read_rows(form.file.data.read())
        except spreadsheet.SpreadsheetError as error:
            form.file.errors.append(str(error))
        else:
            if not rows:
                form.file.errors.append("The sheet has no values under its column names.")
            else:
                items = spreadsheet.preview(rows, indicators, services.current_values(i.id for i in indicators),
                                            can_enter=lambda i: can_enter_values(current_user, i), today=today())
                if not any(i.errors for i in items):
                    token = _serializer().dumps({"plan_id": plan.id, "items": spreadsheet.to_payload(items)})
    return render_template("indicators/upload.html", plan=plan, form=form, items=items, token=token,
                           confirm_form=CsrfForm()), (400 if form.errors else 200)


@bp.route("/plans/<int:plan_id>/import/confirm", methods=["POST"])
@login_required
def confirm_upload(plan_id: int):
    plan = plan_or_404(plan_id)
    indicators = db.session.scalars(services.indicators_query().where(Indicator.plan_id == plan.id)).all()
    if not any(can_enter_values(current_user, i) for i in indicators):
        abort(403)  # as the upload page: each item is checked again below
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payload = _serializer().loads(request.form.get("token", ""), max_age=PREVIEW_MAX_AGE_SECONDS)
    except BadSignature:
        flash("The preview had expired or was changed. Upload the file again.", "error")
        return redirect(url_for(".upload", plan_id=plan.id))
    if payload.get("plan_id") != plan.id:
        abort(400)
    try:
        for item in payload["items"]:
            indicator = db.session.get(Indicator, item["indicator_id"])
            if indicator is None or indicator.plan_id != plan.id or not can_enter_values(current_user, indicator):
                abort(403)
            services.enter_value(
                indicator, Period(indicator.frequency, dt.date.fromisoformat(item["period_start"])),
                value=item["value"], note=item["note"], actor=current_user, today=today(), via="xlsx",
                breakdowns=[services.BreakdownInput(Dimension(d), c, v) for d, c, v in item["breakdowns"]],
                expected_current_id=item["current_id"], confirmed=True)  # the preview showed any warning
    except services.IndicatorError as error:
        db.session.rollback()
        flash(f"Nothing was saved: {error}", "error")
        return redirect(url_for(".upload", plan_id=plan.id))
    db.session.commit()
    count = len(payload["items"])
    flash(f"Saved {count} value{'s' if count != 1 else ''} from the spreadsheet.", "success")
    return redirect(url_for(".index"))
