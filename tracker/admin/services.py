"""Administrative changes to partnerships, users and organisations. Each is audited; callers commit."""
from __future__ import annotations

from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.auth import services as auth
from tracker.auth.models import Membership, Role, User
from tracker.extensions import db
from tracker.partnerships.models import Organisation, OrganisationAlias, OrganisationKind, Partnership


class AdminError(ValueError):
    """A change that would break a rule (a duplicate name or e-mail address); nothing was changed."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# Partnerships --------------------------------------------------------------------------------------------


def _check_partnership_name(name: str, partnership_id: int | None = None) -> None:
    clash = db.session.scalar(select(Partnership).where(func.lower(Partnership.name) == name.lower()))
    if clash is not None and clash.id != partnership_id:
        raise AdminError("name", f"There is already a partnership called {clash.name}.")


def create_partnership(*, name: str, full_name: str | None, actor_id: int) -> Partnership:
    name = name.strip()
    _check_partnership_name(name)
    partnership = Partnership(name=name, full_name=(full_name or "").strip() or None)
    db.session.add(partnership)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="partnership", entity_id=partnership.id, verb="create",
                 partnership_id=partnership.id, after={"name": partnership.name, "full_name": partnership.full_name},
                 summary=f"Created partnership {partnership.name}")
    return partnership


def update_partnership(partnership: Partnership, *, name: str, full_name: str | None, actor_id: int) -> None:
    name = name.strip()
    _check_partnership_name(name, partnership.id)
    before = {"name": partnership.name, "full_name": partnership.full_name}
    partnership.name = name
    partnership.full_name = (full_name or "").strip() or None
    old, new = audit.changes(before, {"name": partnership.name, "full_name": partnership.full_name})
    if new:
        audit.record(user_id=actor_id, entity_type="partnership", entity_id=partnership.id, verb="update",
                     partnership_id=partnership.id, before=old, after=new,
                     summary=f"Edited partnership {partnership.name}")


# Users ---------------------------------------------------------------------------------------------------


def _check_email(email: str, user_id: int | None = None) -> None:
    clash = auth.find_by_email(email)
    if clash is not None and clash.id != user_id:
        raise AdminError("email", "Another account already uses that email address.")


def _details(user: User) -> dict:
    return {"name": user.name, "email": user.email, "job_title": user.job_title, "is_admin": user.is_admin}


def create_user(*, name: str, email: str, job_title: str | None, roles: dict[int, Role], is_admin: bool,
                actor_id: int) -> User:
    """A new account without a password: its owner sets one through the e-mailed link."""
    _check_email(email)
    return auth.create_user(email=email, name=name.strip(), job_title=(job_title or "").strip() or None,
                            memberships=roles, is_admin=is_admin, actor_id=actor_id)


def update_user(user: User, *, name: str, email: str, job_title: str | None, actor_id: int,
                is_admin: bool | None = None) -> None:
    """Change a user's details; `is_admin` only when a site administrator passes it."""
    email = auth.normalise_email(email)
    _check_email(email, user.id)
    before = _details(user)
    user.name = name.strip()
    user.email = email
    user.job_title = (job_title or "").strip() or None
    if is_admin is not None:
        user.is_admin = is_admin
    old, new = audit.changes(before, _details(user))
    if new:
        if "email" in new or "is_admin" in new:
            user.rotate_session_token()
        audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="update", before=old, after=new,
                     summary=f"Edited user {user.name}")


def set_roles(user: User, roles: dict[int, Role | None], *, actor_id: int) -> None:
    """Set (or remove, with None) the user's role in each given partnership."""
    current = {m.partnership_id: m for m in user.memberships}
    for partnership_id, role in roles.items():
        membership = current.get(partnership_id)
        before = membership.role if membership else None
        if before == role:
            continue
        if role is None:
            user.memberships.remove(membership)
        elif membership is None:
            user.memberships.append(Membership(partnership_id=partnership_id, role=role))
        else:
            membership.role = role
        audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="role",
                     partnership_id=partnership_id, before={"role": before}, after={"role": role},
                     summary=f"Role of {user.name}: {before.label if before else 'none'} -> "
                             f"{role.label if role else 'none'}")
    db.session.flush()


