"""Which account a verified single sign-on signs in, and a partnership's single sign-on settings.

A sign-in is matched, in order, by the provider's subject once linked (sso_identities), then by a verified
e-mail address (linking the identity to that account). With neither, an account is created just in time only
when a partnership allows the address's domain, and then with no role: a partnership administrator gives one.
Every refusal changes nothing and is logged; the caller commits a success.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import select

from tracker.audit import services as audit
from tracker.auth import permissions
from tracker.auth import services as auth
from tracker.auth.models import SsoIdentity, User
from tracker.auth.sso import Provider, providers
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.auth")

NO_EMAIL = ("{name} did not tell us your email address, so we cannot find your account. Ask your IT service desk "
            "to make sure your {name} account has one.")
UNVERIFIED = ("{name} has not confirmed that your email address {email} is yours, so we cannot sign you in "
              "with it. Ask your IT service desk, or sign in with your email address and password.")
WRONG_DOMAIN = ("You signed in to {name} as {email}, but {name} can sign in only addresses ending in {domains}. "
                "Sign out of {name} and sign in with your work account.")
DISABLED = "Your account on the tracker has been disabled. Ask your partnership's administrator if you need it."
NO_ACCOUNT = ("There is no account on the tracker for {email}. Ask your partnership's administrator to add you, "
              "then sign in with {name} again.")
OTHER_SUBJECT = ("The tracker account for {email} is already linked to a different {name} account. Sign in with "
                 "that one, or ask your partnership's administrator.")


class SsoRefused(RuleError):
    """A verified sign-in that signs no one in; `reason` goes to the log, `message` to the person."""

    status = 403

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    identity: SsoIdentity
    created: bool = False
    linked: bool = False


def _refuse(message: str, reason: str, provider: Provider, claims: dict):
    raise SsoRefused(message, f"{provider.key}: {reason} (sub={str(claims.get('sub'))[:80]!r})")


def _email_of(provider: Provider, claims: dict) -> str | None:
    """The claim's address, normalised (one line, lower case), or None when there is none or it is not one."""
    value = claims.get("email")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        email = auth.normalise_email(value)
    except RuleError:
        return None
    return email if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) else None


def _email_verified(provider: Provider, claims: dict) -> bool:
    verified = claims.get("email_verified")
    if verified is True or (isinstance(verified, str) and verified.lower() == "true"):
        return True
    return verified is None and provider.emails_verified


def jit_partnership(domain: str) -> Partnership | None:
    """The partnership that lets people at `domain` create an account by signing in, if one does."""
    for partnership in db.session.scalars(select(Partnership).where(Partnership.sso_jit_domains.is_not(None))):
        if domain in partnership.jit_domains:
            return partnership
    return None


def sign_in(provider: Provider, claims: dict) -> SsoSignIn:
    """The account these verified ID token claims sign in (linked or created when the rules allow it)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255 or any(c in subject for c in "\r\n\0"):
        _refuse(NO_ACCOUNT.format(email="that account", name=provider.name), "subject missing or not valid",
                provider, claims)
    email = _email_of(provider, claims)
    identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.provider == provider.key,
                                                           SsoIdentity.subject == subject))
    if email is None and identity is None:
        _refuse(NO_EMAIL.format(name=provider.name), "no usable email claim", provider, claims)
    if email is not None:
        domain = email.rpartition("@")[2]
        if not provider.allows_domain(domain):
            _refuse(WRONG_DOMAIN.format(name=provider.name, email=email,
                                        domains=" or ".join("@" + d for d in provider.domains)),
                    f"email domain {domain} not allowed", provider, claims)
    created = linked = False
    if identity is not None:
        user = identity.user
    else:
        if not _email_verified(provider, claims):
            _refuse(UNVERIFIED.format(name=provider.name, email=email), "email not verified", provider, claims)
        user = auth.find_by_email(email)
        if user is not None:
            if any(i.provider == provider.key for i in user.sso_identities):
                _refuse(OTHER_SUBJECT.format(name=provider.name, email=email),
                        f"account {user.id} is linked to another subject", provider, claims)
            linked = True
        else:
            partnership = jit_partnership(email.rpartition("@")[2])
            if partnership is None:
                _refuse(NO_ACCOUNT.format(email=email, name=provider.name), "no account, no just-in-time domain",
                        provider, claims)
            name = _display_name(claims, email)
            user = auth.create_user(email=email, name=name, actor_id=None)
            created = True
        if not user.active:
            _refuse(DISABLED, f"account {user.id} disabled", provider, claims)
        identity = SsoIdentity(provider=provider.key, subject=subject, email=email,
                               joined_partnership_id=partnership.id if created else None)
        user.sso_identities.append(identity)
        db.session.flush()
        audit.record(user_id=user.id, entity_type="user", entity_id=user.id, verb="sso_link",
                     partnership_id=identity.joined_partnership_id,
                     after={"provider": provider.key, "email": email, "created": created},
                     summary=(f"Account created by signing in with {provider.name}" if created
                              else f"Linked to {provider.name} ({email})"))
    if not user.active:
        _refuse(DISABLED, f"account {user.id} disabled", provider, claims)
    now = utcnow()
    identity.last_used_at = now
    if email is not None:
        identity.email = email
    user.last_sign_in_at = now
    return SsoSignIn(user=user, identity=identity, created=created, linked=linked)


def _display_name(claims: dict, email: str) -> str:
    for key in ("name",):
        value = claims.get(key)
        if isinstance(value, str):
            cleaned = " ".join(value.replace("\0", " ").split())[:200]
            if cleaned:
                return cleaned
    given = " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")).split()
    return " ".join(given)[:200] or email.partition("@")[0][:200]


# Who must sign in with SSO -----------------------------------------------------------------------------------


def requiring_partnerships(user: User) -> list[Partnership]:
    """The user's partnerships that require single sign-on (empty: a password is allowed)."""
    return sorted((m.partnership for m in user.memberships if m.partnership.sso_required), key=lambda p: p.name)


