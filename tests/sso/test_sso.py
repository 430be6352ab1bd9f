"""Single sign-on through a real OpenID Connect provider on loopback: the whole flow in the test client,
key rotation, every forged callback, accounts matched, linked and created just in time, SSO-only partnerships,
signing out. Each refusal changes nothing and is logged."""
from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from tests import factories
from tests.sso.provider import CLIENT_ID, new_key
from tracker.audit.models import AuditEvent
from tracker.auth import sso_services
from tracker.auth.models import Membership, PasswordResetToken, Role, SsoIdentity, User
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.outbox.services import queued_to
from tracker.reminders.models import ReminderSend

# -- helpers ---------------------------------------------------------------------------------------------------


def start(client, **query) -> str:
    response = client.get("/auth/sso/test", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def authorize(location: str) -> str:
    """The browser at the provider: it signs the person in and sends them back with a code and the state."""
    response = requests.get(location, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def local(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "tracker.test", url
    return f"{parts.path}?{parts.query}"


def callback_url(client, **query) -> str:
    return local(authorize(start(client, **query)))


def sso_sign_in(client, **query):
    return client.get(callback_url(client, **query))


def snapshot() -> tuple:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in
                 (User, SsoIdentity, Membership, AuditEvent, PasswordResetToken, ReminderSend)) + (
        tuple(db.session.execute(select(User.id, User.last_sign_in_at, User.active)).all()),)


def signed_in_as(client) -> str | None:
    response = client.get("/auth/account")
    if response.status_code != 200:
        return None
    return response.get_data(as_text=True)


def refused(response, status: int, words: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert "You have not been signed in" in body
    assert words in " ".join(body.split()), body
    return body


# -- the whole flow --------------------------------------------------------------------------------------------


def test_sign_in_page_offers_the_provider(client, world):
    body = client.get("/auth/sign-in").get_data(as_text=True)
    assert "Sign in with Test Council" in body
    assert 'href="/auth/sso/test' in body


def test_full_flow_links_by_verified_email_and_starts_a_normal_session(app, client, world, oidc):
    location = start(client, next="/plans/")
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{oidc.url}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://tracker.test/auth/sso/test/callback"]
    assert "openid" in query["scope"][0].split()

    response = client.get(local(authorize(location)))
    assert response.status_code == 302 and response.headers["Location"].endswith("/plans/")
    identity = db.session.scalar(select(SsoIdentity))
    assert (identity.user_id, identity.provider, identity.subject) == (world.officer.id, "test", "subject-1")
    with client.session_transaction() as session:
        ident, token, signed_in_at = session["_user_id"].split(":")  # the same session as a password sign-in
        assert int(ident) == world.officer.id and signed_in_at.isdigit()
        assert session["sso_provider"] == "test"
    account = signed_in_as(client)
    assert "Test Council as officer@example.scot" in " ".join(account.split())
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "sso_link")).entity_id == world.officer.id


def test_a_linked_subject_signs_in_whatever_email_the_provider_sends_later(app, world, oidc):
    assert sso_sign_in(app.test_client()).status_code == 302
    oidc.person["email"] = "renamed@example.scot"  # changed at the provider: the subject still matches
    oidc.person["email_verified"] = False
    client = app.test_client()
    assert sso_sign_in(client).status_code == 302
    assert "Olive" in signed_in_as(client) or world.officer.name in signed_in_as(client)
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 1


def test_keys_are_cached_and_a_rotated_key_is_fetched_once(app, world, oidc):
    assert sso_sign_in(app.test_client()).status_code == 302
    assert (oidc.count("/.well-known/openid-configuration"), oidc.count("/jwks")) == (1, 1)
    assert sso_sign_in(app.test_client()).status_code == 302
    assert oidc.count("/jwks") == 1  # cached
    oidc.rotate("second")
    assert sso_sign_in(app.test_client()).status_code == 302  # unknown kid: one refetch, then it verifies
    assert oidc.count("/jwks") == 2
    assert sso_sign_in(app.test_client()).status_code == 302
    assert (oidc.count("/.well-known/openid-configuration"), oidc.count("/jwks")) == (1, 2)


# -- forged and replayed callbacks -----------------------------------------------------------------------------


def test_a_replayed_callback_is_refused(app, client, world, oidc, caplog):
    url = callback_url(client)
    assert client.get(url).status_code == 302
    client.post("/auth/sign-out")
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="tracker.auth"):
        refused(client.get(url), 400, "already been used or has expired")
    assert snapshot() == before
    assert "state mismatch" in caplog.text


