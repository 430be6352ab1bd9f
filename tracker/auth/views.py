from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker.auth import services
from tracker.auth.forms import SignInForm
from tracker.auth.models import User
from tracker.extensions import db, login_manager

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Cookies carry 'id:session_token'; a rotated token makes an old cookie worthless."""
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: never another host, scheme or protocol-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("plans.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()
            form.email.errors.append("The email address or password is not right.")
        else:
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("plans.index"))
    return render_template("auth/sign_in.html", form=form), (200 if not form.errors else 400)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
