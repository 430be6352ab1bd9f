"""Security headers, cookies, the proxy setting, error pages, CSRF and 'no GET changes anything'."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db
from tracker.partnerships.models import Organisation, Partnership
from tracker.security import CONTENT_SECURITY_POLICY

EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/auth/sign-in", "/", "/no-such-page", "/static/css/app.css",
                                  "/api/v1/openapi.json", "/api/v1/plans"])
def test_every_response_carries_the_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    response = type("R", (), {"headers": headers})
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_pages_have_no_inline_script_or_style(app, world, client_as):
    for path in ["/auth/sign-in", "/admin/", "/admin/users", f"/admin/users/{world.officer.id}",
                 "/admin/organisations", "/admin/organisations/new", "/admin/partnerships", "/auth/account",
                 "/auth/api-tokens", "/auth/change-password"]:
        html = client_as(world.admin).get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path
        assert " style=" not in html and "<style" not in html, path


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/auth/sign-in").headers
    secure = client.get("/auth/sign-in", base_url="https://tracker.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_proto_is_ignored_unless_the_proxy_is_trusted(make_app):
    untrusted = make_app().test_client()
    response = untrusted.get("/auth/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers

    trusted = make_app(TRUST_PROXY=True).test_client()
    response = trusted.get("/auth/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_trusted_proxy_gives_the_client_address_for_rate_limits(make_app):
    from flask import request

    app = make_app(TRUST_PROXY=True)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/auth/sign-in", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen == ["203.0.113.9"]


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def _sign_in(client, email="officer@example.scot", **kwargs):
    return client.post("/auth/sign-in", data={"email": email, "password": factories.PASSWORD}, **kwargs)


def test_session_cookie_is_httponly_and_samesite_lax_and_secure_over_https(app, world):
    cookie = _session_cookie(_sign_in(app.test_client()))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development

    cookie = _session_cookie(_sign_in(app.test_client(), base_url="https://tracker.test"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_production_config_makes_cookies_secure(monkeypatch):
    from tracker.config import from_environment

    monkeypatch.setenv("TRACKER_ENV", "production")
    config = from_environment("/tmp")
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax" and config["REMEMBER_COOKIE_SECURE"]


def test_an_exception_shows_a_plain_page_without_a_traceback(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/api/v1/explode", "api_explode", explode)
    response = app.test_client().get("/explode")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP

    response = app.test_client().get("/api/v1/explode")
    assert response.status_code == 500 and "hunter2" not in response.get_data(as_text=True)
    assert set(response.get_json()) == {"error"}
    assert "hunter2" in caplog.text  # logged for the operators, not shown


def test_an_exception_in_testing_mode_is_also_handled(app):
    def explode():
        raise ZeroDivisionError("boom")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500 and "boom" not in response.get_data(as_text=True)


# CSRF ------------------------------------------------------------------------------------------------------


def _counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (AuditEvent, User, Partnership, Organisation)}


@pytest.fixture
def csrf_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def _csrf_token(client, path) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


FORGED_POSTS = [
    ("/admin/partnerships/new", {"name": "Forged IJB"}),
    ("/admin/organisations/new", {"name": "Forged org", "kind": "other"}),
    ("/admin/users/new", {"name": "Forged", "email": "forged@example.scot"}),
    ("/auth/api-tokens", {"name": "forged"}),
    ("/auth/change-password", {"current_password": factories.PASSWORD, "new_password": "a whole new passphrase",
                               "confirm_password": "a whole new passphrase"}),
    ("/auth/sign-out", {}),
]


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
@pytest.mark.parametrize("path,data", FORGED_POSTS, ids=[p for p, _ in FORGED_POSTS])
def test_forged_or_missing_csrf_token_changes_nothing(csrf_app, path, data, token):
    home = factories.partnership("Home IJB")
    admin = factories.user(is_admin=True, role=None, email="admin@example.scot")
    db.session.commit()
    client = csrf_app.test_client()
    _csrf_token(client, "/auth/sign-in")
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    before = _counts()
    session_token = admin.session_token
    password_hash = admin.password_hash
    payload = dict(data, partnership_id=home.id)
    if token:
        payload["csrf_token"] = token
    response = client.post(path, data=payload)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "nothing was changed" in html and "CSRF" not in html
    db.session.expire_all()
    assert _counts() == before
    assert admin.session_token == session_token and admin.password_hash == password_hash


def test_sign_in_with_a_valid_csrf_token_works(csrf_app):
    factories.user(email="officer@example.scot")
    db.session.commit()
    client = csrf_app.test_client()
    token = _csrf_token(client, "/auth/sign-in")
    response = client.post("/auth/sign-in", data={"email": "officer@example.scot", "password": factories.PASSWORD,
                                                  "csrf_token": token})
    assert response.status_code == 302


def test_forms_on_admin_pages_carry_a_csrf_token(csrf_app):
    admin = factories.user(is_admin=True, role=None)
    factories.partnership()
    db.session.commit()
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
    for path in ["/admin/users/new", "/admin/organisations/new", "/admin/partnerships/new", "/auth/api-tokens",
                 f"/admin/users/{admin.id}", "/auth/change-password"]:
        html = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
        assert forms, path
        assert all('name="csrf_token"' in form for form in forms), path


# No GET changes anything -----------------------------------------------------------------------------------


def _all_counts() -> dict:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


#: Columns a GET may write by design: an API token records when it was last used.
GET_MAY_WRITE = {("api_tokens", "last_used_at")}


def _every_row() -> dict:
    """Every row of every table, in primary-key order: an UPDATE shows here where a count would not."""
    dump = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in GET_MAY_WRITE]
        order = list(table.primary_key.columns) or columns
        dump[table.name] = [tuple(row) for row in db.session.execute(select(*columns).order_by(*order))]
    return dump


def _get_world(app, world, client_as) -> dict:
    """A row behind every id a GET route takes, made through the app's own services and pages."""
    import datetime as dt
    import io
    from pathlib import Path

    import openpyxl

    from tracker.api import tokens
    from tracker.auth import services as auth_services
    from tracker.committees.models import Committee, CommitteeKind, Meeting
    from tracker.imports.models import ImportJob
    from tracker.indicators import services as indicators
    from tracker.periods import FinancialQuarter, Period
    from tracker.selfeval import services as selfeval
    from tracker.workbooks import services as workbooks
    from tracker.workbooks.models import ReturnUpload

    org = factories.organisation(world.home)
    committee = Committee(partnership_id=world.home.id, name="PAC", kind=CommitteeKind.PAC)
    committee.plans.append(world.plan)
    committee.meetings.append(Meeting(held_on=dt.date(2030, 10, 25)))
    db.session.add(committee)
    indicator = indicators.create_indicator(world.plan, name="Carers with support plans", frequency="quarterly",
                                            starts_on=dt.date(2023, 4, 1), actor_id=world.manager.id,
                                            responsible_officer_id=world.officer.id, target=450.0)
    period = Period.parse("quarterly", "Q2 2024/25")
    indicators.enter_value(indicator, period, value=400, actor_id=world.manager.id, today=dt.date(2024, 11, 20))
    round_ = selfeval.create_round(partnership=world.home, framework=factories.msg(), title="Self-evaluation",
                                   actor_id=world.manager.id)
    rated = next(r for r in round_.ratings if r.item.local_completion)
    from tracker.evidence import services as evidence
    from tracker.scrutiny import services as scrutiny

    report = scrutiny.create_report(partnership_id=world.home.id, plan_id=world.plan.id, title="Audit report",
                                    issued_on=dt.date(2026, 3, 31), scheme_id=scrutiny.schemes(world.home.id)[0].id,
                                    actor_id=world.manager.id)
    recommendation = scrutiny.add_recommendation(report, ref="R1", text="Reconcile.", actor_id=world.manager.id)
    evidence_row = evidence.add_evidence("action", world.officer_action.id, filename="minutes.pdf",
                                         data=b"%PDF-1.4\n%%EOF\n", actor_id=world.officer.id)

    from tracker.plans import services as plan_services

    progress = plan_services.record_progress(world.officer_action, author_id=world.officer.id,
                                             status=world.officer_action.status, narrative="For the GET test.")
    issued, _ = workbooks.issue_workbook(world.plan, FinancialQuarter(2023, 2))
    _user, reset_token = auth_services.start_password_reset(world.officer.email)
    api_tokens = {who: tokens.create_token(getattr(world, who), "GET test")[1]
                  for who in ("admin", "manager", "officer", "viewer")}
    db.session.commit()

    manager = client_as(world.manager)
    fixture = Path(__file__).parent / "fixtures" / "dundee-carers-delivery-plan-2022.xlsx"
    response = manager.post("/imports/", data={"file": (io.BytesIO(fixture.read_bytes()), fixture.name),
                                               "partnership": str(world.home.id), "plan_name": "Imported"},
                            content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    job = db.session.scalar(select(ImportJob))
    wb = openpyxl.load_workbook(io.BytesIO(manager.get(f"/plans/{world.plan.id}/returns/download").data))
    buffer = io.BytesIO()
    wb.save(buffer)
    response = manager.post(f"/plans/{world.plan.id}/returns", content_type="multipart/form-data",
                            data={"return_file": (io.BytesIO(buffer.getvalue()), "return.xlsx")})
    assert response.status_code == 302, response.status_code
    upload = db.session.scalar(select(ReturnUpload))
    # Each user previews their own upload (another's is a 404 by design), so each gets a copy.
    uploads = {}
    for who in ("admin", "manager", "officer", "viewer"):
        if who == "manager":
            uploads[who] = upload.id
            continue
        copy = ReturnUpload(plan_id=upload.plan_id, user_id=getattr(world, who).id, filename=upload.filename,
                            rows=upload.rows)
        db.session.add(copy)
        db.session.flush()
        uploads[who] = copy.id
    from tracker.jobs.models import Job

    from tracker.jobs.models import JobState
    from tracker.jobs.services import result_dir

    result = result_dir(999) / "backup.sqlite3"
    result.write_bytes(b"SQLite format 3\x00")
    background = Job(kind="backup", title="A backup", owner_id=world.manager.id, state=JobState.DONE,
                     result_path=str(result), result_name=result.name)
    db.session.add(background)
    from tracker.risks import services as risks
    risk = risks.create_risk(world.home, reference="R1", title="Funding may not rise", inherent=(3, 3),
                             residual=(2, 2), target=(2, 2), plans=[world.plan], actions=[world.officer_action],
                             actor_id=world.manager.id)
    from tests.rich_world import _uncertain_email
    send_id = _uncertain_email()  # the Outbox page's re-send confirmation
    db.session.commit()
    return {
        "values": {"send_id": send_id, "risk_id": risk.id, "user_id": world.officer.id, "partnership_id": world.home.id, "plan_id": world.plan.id,
                   "action_id": world.officer_action.id, "organisation_id": org.id, "committee_id": committee.id,
                   "indicator_id": indicator.id, "start": period.start.isoformat(), "round_id": round_.id,
                   "item_id": rated.item_id, "workbook_id": issued.id, "kind": "pdf", "filename": "css/app.css",
                   "job_id": background.id,
                   "report_id": report.id, "recommendation_id": recommendation.id, "evidence_id": evidence_row.id,
                   "target": "action", "target_id": world.officer_action.id,
                   "key": "example", "update_id": progress.id, "meeting_id": committee.meetings[0].id},
        "tokens": {"auth.reset_password": reset_token, "imports.preview": job.token, "imports.assign_leads": job.token},
        "uploads": uploads,
        "api_tokens": api_tokens,
    }


def _get_paths(app, values: dict, tokens: dict) -> list[str]:
    """Every GET route of the app, with the ids of real rows filled in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {name: (tokens[rule.endpoint] if name == "token" else values[name]) for name in rule.arguments}
        paths.append(rule.build(args, append_unknown=False)[1])
    return paths


@pytest.mark.parametrize("who", ["admin", "manager", "officer", "viewer"])
def test_no_get_changes_anything(app, world, client_as, who):
    """Every GET route, with ids of rows that exist, leaves every row of every table as it was.

    Mutation it catches: a GET view that UPDATEs a row (e.g. `plan.name += " "` in plans.plan, or a
    "last viewed" stamp); comparing row counts alone let that pass. For the administrator every route
    must reach its view: no 404 for a missing id, no 401 for the API."""
    built = _get_world(app, world, client_as)
    values = {**built["values"], "upload_id": built["uploads"][who]}
    client = client_as(getattr(world, who))
    bearer = {"Authorization": f"Bearer {built['api_tokens'][who]}"}
    paths = _get_paths(app, values, built["tokens"])
    assert "/admin/users" in paths and "/api/v1/plans" in paths
    db.session.expire_all()
    before = _every_row()
    statuses, downloads = {}, {}
    for path in paths:
        with client.get(path, headers=bearer if path.startswith("/api/") else {}) as response:
            statuses[path] = response.status_code
            if response.headers.get("Content-Disposition", "").startswith("attachment"):
                downloads[path] = response.headers.get("Cache-Control")
    assert {path: code for path, code in statuses.items() if code >= 500} == {}
    if who == "admin":
        assert {path: code for path, code in statuses.items() if code in (401, 404)} == {}
        # Every download is kept by no cache (audit.xlsx once had send_file's "no-cache").
        assert len(downloads) >= 5 and {p: c for p, c in downloads.items() if "no-store" not in (c or "")} == {}
    db.session.expire_all()
    assert _every_row() == before


def test_every_form_route_refuses_a_request_without_a_csrf_token(csrf_app):
    """Every POST route of the app (the token-authenticated API aside), signed in as a site administrator."""
    admin = factories.user(is_admin=True, role=None)
    db.session.commit()
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
    routes = [rule for rule in csrf_app.url_map.iter_rules()
              if "POST" in rule.methods and not rule.endpoint.startswith("api.")]
    assert len(routes) >= 10
    before = _all_counts()
    for rule in routes:
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = re.findall(r"\w+", converter.regex)[0]  # its first choice
            else:
                values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
        path = rule.build(values, append_unknown=False)[1]
        response = client.post(path, data={"name": "forged"})
        assert response.status_code == 400, (rule.rule, response.status_code)
    db.session.expire_all()
    assert _all_counts() == before
