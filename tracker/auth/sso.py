"""Single sign-on with OpenID Connect providers (Microsoft Entra ID, Google, any other), through Authlib.

Providers come from configuration (SSO_PROVIDERS and SSO_<NAME>_*, tracker.config.sso_providers). Each is an
Authlib client registered with its discovery document (<issuer>/.well-known/openid-configuration): Authlib
runs the authorisation code flow with PKCE (S256), keeps `state`, `nonce` and the code verifier in the signed
session cookie (one use each: the callback removes them), and verifies the ID token's signature against the
provider's JWKS (cached with the discovery document; a token signed with a key id it does not know makes it
fetch the keys once more, so a rotated key works at once), its issuer, audience, expiry and nonce.

This module knows providers and tokens; which account a verified ID token signs in is
tracker.auth.sso_services's decision, and the pages are tracker.auth.sso_views.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc import errors as jose_errors

from tracker.config import sso_problems

log = logging.getLogger("tracker.auth")

EXTENSION = "tracker_sso"


@dataclass(frozen=True)
class Provider:
    """One configured OpenID Connect provider."""

    key: str
    name: str
    issuer: str
    client_id: str
    domains: tuple[str, ...] = ()
    emails_verified: bool = False
    client: object = field(default=None, repr=False, compare=False)

    def allows_domain(self, domain: str) -> bool:
        return not self.domains or domain.lower() in self.domains


class SignInFailed(Exception):
    """A single sign-on that did not work: `message` is for the person, `reason` is for the log."""

    def __init__(self, message: str, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


def init_app(app: Flask) -> None:
    """Register every well-configured provider with Authlib (others are logged and left out; production
    refuses to start with them: tracker.config.problems)."""
    oauth = OAuth(app)
    providers: dict[str, Provider] = {}
    for key, settings in (app.config.get("SSO_PROVIDERS") or {}).items():
        found = sso_problems({key: settings}, production=False)
        if found:
            for problem in found:
                app.logger.warning("Single sign-on with %s is off: %s", key, problem)
            continue
        issuer = settings["issuer"].rstrip("/")
        client = oauth.register(
            name=f"sso_{key}",
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                           "default_timeout": app.config.get("SSO_TIMEOUT_SECONDS", 10)},
        )
        providers[key] = Provider(key=key, name=settings.get("name") or key, issuer=settings["issuer"],
                                  client_id=settings["client_id"], domains=tuple(settings.get("domains") or ()),
                                  emails_verified=bool(settings.get("emails_verified")), client=client)
    app.extensions[EXTENSION] = providers


def providers() -> dict[str, Provider]:
    return current_app.extensions.get(EXTENSION, {})


def provider(key: str) -> Provider | None:
    return providers().get(key) if isinstance(key, str) else None


# Messages: plain words for each way a sign-in can fail --------------------------------------------------------

UNREACHABLE = ("We could not reach {name} to sign you in. Try again in a few minutes, or sign in with your "
               "email address and password.")
CANCELLED = "You did not finish signing in with {name}. Try again."
EXPIRED_ATTEMPT = ("That sign-in link has already been used or has expired. Start again with "
                   "'Sign in with {name}'.")
NOT_TRUSTED = ("{name} sent a sign-in we could not trust, so you have not been signed in. Start again with "
               "'Sign in with {name}'; if it happens again, tell your IT service desk.")
OUT_OF_DATE = ("{name} sent a sign-in that had already expired, so you have not been signed in. Check that "
               "your device's clock is right, then start again with 'Sign in with {name}'.")


def load_metadata(provider: Provider) -> dict:
    """The provider's discovery document (cached by Authlib after the first success); SignInFailed if it
    cannot be fetched or names a different issuer (a discovery document must name its own issuer)."""
    try:
        metadata = provider.client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise SignInFailed(UNREACHABLE.format(name=provider.name),
                           f"discovery document unreachable: {type(error).__name__}: {error}") from None
    if (metadata.get("issuer") or "").rstrip("/") != provider.issuer.rstrip("/"):
        provider.client.server_metadata.pop("_loaded_at", None)  # fetch it again next time
        raise SignInFailed(NOT_TRUSTED.format(name=provider.name),
                           f"discovery document names issuer {metadata.get('issuer')!r}, not {provider.issuer!r}")
    return metadata


def authorize_redirect(provider: Provider, redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier kept in the session)."""
    load_metadata(provider)
    try:
        return provider.client.authorize_redirect(redirect_uri)
    except (requests.RequestException, RuntimeError) as error:
        raise SignInFailed(UNREACHABLE.format(name=provider.name),
                           f"could not start: {type(error).__name__}: {error}") from None


def finish(provider: Provider) -> dict:
    """The verified ID token claims of the callback in the current request; SignInFailed otherwise.

    Authlib checks the state (and removes it: a replayed callback finds none), swaps the code with the PKCE
    verifier, and checks the ID token's signature, issuer, audience, expiry, issued-at and nonce."""
    name = provider.name
    expected_issuer = load_metadata(provider)["issuer"]
    try:
        token = provider.client.authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [expected_issuer]},
                            "sub": {"essential": True}, "aud": {"essential": True, "values": [provider.client_id]},
                            "exp": {"essential": True}, "iat": {"essential": True}},
            leeway=60)
    except MismatchingStateError:
        raise SignInFailed(EXPIRED_ATTEMPT.format(name=name), "state mismatch (replayed or forged callback)") from None
    except OAuthError as error:
        if error.error in ("access_denied", "login_required", "interaction_required", "consent_required"):
            raise SignInFailed(CANCELLED.format(name=name), f"provider answered {error.error}") from None
        raise SignInFailed(NOT_TRUSTED.format(name=name),
                           f"provider error {error.error}: {error.description}") from None
    except requests.RequestException as error:
        raise SignInFailed(UNREACHABLE.format(name=name),
                           f"token or key endpoint unreachable: {type(error).__name__}") from None
    except jose_errors.ExpiredTokenError:
        raise SignInFailed(OUT_OF_DATE.format(name=name), "ID token expired") from None
    except jose_errors.InvalidClaimError as error:
        raise SignInFailed(NOT_TRUSTED.format(name=name), f"ID token claim not valid: {error.claim}") from None
    except jose_errors.MissingClaimError as error:
        raise SignInFailed(NOT_TRUSTED.format(name=name), f"ID token claim missing: {error.claim}") from None
    except jose_errors.BadSignatureError:
        raise SignInFailed(NOT_TRUSTED.format(name=name), "ID token signature not valid") from None
    except (jose_errors.JoseError, ValueError, KeyError, TypeError) as error:
        raise SignInFailed(NOT_TRUSTED.format(name=name),
                           f"ID token not valid: {type(error).__name__}: {error}") from None
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed(NOT_TRUSTED.format(name=name), "no ID token in the token response")
    return dict(claims)


def end_session_url(provider: Provider, after: str) -> str | None:
    """The provider's end-session (sign-out) address, back to `after`, if it has one; None otherwise."""
    try:
        metadata = provider.client.load_server_metadata()
    except (requests.RequestException, ValueError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint or urlsplit(endpoint).scheme not in ("https", "http"):
        return None
    return provider.client.create_logout_url(post_logout_redirect_uri=after, client_id=provider.client_id)["url"]