def set_active(user: User, active: bool, *, actor_id: int) -> None:
    """Disable or enable an account; disabling ends every session at once."""
    if user.active == active:
        return
    user.active = active
    if not active:
        user.rotate_session_token()
    audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="enable" if active else "disable",
                 before={"active": not active}, after={"active": active},
                 summary=f"{'Enabled' if active else 'Disabled'} user {user.name}")


# Organisations -------------------------------------------------------------------------------------------


def clean_aliases(lines: list[str], name: str) -> list[str]:
    """Aliases without blanks, repeats (ignoring case) or the organisation's own name."""
    seen = {name.strip().lower()}
    result = []
    for line in lines:
        alias = " ".join(line.split())
        if alias and alias.lower() not in seen:
            seen.add(alias.lower())
            result.append(alias)
    return result


def _snapshot(org: Organisation) -> dict:
    return {"name": org.name, "kind": org.kind, "aliases": sorted(a.alias for a in org.aliases)}


def _check_organisation(partnership_id: int, name: str, aliases: list[str], org_id: int | None) -> None:
    clash = db.session.scalar(select(Organisation).where(
        Organisation.partnership_id == partnership_id, func.lower(Organisation.name) == name.lower()))
    if clash is not None and clash.id != org_id:
        raise AdminError("name", f"The partnership already has an organisation called {clash.name}.")
    if aliases:
        taken = db.session.execute(
            select(OrganisationAlias.alias, Organisation.name).join(Organisation)
            .where(OrganisationAlias.partnership_id == partnership_id,
                   func.lower(OrganisationAlias.alias).in_([a.lower() for a in aliases]))
            .where(Organisation.id != (org_id or 0))
        ).first()
        if taken is not None:
            raise AdminError("aliases", f"The alias '{taken.alias}' already stands for {taken.name}.")


def _apply_aliases(org: Organisation, aliases: list[str]) -> None:
    wanted = {a.lower(): a for a in aliases}
    for existing in list(org.aliases):
        if existing.alias.lower() not in wanted:
            org.aliases.remove(existing)
        else:
            existing.alias = wanted.pop(existing.alias.lower())
    db.session.flush()  # deletions first, so a re-added alias does not clash with its old row
    for alias in wanted.values():
        org.aliases.append(OrganisationAlias(partnership_id=org.partnership_id, alias=alias))


def create_organisation(*, partnership_id: int, name: str, kind: OrganisationKind, aliases: list[str],
                        actor_id: int) -> Organisation:
    name = " ".join(name.split())
    aliases = clean_aliases(aliases, name)
    _check_organisation(partnership_id, name, aliases, None)
    org = Organisation(partnership_id=partnership_id, name=name, kind=kind)
    db.session.add(org)
    db.session.flush()
    _apply_aliases(org, aliases)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="organisation", entity_id=org.id, verb="create",
                 partnership_id=partnership_id, after=_snapshot(org), summary=f"Created organisation {name}")
    return org


def update_organisation(org: Organisation, *, name: str, kind: OrganisationKind, aliases: list[str],
                        actor_id: int) -> None:
    name = " ".join(name.split())
    aliases = clean_aliases(aliases, name)
    _check_organisation(org.partnership_id, name, aliases, org.id)
    before = _snapshot(org)
    org.name = name
    org.kind = kind
    _apply_aliases(org, aliases)
    db.session.flush()
    old, new = audit.changes(before, _snapshot(org))
    if new:
        audit.record(user_id=actor_id, entity_type="organisation", entity_id=org.id, verb="update",
                     partnership_id=org.partnership_id, before=old, after=new,
                     summary=f"Edited organisation {name}")
