"""Security headers on every response, HTTPS-aware session cookies, the proxy setting and the CSRF page.

Forwarded headers (X-Forwarded-For/-Proto/-Host/-Port/-Prefix, Forwarded) are believed only with TRUST_PROXY:
without it they are removed before the app sees them, and under gunicorn the scheme is set from the socket
itself, undoing gunicorn's own trust of forwarded headers from loopback (scripts/run also passes
--forwarded-allow-ips= unless TRUST_PROXY is set).
"""
from __future__ import annotations

import os
import secrets
import ssl
from pathlib import Path

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


#: Request headers (as WSGI environ keys) by which a proxy describes the original request.
FORWARDED_HEADERS = frozenset({
    "HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_X_FORWARDED_PROTOCOL", "HTTP_X_FORWARDED_SSL",
    "HTTP_X_FORWARDED_SCHEME", "HTTP_X_URL_SCHEME", "HTTP_X_REAL_IP", "HTTP_FRONT_END_HTTPS",
})


class IgnoreForwarded:
    """WSGI middleware for when no proxy is trusted: forwarded headers are dropped, and under gunicorn the
    scheme is the socket's own (gunicorn sets wsgi.url_scheme from X-Forwarded-Proto for 127.0.0.1)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        for key in FORWARDED_HEADERS.intersection(environ):
            del environ[key]
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            environ["wsgi.url_scheme"] = "https" if isinstance(sock, ssl.SSLSocket) else "http"
        return self.wsgi_app(environ, start_response)


def secret_key_file(path: str | os.PathLike) -> str:
    """The secret key kept in `path` (instance/secret_key), created readable by its owner only (0600).

    An existing file readable by others is made private first. Used by scripts/run when SECRET_KEY is unset.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        key = secrets.token_hex(32)
        file.write(key + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    return key


def init_app(app: Flask) -> None:
    if app.config.get("TRUST_PROXY"):
        # One proxy (nginx) in front: believe its X-Forwarded-For/-Proto/-Host/-Port, nothing more.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
    else:
        app.wsgi_app = IgnoreForwarded(app.wsgi_app)
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