def test_a_forged_state_or_a_callback_never_started_is_refused(app, world, oidc):
    client = app.test_client()
    url = callback_url(client)
    forged = url.replace("state=", "state=forged")
    before = snapshot()
    refused(client.get(forged), 400, "already been used or has expired")
    refused(app.test_client().get(url), 400, "already been used or has expired")  # another browser
    assert snapshot() == before
    assert signed_in_as(client) is None


def test_a_token_carrying_an_earlier_nonce_is_refused(app, world, oidc, caplog):
    assert sso_sign_in(app.test_client()).status_code == 302
    oidc.claims["nonce"] = oidc.issued[0]["nonce"]  # the provider replays the ID token's nonce of the first
    client = app.test_client()
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="tracker.auth"):
        refused(sso_sign_in(client), 400, "could not trust")
    assert snapshot() == before and signed_in_as(client) is None
    assert "nonce" in caplog.text


@pytest.mark.parametrize("forgery,log_words", [
    ("signature", "signature"),
    ("unknown kid", "not valid"),
    ("audience", "aud"),
    ("issuer", "iss"),
    ("no subject", "sub"),
])
def test_forged_id_tokens_are_refused(app, world, oidc, caplog, forgery, log_words):
    if forgery == "signature":
        oidc.sign_with = new_key("first", owner="forger")  # the published key's id, someone else's key
    elif forgery == "unknown kid":
        oidc.sign_with = new_key("ghost", owner="forger")
    elif forgery == "audience":
        oidc.claims["aud"] = "another-client"
    elif forgery == "issuer":
        oidc.claims["iss"] = "https://evil.example"
    else:
        oidc.claims["sub"] = None
    client = app.test_client()
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="tracker.auth"):
        refused(sso_sign_in(client), 400, "could not trust")
    assert snapshot() == before and signed_in_as(client) is None
    assert log_words in caplog.text
    if forgery == "unknown kid":
        assert oidc.count("/jwks") == 2  # the cached keys, then exactly one refetch


def test_an_expired_id_token_is_refused(app, world, oidc, caplog):
    now = int(time.time())
    oidc.claims.update(exp=now - 600, iat=now - 900)
    client = app.test_client()
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="tracker.auth"):
        refused(sso_sign_in(client), 400, "had already expired")
    assert snapshot() == before and "expired" in caplog.text


def test_a_discovery_document_naming_another_issuer_is_refused(app, client, world, oidc):
    oidc.discovery_issuer = "https://evil.example"
    before = snapshot()
    refused(client.get("/auth/sso/test"), 502, "could not trust")
    assert snapshot() == before


def test_the_provider_unreachable(app, world, oidc, caplog):
    oidc.down = True
    client = app.test_client()
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="tracker.auth"):
        refused(client.get("/auth/sso/test"), 502, "could not reach Test Council")
    oidc.down = False
    url = callback_url(client)
    oidc.down = True  # down between the sign-in page and the token exchange
    refused(client.get(url), 502, "could not reach Test Council")
    assert snapshot() == before and "unreachable" in caplog.text


def test_a_provider_nobody_answers_at(make_app, oidc):
    from tests.sso.provider import provider_config

    app = make_app(SSO_PROVIDERS=provider_config(oidc, issuer="http://127.0.0.1:1"))
    with app.app_context():
        refused(app.test_client().get("/auth/sso/test"), 502, "could not reach Test Council")


def test_cancelled_at_the_provider(app, client, world, oidc):
    oidc.deny = "access_denied"
    refused(sso_sign_in(client), 400, "did not finish signing in with Test Council")


# -- accounts --------------------------------------------------------------------------------------------------


def test_wrong_domain_no_account_unverified_disabled(app, world, oidc):
    cases = [
        ({"email": "someone@gmail.com"}, 403, "can sign in only addresses ending in @example.scot"),
        ({"email": "stranger@example.scot"}, 403, "There is no account on the tracker for stranger@example.scot"),
        ({"email_verified": False}, 403, "has not confirmed that your email address"),
        ({"email": None}, 403, "did not tell us your email address"),
        ({"email": "officer@example.scot\r\nBcc: x@example.scot"}, 403, "did not tell us your email address"),
    ]
    for person, status, words in cases:
        oidc.person = {"sub": "subject-x", "email": "officer@example.scot", "email_verified": True, **person}
        oidc.person = {k: v for k, v in oidc.person.items() if v is not None}
        before = snapshot()
        refused(sso_sign_in(app.test_client()), status, words)
        assert snapshot() == before, person
    world.officer.active = False
    db.session.commit()
    oidc.person["email"] = "officer@example.scot"
    before = snapshot()
    refused(sso_sign_in(app.test_client()), 403, "has been disabled")
    assert snapshot() == before


