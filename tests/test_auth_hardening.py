"""Issue 11: sign-in and reset input, token revocation, throttles, session lifetimes, the outbox, proxies."""
from __future__ import annotations

import re

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