def how_to_sign_in(user: User) -> str | None:
    """The message that tells an SSO-only member how to sign in; None when a password is allowed."""
    required = requiring_partnerships(user)
    if not required:
        return None
    names = [p.name for p in required]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    available = list(providers().values())
    via = (" or ".join(f"'Sign in with {p.name}'" for p in available) if available
           else "your organisation's account")
    return (f"{who} asks its members to sign in with their organisation's account, not a password here: "
            f"use {via} on the sign-in page.")


# A partnership's settings ------------------------------------------------------------------------------------

DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def clean_domains(text: str | None) -> list[str]:
    """E-mail domains, one a line (or separated by commas or spaces), lower case, '@' removed, no repeats."""
    raw = text or ""
    if any(c in raw for c in "\0"):
        raise RuleError("Enter domains like council.gov.uk, one a line.", "jit_domains")
    domains: list[str] = []
    for word in re.split(r"[\s,;]+", raw.lower()):
        word = word.strip().lstrip("@").rstrip(".")
        if not word:
            continue
        if not DOMAIN.fullmatch(word):
            raise RuleError(f"'{word[:60]}' is not an email domain: enter domains like council.gov.uk, one a line.",
                            "jit_domains")
        if word not in domains:
            domains.append(word)
    if len(domains) > 50:
        raise RuleError("Enter at most 50 domains.", "jit_domains")
    return domains


def set_partnership_sso(partnership: Partnership, *, required: bool, jit_domains: str | None,
                        actor: User) -> None:
    """Require single sign-on for the partnership's members, and choose the domains whose people may create
    an account (with no role) by signing in. The partnership's administrators and site administrators only."""
    if not permissions.can_administer_partnership(actor, partnership.id):
        raise NotAllowed("Only the partnership's administrators can change how its members sign in.")
    domains = clean_domains(jit_domains)
    available = list(providers().values())
    if (required or domains) and not available:
        raise RuleError("Single sign-on is not set up on this tracker yet: ask the people who run it to add your "
                        "organisation's identity provider first.", "sso_required" if required else "jit_domains")
    for domain in domains:
        if not any(p.allows_domain(domain) for p in available):
            raise RuleError(f"None of the sign-in services here accepts addresses at {domain}: "
                            f"ask the people who run the tracker.", "jit_domains")
        other = jit_partnership(domain)
        if other is not None and other.id != partnership.id:
            raise Conflict(f"{other.name} already lets new accounts at {domain} join: a domain can belong to one "
                           f"partnership only.", "jit_domains")
    if required and not partnership.sso_required and not actor.is_admin and not actor.sso_identities:
        raise RuleError("Sign in once with your organisation's account before requiring it, so that you do not "
                        "lock yourself out.", "sso_required")
    before = {"sso_required": partnership.sso_required, "jit_domains": partnership.jit_domains}
    partnership.sso_required = required
    partnership.sso_jit_domains = "\n".join(domains) or None
    old, new = audit.changes(before, {"sso_required": required, "jit_domains": domains})
    if new:
        audit.record(user_id=actor.id, entity_type="partnership", entity_id=partnership.id, verb="sso",
                     partnership_id=partnership.id, before=old, after=new,
                     summary=f"Changed how members of {partnership.name} sign in")
