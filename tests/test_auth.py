"""Signing in and out, rate limits, ending sessions on the server, password reset and change, API tokens."""
from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
import time_machine
from sqlalchemy import func, select

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.auth import services
from tracker.auth.models import ApiToken, PasswordResetToken, SignInAttempt, User
from tracker.auth.passwords import verify_password
from tracker.auth.throttle import lock_ends
from tracker.auth.views import safe_next
from tracker.extensions import db
from tracker.mail import outbox as _sent

NEW_PASSWORD = "a brand new passphrase 2026"


def outbox():
    """What has been e-mailed once the queued messages are delivered (reset links go through tracker.outbox)."""
    from tracker.outbox.services import deliver_pending

    deliver_pending()
    return _sent()


def post_sign_in(client, email, password=factories.PASSWORD, **kwargs):
    return client.post("/auth/sign-in", data={"email": email, "password": password}, **kwargs)


def signed_in_client(app, email="officer@example.scot"):
    client = app.test_client()
    assert post_sign_in(client, email).status_code == 302
    return client


def session_cookie(client) -> str:
    return client.get_cookie("session", domain="tracker.test").value


def client_with_cookie(app, value):
    client = app.test_client()
    client.set_cookie("session", value, domain="tracker.test")
    return client


def is_signed_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200


@pytest.fixture
def officer(app):
    user = factories.user(factories.partnership("Home IJB"), email="officer@example.scot")
    db.session.commit()
    return user


# Signing in ------------------------------------------------------------------------------------------------


def test_sign_in_and_out(app, officer):
    client = signed_in_client(app)
    assert is_signed_in(client)
    assert officer.last_sign_in_at is not None
    response = client.post("/auth/sign-out")
    assert response.status_code == 302 and response.location.endswith("/auth/sign-in")
    assert not is_signed_in(client)


def _error_text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.findall(r'class="ds_question__error-message"[^>]*>(.*?)</p>', html, re.S))


def test_unknown_user_wrong_password_and_disabled_account_get_the_same_message(app, officer):
    disabled = factories.user(email="gone@example.scot")
    disabled.active = False
    db.session.commit()
    answers = [post_sign_in(app.test_client(), "nobody@example.scot"),
               post_sign_in(app.test_client(), "officer@example.scot", "wrong password"),
               post_sign_in(app.test_client(), "gone@example.scot")]
    assert {r.status_code for r in answers} == {400}
    assert {_error_text(r) for r in answers} == {
        '<span class="visually-hidden">Error: </span>The email address or password is not right.'}
    bodies = {re.sub(r'value="[^"]*"', "", r.get_data(as_text=True)) for r in answers}
    assert len(bodies) == 1, "the pages differ for an unknown user, a wrong password and a disabled account"


def test_email_is_matched_without_regard_to_case_or_spaces(app, officer):
    assert post_sign_in(app.test_client(), "  Officer@Example.SCOT ").status_code == 302


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com", "javascript:alert(1)",
                                    "http:/evil.com", "evil.com", "", None])
def test_safe_next_refuses_other_sites(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/plans/3?tab=actions", "/admin/users#top"])
def test_safe_next_keeps_paths_in_the_app(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target,expected", [("//evil.com", None), ("https://evil.com/x", None),
                                             ("/\\evil.com", None), ("javascript:alert(1)", None),
                                             ("/auth/account", "/auth/account")])
