"""Single sign-on pages: "Sign in with <provider>" starts the flow, the provider sends the person back to the
callback, which signs in the account tracker.auth.sso_services chooses, with the same kind of session as a
password sign-in (tracker.auth.sessions). Every refusal is shown in plain words, changes nothing and is logged."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from tracker.auth import sessions, sso, sso_services
from tracker.extensions import db

log = logging.getLogger("tracker.auth")

bp = Blueprint("sso", __name__, url_prefix="/auth/sso")

#: The session keys: which provider signed this session in, where to go afterwards, and the offer to sign out
#: of the provider too (shown once on the sign-in page after signing out).
PROVIDER_KEY = "sso_provider"
NEXT_KEY = "sso_next"
SIGNED_OUT_KEY = "sso_signed_out"


#: An address for a provider this tracker does not have (an old bookmark, a provider since removed).
NOT_SET_UP = "That sign-in service is not set up on this tracker. Sign in another way below."


def _not_set_up():
    flash(NOT_SET_UP, "warning")
    return redirect(url_for("auth.sign_in"))


def callback_url(provider: sso.Provider) -> str:
    """The redirect URI registered with the provider: BASE_URL + /auth/sso/<key>/callback."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("sso.callback", key=provider.key)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _problem(message: str, status: int):
    return render_template("auth/sso_problem.html", message=message), status


@bp.get("/<key>")
def start(key: str):
    provider = sso.provider(key)
    if provider is None:
        return _not_set_up()
    if current_user.is_authenticated:
        return redirect(url_for("plans.my_actions"))
    from tracker.auth.views import safe_next

    target = safe_next(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)
    try:
        return sso.authorize_redirect(provider, callback_url(provider))
    except sso.SignInFailed as failure:
        log.warning("Single sign-on with %s could not start from %s: %s", provider.key, _client_address(),
                    failure.reason)
        return _problem(failure.message, 502)


@bp.get("/<key>/callback")
def callback(key: str):
    provider = sso.provider(key)
    if provider is None:
        return _not_set_up()
    try:
        claims = sso.finish(provider)
    except sso.SignInFailed as failure:
        db.session.rollback()
        log.warning("Single sign-on with %s refused from %s: %s", provider.key, _client_address(), failure.reason)
        status = 502 if failure.message.startswith("We could not reach") else 400
        return _problem(failure.message, status)
    try:
        result = sso_services.sign_in(provider, claims)
    except sso_services.SsoRefused as refusal:
        db.session.rollback()
        log.warning("Single sign-on with %s refused from %s: %s", provider.key, _client_address(), refusal.reason)
        return _problem(refusal.message, refusal.status)
    db.session.commit()
    user = result.user
    log.info("Signed in user %s with %s%s", user.id, provider.key,
             " (account created)" if result.created else " (identity linked)" if result.linked else "")
    if current_user.is_authenticated:
        # someone else's session in this browser ends first (a new sign-in replaces it, as with a password)
        session.clear()
    login_user(user)
    sessions.start(user)
    session[PROVIDER_KEY] = provider.key
    if result.created:
        flash("Your account has been created. You can see plans once an administrator gives you a role: "
              "tell your partnership's administrator that you have signed in.", "info")
    elif result.linked:
        flash(f"Your account is now linked to {provider.name}: use 'Sign in with {provider.name}' from now on.",
              "success")
    target = session.pop(NEXT_KEY, None)
    from tracker.auth.views import safe_next

    return redirect(safe_next(target) or url_for("plans.my_actions"))


def after_sign_out(provider_key: str | None) -> None:
    """Called by the sign-out view once the tracker session has ended: offer the provider's end-session page."""
    provider = sso.provider(provider_key) if provider_key else None
    if provider is None:
        return
    url = sso.end_session_url(provider, current_app.config["BASE_URL"].rstrip("/") + url_for("auth.sign_in"))
    session[SIGNED_OUT_KEY] = {"name": provider.name, "url": url}


@bp.app_context_processor
def sso_template_helpers():
    def signed_out_offer():
        return session.pop(SIGNED_OUT_KEY, None)

    def provider_name(key: str) -> str:
        provider = sso.provider(key)
        return provider.name if provider is not None else key

    return {"sso_providers": lambda: list(sso.providers().values()), "sso_signed_out_offer": signed_out_offer,
            "sso_provider_name": provider_name}
