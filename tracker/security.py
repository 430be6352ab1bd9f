"""Security headers on every response, HTTPS-aware session cookies, the proxy setting and the CSRF page."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"

CSRF_SENTENCE = (
    "The form had expired or did not come from this site, so nothing was changed. "
    "Go back, reload the page and try again."
)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS, whatever the config says."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (bool(request) and request.is_secure)


def init_app(app: Flask) -> None:
    if app.config.get("TRUST_PROXY"):
        # One proxy (nginx) in front: believe its X-Forwarded-For/-Proto/-Host/-Port, nothing more.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
    app.session_interface = HttpsAwareSessionInterface()
    app.after_request(add_security_headers)
    app.register_error_handler(CSRFError, csrf_failed)


def add_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        # Downloads (workbooks, audit trails, Word exports) are per-user too: send_file's "no-cache"
        # would still let a shared browser keep a copy on disk.
        response.headers["Cache-Control"] = "private, no-store"
    elif response.mimetype == "text/html" or request.path.startswith("/api/"):
        # Pages and API answers are per-user: never cached by browsers or proxies.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def csrf_failed(error: CSRFError):
    if request.path.startswith("/api/"):
        return jsonify(error=CSRF_SENTENCE), 400
    return render_template("errors/error.html", code=400, title="The form could not be accepted",
                           sentence=CSRF_SENTENCE), 400