def test_sign_in_follows_next_only_inside_the_app(app, officer, target, expected):
    response = app.test_client().post("/auth/sign-in", query_string={"next": target},
                                      data={"email": "officer@example.scot", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.location == (expected or app.url_for("home.index", _external=False))


# Rate limits -----------------------------------------------------------------------------------------------


T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)


def test_lock_ends_after_five_failures_within_fifteen_minutes():
    window, lock = 15 * MINUTE, 15 * MINUTE
    four = [T0 + i * MINUTE for i in range(4)]
    assert lock_ends(four, max_failures=5, window=window, lock=lock) is None
    five = four + [T0 + 10 * MINUTE]
    assert lock_ends(five, max_failures=5, window=window, lock=lock) == T0 + 25 * MINUTE
    spread = [T0 + i * 5 * MINUTE for i in range(5)]  # five failures over twenty minutes
    assert lock_ends(spread, max_failures=5, window=window, lock=lock) is None


def test_five_failures_lock_sign_in_for_fifteen_minutes_even_with_the_right_password(app, officer):
    client = app.test_client()
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(5):
            assert post_sign_in(client, "officer@example.scot", "wrong").status_code == 400
        locked = post_sign_in(client, "officer@example.scot")
        assert locked.status_code == 429
        assert "too many failed attempts" in locked.get_data(as_text=True)
        traveller.shift(14 * MINUTE)
        assert post_sign_in(client, "officer@example.scot").status_code == 429
        traveller.shift(2 * MINUTE)
        assert post_sign_in(client, "officer@example.scot").status_code == 302
    assert db.session.scalar(select(func.count(SignInAttempt.id)).where(
        SignInAttempt.email == "officer@example.scot")) == 0  # success forgives earlier failures


def test_unknown_addresses_are_locked_the_same_way(app, officer):
    client = app.test_client()
    for _ in range(5):
        post_sign_in(client, "nobody@example.scot", "wrong")
    assert post_sign_in(client, "nobody@example.scot", "wrong").status_code == 429


def test_failures_from_one_address_lock_that_address_for_every_account(make_app, officer):
    app = make_app(SIGN_IN_MAX_FAILURES_PER_IP=3)
    client = app.test_client()
    for n in range(3):
        post_sign_in(client, f"guess{n}@example.scot", "wrong", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert post_sign_in(client, "officer@example.scot",
                        environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 429
    assert post_sign_in(client, "officer@example.scot",
                        environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 302


def test_limits_are_shared_by_every_server_process(make_app, officer):
    worker_one, worker_two = make_app(), make_app()
    for _ in range(5):
        post_sign_in(worker_one.test_client(), "officer@example.scot", "wrong")
    assert post_sign_in(worker_two.test_client(), "officer@example.scot").status_code == 429


# Sessions end on the server ----------------------------------------------------------------------------------


def test_a_replayed_cookie_is_refused_after_sign_out(app, officer):
    client = signed_in_client(app)
    captured = session_cookie(client)
    assert is_signed_in(client_with_cookie(app, captured))
    client.post("/auth/sign-out")
    replay = client_with_cookie(app, captured)
    response = replay.get("/")
    assert response.status_code == 302 and "/auth/sign-in" in response.location


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, officer):
    laptop, phone = signed_in_client(app), signed_in_client(app)
    old_cookie = session_cookie(laptop)
    response = laptop.post("/auth/change-password", data={
        "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert not is_signed_in(client_with_cookie(app, old_cookie))
    assert verify_password(officer.password_hash, NEW_PASSWORD)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "password")).entity_id == officer.id


def test_disabling_an_account_ends_its_sessions(app, officer):
    from tracker.admin import services as admin

    client = signed_in_client(app)
    admin.set_active(officer, False, actor_id=None)
    db.session.commit()
    assert not is_signed_in(client)
    admin.set_active(officer, True, actor_id=None)
    db.session.commit()
    assert not is_signed_in(client)  # enabling again does not revive old sessions


@pytest.mark.parametrize("data,message", [
    ({"current_password": "wrong", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "current password is not right"),
    ({"current_password": factories.PASSWORD, "new_password": "short", "confirm_password": "short"},
     "at least 12 characters"),
    ({"current_password": factories.PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"},
     "not the same"),
])
def test_a_refused_password_change_changes_nothing(app, officer, data, message):
    client = signed_in_client(app)
    token, password_hash = officer.session_token, officer.password_hash
    response = client.post("/auth/change-password", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (officer.session_token, officer.password_hash) == (token, password_hash)


# Password reset --------------------------------------------------------------------------------------------


def _reset_link() -> str:
    (message,) = outbox()
    body = message.get_content()
    return re.search(r"http://tracker\.test(/auth/reset-password/\S+)", body).group(1)


def test_password_reset_by_a_single_use_link(app, officer):
    other_session = signed_in_client(app)
    response = app.test_client().post("/auth/reset-password", data={"email": "OFFICER@example.scot"})
    assert response.status_code == 302
    (message,) = outbox()
    assert message["To"].endswith("<officer@example.scot>") and message["Subject"] == "Reset your password"
    path = _reset_link()
    token = path.rsplit("/", 1)[1]
    stored = db.session.scalar(select(PasswordResetToken))
    assert stored.token_hash != token and token not in stored.token_hash  # only a hash is kept
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=1)

    client = app.test_client()
    assert client.get(path, follow_redirects=True).status_code == 200
    assert client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}).status_code == 302
    assert post_sign_in(app.test_client(), "officer@example.scot", NEW_PASSWORD).status_code == 302
    assert not is_signed_in(other_session)

    # Used once: the same link (or a replayed POST) does nothing more.
    assert client.get(path, follow_redirects=True).status_code == 404
    again = client.post(path, data={"new_password": "yet another passphrase", "confirm_password": "yet another passphrase"})
    assert again.status_code == 404
    db.session.expire_all()
    assert verify_password(officer.password_hash, NEW_PASSWORD)


def test_reset_link_expires_after_an_hour(app, officer):
    with time_machine.travel(T0, tick=False) as traveller:
        app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
        path = _reset_link()
        traveller.shift(61 * MINUTE)
        client = app.test_client()
        assert client.get(path, follow_redirects=True).status_code == 404
        response = client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert response.status_code == 404 and "expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert verify_password(officer.password_hash, factories.PASSWORD)


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(app, officer):
    known = app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"},
                                   follow_redirects=True)
    unknown = app.test_client().post("/auth/reset-password", data={"email": "nobody@example.scot"},
                                     follow_redirects=True)
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert len(outbox()) == 1


def test_reset_requests_are_limited_per_hour(app, officer):
    for _ in range(5):
        app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    assert len(outbox()) == services.MAX_RESETS_PER_HOUR


def test_a_reset_ends_a_lock_caused_by_someone_elses_guesses(app, officer):
    for _ in range(5):
        post_sign_in(app.test_client(), "officer@example.scot", "guess")
    assert post_sign_in(app.test_client(), "officer@example.scot").status_code == 429
    app.test_client().post("/auth/reset-password", data={"email": "officer@example.scot"})
    app.test_client().post(_reset_link(), data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert post_sign_in(app.test_client(), "officer@example.scot", NEW_PASSWORD).status_code == 302


def test_a_forged_reset_token_is_refused(app, officer):
    response = app.test_client().post("/auth/reset-password/not-a-real-token",
                                      data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 404


# Mail ------------------------------------------------------------------------------------------------------


def test_send_messages_uses_one_smtp_connection(make_app):
    """Mutation it catches: `send_messages` opening a connection per message (`with connect(config)` inside
    the loop): the server then sees two SMTP sessions, not one."""
    from aiosmtpd.controller import Controller

    from tracker import mail

    class Handler:
        def __init__(self):
            self.messages = []
            self.sessions = []

        async def handle_DATA(self, server, session, envelope):
            # aiosmtpd makes one Session per connection: tag it the first time it is seen.
            if not getattr(session, "tracker_counted", False):
                session.tracker_counted = True
                self.sessions.append(session)
            self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                       MAIL_DEFAULT_SENDER="tracker@example.scot", MAIL_REPLY_TO="team@example.scot")
        with app.app_context():
            messages = [mail.build_message(to=f"person{n}@example.scot", subject=f"Hello {n}", body="Body text")
                        for n in range(2)]
            mail.send_messages(messages)
            assert app.extensions.get("outbox", []) == []
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in handler.messages] == [["person0@example.scot"], ["person1@example.scot"]]
    assert len(handler.sessions) == 1
    assert "Reply-To: team@example.scot" in handler.messages[0][1]


# API tokens ------------------------------------------------------------------------------------------------


def test_api_token_is_shown_once_and_stored_hashed(app, officer):
    client = signed_in_client(app)
    response = client.post("/auth/api-tokens", data={"name": "Quarterly report"})
    html = response.get_data(as_text=True)
    token = re.search(r'id="new-token">(trk_[^<]+)<', html).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "Quarterly report" and stored.token_hash != token and token.startswith(stored.prefix)
    assert token not in client.get("/auth/api-tokens").get_data(as_text=True)
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    assert client.post(f"/auth/api-tokens/{stored.id}/revoke").status_code == 302
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "api_token")).all()
    assert verbs == ["create", "revoke"]