def test_a_provider_that_vouches_for_its_addresses(make_app, oidc):
    from tests.sso.provider import provider_config

    app = make_app(SSO_PROVIDERS=provider_config(oidc, emails_verified=True))
    with app.app_context():
        officer = factories.user(factories.partnership("Home IJB"), Role.LEAD_OFFICER, email="officer@example.scot")
        db.session.commit()
        oidc.person.pop("email_verified")
        assert sso_sign_in(app.test_client()).status_code == 302
        assert db.session.scalar(select(SsoIdentity.user_id)) == officer.id


def test_an_account_linked_to_another_subject_is_not_taken_over(app, world, oidc):
    assert sso_sign_in(app.test_client()).status_code == 302
    oidc.person["sub"] = "subject-2"
    before = snapshot()
    refused(sso_sign_in(app.test_client()), 403, "already linked to a different Test Council account")
    assert snapshot() == before


def test_just_in_time_creation_only_for_an_allowed_domain_and_with_no_role(app, world, oidc):
    padmin = factories.user(world.home, Role.ADMIN, email="padmin@example.scot")
    other_admin = factories.user(world.other, Role.ADMIN, email="oadmin@example.scot")
    db.session.commit()
    oidc.person = {"sub": "new-1", "email": "New.Person@Example.scot", "email_verified": True, "name": "New Person"}
    refused(sso_sign_in(app.test_client()), 403, "no account on the tracker")  # JIT off

    sso_services.set_partnership_sso(world.home, required=False, jit_domains="example.scot", actor=padmin)
    db.session.commit()
    client = app.test_client()
    response = sso_sign_in(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@example.scot"))
    assert user.name == "New Person" and user.memberships == [] and not user.is_admin and user.password_hash is None
    assert user.sso_identities[0].joined_partnership_id == world.home.id
    with client.session_transaction() as session:
        assert "Your account has been created" in str(session["_flashes"])
    assert "New Person" in signed_in_as(client)

    # the partnership's administrator sees the account, and who signs in how; the other one does not
    from tests.conftest import sign_in_client

    listing = " ".join(sign_in_client(app, padmin).get("/admin/users").get_data(as_text=True).split())
    assert "New Person" in listing and "No role yet" in listing and "Test Council" in listing
    assert "New Person" not in sign_in_client(app, other_admin).get("/admin/users").get_data(as_text=True)
    response = sign_in_client(app, padmin).post(f"/admin/users/{user.id}/roles",
                                                 data={f"role_{world.home.id}": "viewer"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.role_in(world.home.id) is Role.VIEWER


# -- partnerships that require single sign-on ------------------------------------------------------------------


def _require_sso(world):
    sso_services.set_partnership_sso(world.home, required=True, jit_domains="", actor=world.admin)
    db.session.commit()


def test_sso_required_refuses_password_sign_in_and_says_how(app, client, world, oidc):
    _require_sso(world)
    before = snapshot()
    response = client.post("/auth/sign-in", data={"email": "officer@example.scot", "password": factories.PASSWORD})
    body = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 400
    assert "Home IJB asks its members to sign in with their organisation" in body
    assert "Sign in with Test Council" in body
    assert snapshot() == before and signed_in_as(client) is None
    # a wrong password says only what it always says
    wrong = client.post("/auth/sign-in", data={"email": "officer@example.scot", "password": "wrong one here"})
    assert "Home IJB" not in wrong.get_data(as_text=True)
    # the other partnership's people still use passwords
    assert client.post("/auth/sign-in", data={"email": "outsider@example.scot",
                                              "password": factories.PASSWORD}).status_code == 302
    # and single sign-on works
    assert sso_sign_in(app.test_client()).status_code == 302


def test_sso_required_refuses_password_reset(app, client, world, oidc):
    from tracker.auth import services as auth

    _, token = auth.start_password_reset("officer@example.scot")  # a link sent before SSO was required
    db.session.commit()
    _require_sso(world)
    response = client.post("/auth/reset-password", data={"email": "officer@example.scot"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1  # no new link
    [(_, message)] = [(row, body) for row, body in queued_to("officer@example.scot") if "Sign in with" in body]
    assert "Sign in with Test Council" in message and "/auth/reset-password/" not in message
    before = snapshot()
    opened = client.get(f"/auth/reset-password/{token}", follow_redirects=True)
    assert opened.status_code == 403
    assert "Sign in with Test Council" in opened.get_data(as_text=True)
    refused_post = client.post(f"/auth/reset-password/{token}",
                               data={"new_password": "another long passphrase", "confirm": "another long passphrase"})
    assert refused_post.status_code == 403
    assert snapshot() == before


def test_partnership_sso_settings_rules(app, world, oidc):
    padmin = factories.user(world.home, Role.ADMIN, email="padmin@example.scot")
    db.session.commit()
    with pytest.raises(NotAllowed):
        sso_services.set_partnership_sso(world.home, required=True, jit_domains="", actor=world.manager)
    with pytest.raises(RuleError, match="not an email domain"):
        sso_services.set_partnership_sso(world.home, required=False, jit_domains="example.scot\n=cmd|x", actor=padmin)
    with pytest.raises(RuleError, match="accepts addresses at gmail.com"):
        sso_services.set_partnership_sso(world.home, required=False, jit_domains="gmail.com", actor=padmin)
    with pytest.raises(RuleError, match="before requiring it"):
        sso_services.set_partnership_sso(world.home, required=True, jit_domains="", actor=padmin)
    sso_services.set_partnership_sso(world.other, required=False, jit_domains="example.scot", actor=world.admin)
    with pytest.raises(Conflict, match="Other IJB already lets new accounts"):
        sso_services.set_partnership_sso(world.home, required=False, jit_domains="@Example.scot", actor=padmin)
    db.session.rollback()


def test_the_settings_page(app, world, oidc):
    from tests.conftest import sign_in_client

    padmin = factories.user(world.home, Role.ADMIN, email="officer2@example.scot")
    db.session.commit()
    client = sign_in_client(app, padmin)
    page = client.get(f"/admin/partnerships/{world.home.id}/sign-in")
    assert page.status_code == 200 and "How members of Home IJB sign in" in page.get_data(as_text=True)
    assert f"/admin/partnerships/{world.home.id}/sign-in" in client.get("/admin/").get_data(as_text=True)
    bad = client.post(f"/admin/partnerships/{world.home.id}/sign-in", data={"jit_domains": "not a domain!"})
    assert bad.status_code == 400 and "is not an email domain" in bad.get_data(as_text=True)
    assert client.post(f"/admin/partnerships/{world.home.id}/sign-in",
                       data={"jit_domains": "example.scot"}).status_code == 302
    db.session.expire_all()
    assert world.home.jit_domains == ["example.scot"] and not world.home.sso_required
    assert client.get(f"/admin/partnerships/{world.other.id}/sign-in").status_code == 404


# -- signing out -----------------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_and_offers_the_providers_sign_out(app, client, world, oidc):
    assert sso_sign_in(client).status_code == 302
    with client.session_transaction() as session:
        cookie_id = session["_user_id"]
    response = client.post("/auth/sign-out")
    assert response.status_code == 302
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert "Sign out of Test Council too" in page
    link = page.split('href="' + oidc.url + "/end-session", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["post_logout_redirect_uri"] == ["http://tracker.test/auth/sign-in"]
    assert query["client_id"] == [CLIENT_ID]
    assert "Sign out of Test Council" not in client.get("/auth/sign-in").get_data(as_text=True)  # once
    replay = app.test_client()
    with replay.session_transaction() as session:
        session["_user_id"] = cookie_id
    assert signed_in_as(replay) is None  # the old session is worthless


def test_unknown_provider(client, world):
    before = snapshot()
    for path in ("/auth/sso/nope", "/auth/sso/nope/callback?code=x&state=y", "/auth/sso/" + "9" * 30):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/auth/sign-in")
    assert "not set up on this tracker" in client.get("/auth/sign-in").get_data(as_text=True)
    assert snapshot() == before


def test_the_access_log_hides_the_callbacks_code_and_state():
    from tracker.access_log import redact

    line = 'GET /auth/sso/entra/callback?code=SECRETCODE&state=SECRETSTATE HTTP/1.1'
    assert "SECRET" not in redact(line) and "/auth/sso/entra/callback?" in redact(line)


def test_an_administrator_adding_someone_to_an_sso_only_partnership_sends_no_password_link(app, world, oidc):
    from tests.conftest import sign_in_client

    _require_sso(world)
    admin = sign_in_client(app, world.admin)
    response = admin.post("/admin/users/new", data={
        "name": "Sam Sso", "email": "sam@example.scot", f"role_{world.home.id}": "viewer"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0
    with admin.session_transaction() as session:
        assert "use 'Sign in with Test Council'" in str(session["_flashes"])
