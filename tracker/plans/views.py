from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from tracker.auth.permissions import plans_query
from tracker.extensions import db
from tracker.plans.models import Plan

bp = Blueprint("plans", __name__)


@bp.route("/")
@login_required
def index():
    plans = db.session.scalars(plans_query(current_user).order_by(Plan.name)).all()
    return render_template("plans/index.html", plans=plans)