def test_cannot_revoke_someone_elses_token(app, officer):
    from tracker.api import tokens

    other = factories.user(email="other@example.scot")
    token, _ = tokens.create_token(other, "theirs")
    db.session.commit()
    assert signed_in_client(app).post(f"/auth/api-tokens/{token.id}/revoke").status_code == 404
    db.session.expire_all()
    assert token.revoked_at is None


def test_users_token_command_prints_a_working_token(app, runner, officer):
    result = runner.invoke(args=["users", "token", "officer@example.scot", "--name", "Nightly export"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("trk_")
    assert app.test_client().get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["users", "token", "nobody@example.scot"]).exit_code != 0


# Permission table for the account endpoints: each role, its own account and someone else's ------------------

ACCOUNT_ROLES = ["viewer", "officer", "other_officer", "manager", "outsider", "admin", None]


def _account_cases():
    cases = []
    for role in ACCOUNT_ROLES:
        signed_in = role is not None
        cases += [
            ("create token", role, 200 if signed_in else 302, signed_in),
            ("revoke the officer's token", role, 302 if role == "officer" else (404 if signed_in else 302),
             role == "officer"),
            ("change password", role, 302, signed_in),
        ]
    return cases


ACCOUNT_CASES = _account_cases()


@pytest.mark.parametrize("endpoint,role,expected,changes", ACCOUNT_CASES,
                         ids=[f"{e.replace(' ', '-')}-{r or 'anonymous'}-{s}" for e, r, s, _ in ACCOUNT_CASES])
def test_account_endpoint_permissions(app, world, client_as, endpoint, role, expected, changes):
    from tests.test_admin import database_state
    from tracker.api import tokens

    officer_token, _ = tokens.create_token(world.officer, "officer's script")
    db.session.commit()
    path, data = {
        "create token": ("/auth/api-tokens", {"name": "My script"}),
        "revoke the officer's token": (f"/auth/api-tokens/{officer_token.id}/revoke", {}),
        "change password": ("/auth/change-password", {"current_password": factories.PASSWORD,
                                                      "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}),
    }[endpoint]
    client = client_as(getattr(world, role)) if role else app.test_client()
    tokens_before = db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()
    before = database_state()
    hashes = dict(db.session.execute(select(User.id, User.password_hash)).all())
    response = client.post(path, data=data)
    assert response.status_code == expected
    if role is None:
        assert "/auth/sign-in" in response.location
    after = database_state()
    changed = (after != before or db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all() != tokens_before
               or dict(db.session.execute(select(User.id, User.password_hash)).all()) != hashes)
    assert changed == changes
