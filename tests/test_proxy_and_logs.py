"""Issue 11: the secret key file is private, the access log never shows reset tokens, and forwarded headers
are ignored unless TRUST_PROXY is set (gunicorn's own trust of loopback included)."""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import request, url_for

from tests.conftest import stop_process
from tracker.security import secret_key_file

ROOT = Path(__file__).resolve().parent.parent
RUN = (ROOT / "scripts" / "run").read_text()


# instance/secret_key ----------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_scripts_run_writes_the_secret_key_readable_by_its_owner_only(tmp_path):
    block = re.search(r'if \[ -z "\$\{SECRET_KEY:-\}" \]; then\n(.*?)\nfi\n', RUN, re.S).group(1)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    (tmp_path / "instance").mkdir()
    script = f"umask 022\n{block}\necho \"$SECRET_KEY\"\n"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    env.pop("SECRET_KEY", None)
    first = subprocess.run(["bash", "-euc", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    key_file = tmp_path / "instance" / "secret_key"
    assert _mode(key_file) == 0o600
    assert len(first) == 64 and key_file.read_text().strip() == first
    again = subprocess.run(["bash", "-euc", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert again == first


def test_an_existing_key_file_readable_by_others_is_made_private(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir()
    path.write_text("abc123\n")
    os.chmod(path, 0o644)
    assert secret_key_file(path) == "abc123"
    assert _mode(path) == 0o600


def test_the_key_file_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        secret_key_file(tmp_path / "secret_key")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "secret_key") == 0o600


# Reset tokens stay out of the access log --------------------------------------------------------------------


def test_the_access_logger_redacts_reset_tokens_and_token_queries(tmp_path):
    from gunicorn.config import Config

    from tracker.access_log import RedactingLogger

    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s {raw_uri}e')
    logger = RedactingLogger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/auth/reset-password/SeCrEt-123?token=t0p&x=1",
               "PATH_INFO": "/auth/reset-password/SeCrEt-123", "QUERY_STRING": "token=t0p&x=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.5",
               "HTTP_REFERER": "https://tracker.example/auth/reset-password/SeCrEt-123"}
    response = SimpleNamespace(status="303 See Other", sent=0, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, dt.timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()
    logged = (tmp_path / "access.log").read_text()
    assert "SeCrEt-123" not in logged and "t0p" not in logged
    assert "/auth/reset-password/[redacted]" in logged and "x=1" in logged and "192.0.2.5" in logged


def test_the_reset_link_moves_its_token_into_the_session_and_off_the_url(app):
    from tests import factories
    from tracker.auth import services
    from tracker.extensions import db

    factories.user(email="officer@example.scot")
    db.session.commit()
    _user, token = services.start_password_reset("officer@example.scot")
    db.session.commit()
    client = app.test_client()
    opened = client.get(f"/auth/reset-password/{token}")
    assert opened.status_code == 303 and opened.location == "/auth/new-password"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/auth/new-password")
    assert page.status_code == 200 and token not in page.get_data(as_text=True)
    done = client.post("/auth/new-password", data={"new_password": "a brand new passphrase 2026",
                                                    "confirm_password": "a brand new passphrase 2026"})
    assert done.status_code == 302
    with client.session_transaction() as session:
        assert "reset_token" not in session
    assert client.get("/auth/new-password").status_code == 404
    assert app.test_client().get("/auth/new-password").status_code == 404  # no token at all


# Forwarded headers --------------------------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.test",
             "X-Forwarded-Port": "443", "Forwarded": "for=203.0.113.9;proto=https"}


def _seen(app) -> list:
    seen = []

    @app.before_request
    def look():
        seen.append((request.scheme, request.remote_addr, request.host, url_for("auth.sign_in", _external=True),
                     {k: v for k, v in request.headers.items() if k.lower().startswith(("x-forwarded", "forwarded"))}))

    return seen


def test_forwarded_headers_and_gunicorns_scheme_are_ignored_without_trust_proxy(make_app):
    """As gunicorn hands over a request from 127.0.0.1 carrying X-Forwarded-Proto: it has already set the
    scheme to https (forwarded_allow_ips trusts loopback by default); the socket says otherwise."""
    app = make_app()
    seen = _seen(app)
    with socket.socket() as plain:
        response = app.test_client().get("/auth/sign-in", headers=FORWARDED, environ_overrides={
            "wsgi.url_scheme": "https", "REMOTE_ADDR": "127.0.0.1", "gunicorn.socket": plain})
    assert "Strict-Transport-Security" not in response.headers
    ((scheme, remote, host, external, headers),) = seen
    assert (scheme, remote, host) == ("http", "127.0.0.1", "tracker.test")
    assert external.startswith("http://tracker.test/") and headers == {}


def test_forwarded_headers_are_believed_with_trust_proxy(make_app):
    app = make_app(TRUST_PROXY=True)
    seen = _seen(app)
    response = app.test_client().get("/auth/sign-in", headers=FORWARDED)
    assert "Strict-Transport-Security" in response.headers
    assert seen[0][:2] == ("https", "203.0.113.9")


def test_scripts_run_tells_gunicorn_to_trust_no_forwarder_unless_trust_proxy():
    assert "forwarded=(--forwarded-allow-ips=)" in RUN and '"${forwarded[@]}"' in RUN
    assert "--logger-class tracker.access_log.RedactingLogger" in RUN


# Both, through a real gunicorn started with scripts/run's flags ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_real_gunicorn_with_the_scripts_run_flags(tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "SECRET_KEY": "gunicorn-test", "DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
           "TRACKER_INSTANCE_PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("TRUST_PROXY", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--forwarded-allow-ips=", "--logger-class", "tracker.access_log.RedactingLogger",
                               "--access-logfile", str(log), "tracker:create_app()"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{port}/auth/sign-in", headers=FORWARDED), timeout=5) as answer:
                    headers = answer.headers
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "Strict-Transport-Security" not in headers
        opener = urllib.request.build_opener(urllib.request.HTTPRedirectHandler())
        try:
            opener.open(f"http://127.0.0.1:{port}/auth/reset-password/VerySecretToken42", timeout=5).close()
        except urllib.error.HTTPError as not_found:  # the token is unknown: the page after the redirect is a 404
            not_found.close()
        time.sleep(0.3)
    finally:
        stop_process(server)
    logged = log.read_text()
    assert "/auth/reset-password/[redacted]" in logged and "VerySecretToken42" not in logged
    assert "/auth/new-password" in logged
