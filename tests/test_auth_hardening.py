"""Issue 11: sign-in and reset input, token revocation, throttles, session lifetimes, the outbox, proxies."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tracker.auth import services
from tracker.auth.models import ApiToken, SignInAttempt, User
from tracker.errors import RuleError
from tracker.extensions import db

NEW_PASSWORD = "a brand new passphrase 2026"
CONTROL = ["a\x00@example.scot", "officer@example.scot\x00", "officer@example.scot\r\nBcc: x@evil.test",
           "a\x1b@example.scot", "a\u2028@example.scot"]


@pytest.fixture
def officer(app):
    user = factories.user(factories.partnership("Home IJB"), email="officer@example.scot")
    db.session.commit()
    return user


def post_sign_in(client, email, password=factories.PASSWORD, **kwargs):
    return client.post("/auth/sign-in", data={"email": email, "password": password}, **kwargs)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# 1. Sign-in and reset input ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", CONTROL)
def test_sign_in_with_control_characters_is_refused_plainly(app, officer, email):
    response = post_sign_in(app.test_client(), email)
    assert response.status_code == 400
    assert "without hidden control characters" in response.get_data(as_text=True)
    assert count(SignInAttempt) == 0


@pytest.mark.parametrize("email", CONTROL)
def test_reset_request_with_control_characters_is_refused_plainly(app, officer, email):
    response = app.test_client().post("/auth/reset-password", data={"email": email})
    assert response.status_code == 400
    assert "without hidden control characters" in response.get_data(as_text=True)


@pytest.mark.parametrize("email", CONTROL)
def test_the_services_refuse_control_characters_themselves(app, officer, email):
    for call in (lambda: services.sign_in(email, "x", "192.0.2.1"), lambda: services.start_password_reset(email),
                 lambda: services.find_by_email(email)):
        with pytest.raises(RuleError) as refused:
            call()
        assert refused.value.field == "email"
    db.session.rollback()


@pytest.mark.parametrize("name", ["Evil\r\nBcc: victim@example.scot", "Nul\x00name", "Tab\tname"])
def test_creating_a_user_refuses_a_name_with_control_characters(app, name):
    with pytest.raises(RuleError) as refused:
        services.create_user(email="new@example.scot", name=name)
    assert refused.value.field == "name"
    db.session.rollback()
    assert count(User) == 0


def test_users_create_command_refuses_a_name_with_a_line_break(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "new@example.scot", "--name", "Two\nLines",
                                 "--password", NEW_PASSWORD])
    assert result.exit_code != 0 and "one line" in result.output
    assert count(User) == 0


def test_an_api_token_name_with_a_nul_is_refused(app, officer, client_as):
    response = client_as(officer).post("/auth/api-tokens", data={"name": "report\x00"})
    assert response.status_code == 400 and "without hidden control characters" in response.get_data(as_text=True)
    assert count(ApiToken) == 0


def sent_mail() -> list:
    """What the app has e-mailed (sending is suppressed in tests: the messages are kept in a list)."""
    from tracker.mail import outbox
    from tracker.outbox.services import deliver_pending

    deliver_pending()
    return outbox()


def test_a_reset_for_a_user_whose_name_has_a_line_break_sends_one_clean_header(app):
    user = factories.user(email="evil@example.scot")
    user.name = "Evil\r\nBcc: victim@example.scot"  # stored before names were checked
    db.session.commit()
    response = app.test_client().post("/auth/reset-password", data={"email": "evil@example.scot"})
    assert response.status_code == 302
    (message,) = sent_mail()
    assert message["To"] == '"Evil Bcc: victim@example.scot" <evil@example.scot>'
    assert message["Bcc"] is None and "\n" not in message["To"]
    assert [a.addr_spec for a in message["To"].addresses] == ["evil@example.scot"]


# 5. A shared client address is not locked for everyone ------------------------------------------------------

SHARED = {"REMOTE_ADDR": "198.51.100.20"}  # a council's or NHS board's one outgoing address


def _failures(ip: str, emails: list[str]) -> None:
    db.session.add_all([SignInAttempt(email=email, ip=ip) for email in emails])
    db.session.commit()


def test_one_persons_mistakes_behind_a_shared_address_lock_only_that_account(app, officer):
    colleague = factories.user(email="colleague@example.scot")
    db.session.commit()
    client = app.test_client()
    for _ in range(5):
        assert post_sign_in(client, "colleague@example.scot", "wrong", environ_base=SHARED).status_code == 400
    assert post_sign_in(client, "colleague@example.scot", environ_base=SHARED).status_code == 429
    assert post_sign_in(app.test_client(), "officer@example.scot", environ_base=SHARED).status_code == 302
    assert colleague.last_sign_in_at is None


def test_many_staff_mistyping_behind_one_address_do_not_lock_it(app, officer):
    """Forty people each mistyping four times (160 failures, the old limit was 20): everyone else gets in."""
    _failures(SHARED["REMOTE_ADDR"], [f"person{n}@example.scot" for n in range(40) for _ in range(4)])
    assert post_sign_in(app.test_client(), "officer@example.scot", environ_base=SHARED).status_code == 302


def test_the_address_alone_is_locked_after_two_hundred_failures(app, officer):
    assert app.config["SIGN_IN_MAX_FAILURES_PER_IP"] == 200
    _failures(SHARED["REMOTE_ADDR"], [f"guess{n}@example.scot" for n in range(200)])
    assert post_sign_in(app.test_client(), "officer@example.scot", environ_base=SHARED).status_code == 429
    assert post_sign_in(app.test_client(), "officer@example.scot",
                        environ_base={"REMOTE_ADDR": "198.51.100.21"}).status_code == 302


def test_address_and_email_together_have_their_own_limit(make_app, officer):
    app = make_app(SIGN_IN_MAX_FAILURES_PER_EMAIL=50, SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL=3)
    with app.app_context():
        _failures(SHARED["REMOTE_ADDR"], ["officer@example.scot"] * 3)
        assert post_sign_in(app.test_client(), "officer@example.scot", environ_base=SHARED).status_code == 429
        assert post_sign_in(app.test_client(), "officer@example.scot",
                            environ_base={"REMOTE_ADDR": "198.51.100.21"}).status_code == 302


# 2. API tokens end with a password change or reset -----------------------------------------------------------


def _token(app, user) -> str:
    from tracker.api import tokens

    _, plain = tokens.create_token(user, "Report script")
    db.session.commit()
    assert _api_status(app, plain) == 200
    return plain


def _api_status(app, plain: str) -> int:
    return app.test_client().get("/api/v1/plans", headers={"Authorization": f"Bearer {plain}"}).status_code


def test_changing_the_password_revokes_the_users_api_tokens(app, officer, client_as):
    plain = _token(app, officer)
    other = factories.user(email="other@example.scot")
    db.session.commit()
    others = _token(app, other)
    response = client_as(officer).post("/auth/change-password", data={
        "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert _api_status(app, plain) == 401
    assert _api_status(app, others) == 200  # nobody else's
    from tracker.audit.models import AuditEvent

    summaries = db.session.scalars(select(AuditEvent.summary).where(AuditEvent.entity_type == "api_token",
                                                                    AuditEvent.verb == "revoke")).all()
    assert summaries == ["Revoked API token Report script: the password was changed"]


def test_a_password_reset_revokes_the_users_api_tokens(app, officer):
    plain = _token(app, officer)
    started = services.start_password_reset("officer@example.scot")
    db.session.commit()
    _user, token = started
    reset = services.valid_reset(token)
    assert services.complete_password_reset(reset, NEW_PASSWORD) is not None
    db.session.commit()
    assert _api_status(app, plain) == 401


def test_a_refused_password_change_keeps_the_tokens(app, officer, client_as):
    plain = _token(app, officer)
    client_as(officer).post("/auth/change-password", data={
        "current_password": "wrong", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert _api_status(app, plain) == 200


# 3. Change-password is throttled like sign-in ----------------------------------------------------------------


def _change(client, current):
    return client.post("/auth/change-password", data={
        "current_password": current, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})


def test_guessing_the_current_password_is_locked_like_sign_in(app, officer, client_as):
    client = client_as(officer)
    for _ in range(5):
        assert _change(client, f"guess {_}").status_code == 400
    locked = _change(client, factories.PASSWORD)
    assert locked.status_code == 429 and "too many failed attempts" in locked.get_data(as_text=True)
    db.session.expire_all()
    assert services.authenticate("officer@example.scot", factories.PASSWORD) is not None  # unchanged
    db.session.rollback()
    # The guesses count against signing in too.
    assert post_sign_in(app.test_client(), "officer@example.scot").status_code == 429


def test_the_change_password_lock_ends_after_the_lock_time(app, officer, client_as):
    import datetime as dt

    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc), tick=False) as traveller:
        client = client_as(officer)
        for _ in range(5):
            _change(client, "guess")
        assert _change(client, factories.PASSWORD).status_code == 429
        traveller.shift(dt.timedelta(minutes=16))
        assert _change(client, factories.PASSWORD).status_code == 302


# 4. Sessions end after an idle time and an absolute lifetime ------------------------------------------------

HOUR = __import__("datetime").timedelta(hours=1)


def _travel(start=None):
    import datetime as dt

    import time_machine

    return time_machine.travel(start or dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc), tick=False)


def _signed_in(app, email="officer@example.scot"):
    client = app.test_client()
    assert post_sign_in(client, email).status_code == 302
    return client


def test_a_session_ends_after_eight_idle_hours(app, officer):
    assert app.config["SESSION_IDLE_MINUTES"] == 480
    with _travel() as traveller:
        client = _signed_in(app)
        traveller.shift(7.9 * HOUR)
        assert client.get("/auth/account").status_code == 200  # active again: the idle time starts over
        traveller.shift(7.9 * HOUR)
        assert client.get("/auth/account").status_code == 200
        traveller.shift(8.1 * HOUR)
        response = client.get("/auth/account")
        assert response.status_code == 302 and "/auth/sign-in" in response.location
        assert response.location.endswith("next=/auth/account")
        page = client.get(response.location).get_data(as_text=True)
        assert "You were signed out because you had not used the tracker for 8 hours" in page
        assert client.get("/auth/account").status_code == 302  # signed out for good, not just redirected once


def test_a_session_ends_seven_days_after_signing_in_however_busy(app, officer):
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 168
    with _travel() as traveller:
        client = _signed_in(app)
        for _ in range(41):  # every four hours for 164 hours
            traveller.shift(4 * HOUR)
            assert client.get("/auth/account").status_code == 200
        traveller.shift(5 * HOUR)  # 169 hours after signing in
        response = client.get("/auth/account", follow_redirects=True)
        assert "You were signed out because you signed in more than 7 days ago" in response.get_data(as_text=True)
        assert client.get("/auth/account").status_code == 302


def test_shorter_limits_come_from_the_config(make_app, officer):
    app = make_app(SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=2)
    with app.app_context(), _travel() as traveller:
        client = _signed_in(app)
        traveller.shift(0.4 * HOUR)
        assert client.get("/auth/account").status_code == 200
        traveller.shift(0.6 * HOUR)
        response = client.get("/auth/account", follow_redirects=True)
        assert "had not used the tracker for 30 minutes" in response.get_data(as_text=True)


def test_a_password_change_keeps_the_original_sign_in_time(app, officer):
    with _travel() as traveller:
        client = _signed_in(app)
        traveller.shift(100 * HOUR)
        client.get("/auth/account")
        traveller.shift(7 * HOUR)
        assert client.post("/auth/change-password", data={
            "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD}).status_code == 302
        traveller.shift(7 * HOUR)
        client.get("/auth/account")
        traveller.shift(60 * HOUR)  # 174 hours after signing in, never idle for 8
        assert client.get("/auth/account").status_code == 302


def test_a_remember_me_cookie_does_not_outlive_the_absolute_lifetime(app, officer):
    from flask_login.utils import encode_cookie

    assert app.config["REMEMBER_COOKIE_DURATION"] == 168 * HOUR
    with _travel() as traveller:
        client = _signed_in(app)
        with client.session_transaction() as session:
            remembered = encode_cookie(session["_user_id"])
        fresh = app.test_client()
        fresh.set_cookie("remember_token", remembered, domain="tracker.test")
        assert fresh.get("/auth/account").status_code == 200  # restored from the cookie
        traveller.shift(169 * HOUR)
        late = app.test_client()
        late.set_cookie("remember_token", remembered, domain="tracker.test")
        assert late.get("/auth/account").status_code == 302
