"""Fixtures for end-to-end tests in headless Chromium (Playwright, sync API).

Every test under tests/browser/ is marked ``browser`` (deselect with
``-m "not browser"``). The browser is Debian's chromium (/usr/bin/chromium):
Playwright never downloads one.

Fixtures:
    live_server        module: the app, on a fresh copy of the demo data, served on 127.0.0.1
                       (``.url``, ``.app``, ``.outbox``: the e-mail it would have sent; mail is
                       suppressed)
    browser            session: headless Chromium
    page               function: a fresh context and page (base_url = live_server.url);
                       ``page.console_errors`` collects console errors and page errors
    sign_in            the helper ``sign_in(page, live_server, email, password=DEMO_PASSWORD)``
    assert_accessible  the helper ``assert_accessible(page, *, exclude=(), disable=())``:
                       runs axe-core (WCAG 2.0/2.1/2.2 A and AA rules) and fails with a
                       readable list of violations

The helpers are also plain functions in this module.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import in_ci as _in_ci  # one notion of "in CI" for every promised component

HERE = Path(__file__).resolve().parent
AXE_PATH = HERE / "vendor" / "axe.min.js"

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = {
    "officer": "officer@demo.scot",  # lead officer
    "manager": "manager@demo.scot",  # plan manager
    "viewer": "viewer@demo.scot",  # committee member
    "admin": "admin@demo.scot",  # administrator
}

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

DEFAULT_TIMEOUT_MS = 15_000


# --------------------------------------------------------------------------
# Marking
# --------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test in this directory ``browser`` (before -m deselection runs)."""
    for item in items:
        try:
            item.path.relative_to(HERE)
        except ValueError:
            continue
        if item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------
# The app, served for real
# --------------------------------------------------------------------------
@dataclass
class LiveServer:
    url: str
    app: object
    host: str = "127.0.0.1"
    port: int = 0
    _server: object = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.url

    @property
    def outbox(self) -> list:
        """The e-mail the app would have sent (mail is suppressed: nothing leaves the machine)."""
        return self.app.extensions.setdefault("outbox", [])


def closing_responses(app):
    """The app as WSGI, each response read whole and its iterable closed before the server writes it.

    Werkzeug's dev server closes a response's iterable in a ``finally`` block that first drains the
    socket; when the browser has already dropped the connection (a page navigated away while an icon
    was still on its way) that read raises and the close is skipped, leaving a static file open: an
    unraisable ResourceWarning, an error under ``filterwarnings = error``. The app serves nothing
    that streams, so reading the body whole changes nothing a test sees."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


def live_config(database_uri: str) -> dict:
    """The live server's whole configuration, explicit: nothing comes from the caller's environment
    (TESTING builds on config.defaults()), and mail is suppressed, kept in the outbox."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "TESTING": True,
        "SECRET_KEY": "browser-tests",
        "SERVER_NAME": None,
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "MAIL_SUPPRESS_SEND": True,
    }


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite file with the demo data, built once; each module serves a copy of it."""
    from tracker import create_app
    from tracker.demo.services import load_demo
    from tracker.extensions import db

    path = tmp_path_factory.mktemp("browser-demo") / "demo.db"
    app = create_app(live_config(f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.commit()
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture(scope="module")
def live_server(demo_database, tmp_path_factory):
    """The app on a fresh copy of the demo database (one per test module, so modules do not depend on
    each other's changes or order), on a free port."""
    from werkzeug.serving import make_server

    from tracker import create_app
    from tracker.extensions import db

    db_path = tmp_path_factory.mktemp("browser-db") / "browser.db"
    shutil.copyfile(demo_database, db_path)
    app = create_app(live_config(f"sqlite:///{db_path}"))

    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{port}", app=app, port=port, _server=server, _thread=thread)
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------
def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    executable = chromium_executable()
    if executable is None:
        message = "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium"
        if _in_ci():
            pytest.fail(message + " (browser tests must run in CI)", pytrace=False)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # pragma: no cover - the test extra installs it
        if _in_ci():
            pytest.fail(f"the playwright package is not installed: {error}", pytrace=False)
        pytest.skip(f"the playwright package is not installed: {error}")

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A new browser context and page; closed after the test.

    ``page.console_errors`` lists console errors (CSP violations among them)
    and uncaught page errors, for tests that want to assert there are none.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    new_page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    new_page.console_errors = errors
    try:
        yield new_page
    finally:
        context.close()


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def sign_in(page, live_server, email: str, password: str = DEMO_PASSWORD):
    """Sign in through the real form; fails with the page's error text if it does not work."""
    page.goto(f"{live_server.url}/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    try:
        page.wait_for_url(lambda url: "/auth/sign-in" not in url, timeout=DEFAULT_TIMEOUT_MS)
    except Exception as error:
        summary = page.locator(".ds_error-summary, .ds_question__error-message")
        text = " | ".join(t.strip() for t in summary.all_inner_texts()) or "(no error message on the page)"
        raise AssertionError(f"could not sign in as {email}: still on {page.url}: {text}") from error
    return page


_AXE_SOURCE: str | None = None


def _axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE_PATH.read_text(encoding="utf-8")
    return _AXE_SOURCE


def run_axe(page, *, exclude=(), disable=(), tags=AXE_TAGS) -> list[dict]:
    """axe-core's violations on the current page, in a compact form.

    axe is injected with page.evaluate(), which runs through the DevTools
    protocol and so is not blocked by the page's Content-Security-Policy
    (a <script> tag would be).
    """
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(_axe_source() + "\n;true")
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    script = """async ([context, options]) => {
        const results = await window.axe.run(context || document, options);
        return results.violations.map(v => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary || '', html: n.html})),
        }));
    }"""
    return page.evaluate(script, [context, options])


def format_violations(violations: list[dict], url: str, max_nodes: int = 3) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:max_nodes]:
            target = " ".join(json.dumps(part) if not isinstance(part, str) else part for part in node["target"])
            summary = " ".join(node["summary"].split())
            lines.append(f"    at {target}")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > max_nodes:
            lines.append(f"    ... and {len(violation['nodes']) - max_nodes} more")
    return "\n".join(lines)


def assert_accessible(page, *, exclude=(), disable=()):
    """Fail if axe-core finds WCAG 2.x A/AA violations on the current page."""
    violations = run_axe(page, exclude=exclude, disable=disable)
    if violations:
        pytest.fail(format_violations(violations, page.url), pytrace=False)


@pytest.fixture(name="sign_in")
def sign_in_fixture():
    return sign_in


@pytest.fixture(name="assert_accessible")
def assert_accessible_fixture():
    return assert_accessible


@pytest.fixture
def demo_users():
    """Demo e-mail addresses by role nickname: officer, manager, viewer, admin."""
    return dict(DEMO_USERS)


@pytest.fixture
def demo_password():
    return DEMO_PASSWORD


def fits_and_is_accessible(page, widths=(320, 1280)) -> list[str]:
    """What is wrong with the page at each width: sideways scrolling, or axe violations; [] when nothing is.
    The viewport is left at 1280 px."""
    problems = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems.append(f"{page.url} scrolls sideways at {width} px ({scroll} > {inner})")
        violations = run_axe(page)
        if violations:
            problems.append(f"at {width} px: " + format_violations(violations, page.url))
    page.set_viewport_size({"width": 1280, "height": 800})
    return problems
