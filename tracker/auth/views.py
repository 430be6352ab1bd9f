from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from tracker.api import tokens as api_tokens
from tracker.auth import kept_forms, services, sessions
from tracker.auth.forms import ApiTokenForm, ChangePasswordForm, ResetPasswordForm, ResetRequestForm, SignInForm
from tracker.auth.models import ApiToken, User
from tracker.errors import RuleError
from tracker.extensions import db, login_manager
from tracker.text import in_id_range

bp = Blueprint("auth", __name__, url_prefix="/auth")

RESET_SENT = ("If that email address belongs to an account, we have sent it a link to reset the password. "
              "The link works once, within an hour.")
RESET_INVALID = "That reset link has expired or has already been used. Ask for a new one."


bp.before_app_request(sessions.check)
bp.before_app_request(kept_forms.restore)


@login_manager.unauthorized_handler
def unauthorized():
    """Not signed in: to the sign-in page and back. A form posted by a session that has ended (signed out
    elsewhere, password changed) keeps what was typed, to come back filled after signing in."""
    if request.path.startswith("/api/"):
        abort(401)
    flash(login_manager.login_message, login_manager.login_message_category)
    if request.method == "POST":
        owner = kept_forms.session_user_id(session.get("_user_id"))
        return redirect(kept_forms.sign_in_url(kept_forms.keep(owner), request.full_path.rstrip("?")))
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


@functools.cache
def _user_with_roles():
    """The statement loading a user with their memberships, built once (every request runs it)."""
    return select(User).options(joinedload(User.memberships)).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Cookies carry 'id:session_token[:signed_in_at]'; a rotated token makes an old cookie worthless, and a
    sign-in older than the absolute session lifetime is refused (remember-me cookies included)."""
    ident, _, rest = user_id.partition(":")
    token, _, signed_in_at = rest.partition(":")
    if not ident.isdigit() or not in_id_range(int(ident)) or not token or sessions.signed_in_too_long_ago(signed_in_at):
        return None
    # With the roles in the same query: every page reads them (navigation, permissions).
    user = db.session.execute(_user_with_roles(), {"user_id": int(ident)}).unique().scalar_one_or_none()
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


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For only when TRUST_PROXY is set)."""
    return request.remote_addr or "unknown"


def _locked_message() -> str:
    minutes = current_app.config["SIGN_IN_LOCK_MINUTES"]
    return (f"There have been too many failed attempts to sign in. "
            f"Wait {minutes} minutes and try again, or reset your password.")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = services.sign_in(form.email.data, form.password.data, client_address())
        except RuleError as error:
            db.session.rollback()
            form.email.errors.append(error.message)
            return render_template("auth/sign_in.html", form=form), 400
        db.session.commit()
        if result.user is not None:
            login_user(result.user)
            sessions.start(result.user)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        status = _failed_attempt(form.email, result, services.SIGN_IN_FAILED)
    if form.errors and status == 200:
        status = 400
    return render_template("auth/sign_in.html", form=form), status


def _failed_attempt(field, result, wrong: str) -> int:
    """Show a failed password check on `field`: locked (429) or plainly wrong; the status to answer with."""
    if result.locked_until is not None:
        field.errors.append(_locked_message())
        return 429
    field.errors.append(wrong)
    return 200


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    from tracker.auth import sso_views

    provider = session.pop(sso_views.PROVIDER_KEY, None)
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    sso_views.after_sign_out(provider)  # offers the provider's own sign-out, when it has one
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/reset-password", methods=["GET", "POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        def compose(name: str, token: str) -> str:
            link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
            return render_template("auth/reset_email.txt", name=name, link=link,
                                   hours=current_app.config["PASSWORD_RESET_HOURS"])

        try:
            services.request_password_reset(form.email.data, compose)
        except RuleError as error:
            db.session.rollback()
            form.email.errors.append(error.message)
            return render_template("auth/reset_request.html", form=form), 400
        db.session.commit()  # the e-mail is in the outbox: the scheduler sends it within a minute
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_request.html", form=form), (400 if form.errors else 200)


#: Where the token of an opened reset link is kept while its owner chooses a password.
RESET_TOKEN_KEY = "reset_token"


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link in the e-mail. Opening it moves the token into the session and redirects to a page without it,
    so the token is in one request line only (which the access log redacts: tracker.access_log), never in the
    browser's history, a later Referer header or a bookmark. A POST here still works, for forms already open."""
    if request.method == "POST":
        return _choose_new_password(token)
    session[RESET_TOKEN_KEY] = token[:200]
    response = redirect(url_for("auth.new_password"), code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/new-password", methods=["GET", "POST"])
def new_password():
    return _choose_new_password(session.get(RESET_TOKEN_KEY))


def _reset_invalid():
    session.pop(RESET_TOKEN_KEY, None)
    return render_template("errors/error.html", code=404, title="Reset link not valid", sentence=RESET_INVALID), 404


def _choose_new_password(token: str | None):
    reset = services.valid_reset(token) if token else None
    if reset is None:
        return _reset_invalid()
    sso_only = services.password_refused(reset.user)
    if sso_only:
        session.pop(RESET_TOKEN_KEY, None)
        return render_template("errors/error.html", code=403, title="Sign in with your organisation's account",
                               sentence=sso_only), 403
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.complete_password_reset(reset, form.new_password.data)
        if user is None:
            db.session.rollback()
            return _reset_invalid()
        db.session.commit()
        logout_user()
        session.pop(RESET_TOKEN_KEY, None)
        flash("Your password has been changed, and any API tokens of yours revoked. "
              "Sign in with the new password.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form), (400 if form.errors else 200)


@bp.route("/account")
@login_required
def account():
    from tracker.auth.permissions import can_use_api_tokens

    # Offered to those who can use them, and to anyone who still holds one (to revoke it).
    offer_tokens = can_use_api_tokens(current_user) or bool(api_tokens.tokens_of(current_user))
    return render_template("auth/account.html", offer_tokens=offer_tokens)


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        result = services.change_password(current_user, form.current_password.data, form.new_password.data,
                                          client_address())
        db.session.commit()  # a failure is recorded for the limits; a success changes the password
        if result.changed:
            login_user(current_user._get_current_object())  # this session continues with the new session token; others end
            sessions.continue_as(current_user)
            flash("Your password has been changed. You have been signed out everywhere else, "
                  "and your API tokens have been revoked.", "success")
            return redirect(url_for("auth.account"))
        status = _failed_attempt(form.current_password, result, services.CURRENT_PASSWORD_WRONG)
    if form.errors and status == 200:
        status = 400
    return render_template("auth/change_password.html", form=form), status


@bp.route("/api-tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _, new_token = api_tokens.create_token(current_user, form.name.data)
        except RuleError as error:
            db.session.rollback()
            form.name.errors.append(error.message)
        else:
            db.session.commit()
            form = ApiTokenForm(formdata=None)
    status = 400 if form.errors else 200
    return render_template("auth/api_tokens.html", form=form, tokens=api_tokens.tokens_of(current_user),
                           new_token=new_token), status


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    api_tokens.revoke_token(token, actor_id=current_user.id)
    db.session.commit()
    flash(f"The token '{token.name}' has been revoked: it no longer works.", "success")
    return redirect(url_for("auth.tokens"))
