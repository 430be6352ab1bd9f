"""Administrative changes to partnerships, users and organisations. Each is audited; callers commit."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from tracker import text as texts
from tracker.audit import services as audit
from tracker.auth import permissions
from tracker.auth import services as auth
from tracker.auth.models import Membership, Role, User
from tracker.errors import FieldChecks, NotAllowed, RuleError
from tracker.extensions import db
from tracker.partnerships.models import Organisation, OrganisationAlias, OrganisationKind, Partnership


class AdminError(RuleError):
    """A change that would break a rule (a duplicate name or e-mail address); nothing was changed."""


# Partnerships --------------------------------------------------------------------------------------------


def _check_partnership_name(name: str, partnership_id: int | None = None) -> None:
    clash = db.session.scalar(select(Partnership).where(func.lower(Partnership.name) == name.lower()))
    if clash is not None and clash.id != partnership_id:
        raise AdminError(f"There is already a partnership called {clash.name}.", "name")


def _partnership_fields(name, full_name) -> tuple[str, str | None]:
    return (texts.line(name, field="name", label="The partnership's name", max_length=200, required=True),
            texts.line(full_name, field="full_name", label="The full name", max_length=300))


def _site_admin(actor: User | None) -> None:
    if actor is not None and not permissions.can_manage_partnerships(actor):
        raise NotAllowed("Only site administrators create and rename partnerships.")


def create_partnership(*, name: str, full_name: str | None, actor_id: int | None = None,
                       actor: User | None = None) -> Partnership:
    _site_admin(actor)
    actor_id = actor.id if actor is not None else actor_id
    name, full_name = _partnership_fields(name, full_name)
    _check_partnership_name(name)
    partnership = Partnership(name=name, full_name=full_name)
    db.session.add(partnership)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="partnership", entity_id=partnership.id, verb="create",
                 partnership_id=partnership.id, after={"name": partnership.name, "full_name": partnership.full_name},
                 summary=f"Created partnership {partnership.name}")
    return partnership


def update_partnership(partnership: Partnership, *, name: str, full_name: str | None, actor_id: int | None = None,
                       actor: User | None = None) -> None:
    _site_admin(actor)
    actor_id = actor.id if actor is not None else actor_id
    name, full_name = _partnership_fields(name, full_name)
    _check_partnership_name(name, partnership.id)
    before = {"name": partnership.name, "full_name": partnership.full_name}
    partnership.name = name
    partnership.full_name = full_name
    old, new = audit.changes(before, {"name": partnership.name, "full_name": partnership.full_name})
    if new:
        audit.record(user_id=actor_id, entity_type="partnership", entity_id=partnership.id, verb="update",
                     partnership_id=partnership.id, before=old, after=new,
                     summary=f"Edited partnership {partnership.name}")


# Users ---------------------------------------------------------------------------------------------------


def clean_email(value) -> str:
    """An e-mail address on one line that looks deliverable (no DNS lookup), lower-cased."""
    email = texts.line(value, field="email", label="The email address", max_length=254, required=True)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise RuleError("Enter an email address like name@example.scot.", "email") from None
    return auth.normalise_email(email)


def _person_fields(name, email, job_title) -> tuple[str, str, str | None]:
    """A person's name, e-mail and job title: single lines, so no e-mail header is ever broken by them."""
    checks, checked = FieldChecks(), {}
    with checks.field():
        checked["name"] = texts.line(name, field="name", label="The name", max_length=200, required=True)
    with checks.field():
        checked["email"] = clean_email(email)
    with checks.field():
        checked["job_title"] = texts.line(job_title, field="job_title", label="The job title", max_length=200)
    checks.done()
    return checked["name"], checked["email"], checked["job_title"]


def _check_email(email: str, user_id: int | None = None) -> None:
    clash = auth.find_by_email(email)
    if clash is not None and clash.id != user_id:
        raise AdminError("Another account already uses that email address.", "email")


def _details(user: User) -> dict:
    return {"name": user.name, "email": user.email, "job_title": user.job_title, "is_admin": user.is_admin}


def _may_give_roles(actor: User | None, partnership_ids, is_admin: bool | None) -> None:
    if actor is None:
        return
    administered = permissions.administered_partnership_ids(actor)
    if administered is not None and not set(partnership_ids) <= administered:
        raise NotAllowed("You can give roles only in the partnerships you administer.", "roles")
    if is_admin is not None and not actor.is_admin:
        raise NotAllowed("Only a site administrator makes someone a site administrator.", "is_admin")


def create_user(*, name: str, email: str, job_title: str | None, roles: dict[int, Role], is_admin: bool,
                actor_id: int | None = None, actor: User | None = None) -> User:
    """A new account without a password: its owner sets one through the e-mailed link."""
    _may_give_roles(actor, roles, is_admin or None)
    actor_id = actor.id if actor is not None else actor_id
    checks = FieldChecks()  # every refusal at once (the form showed the role's, then the e-mail's next time)
    with checks.field():
        name, email, job_title = _person_fields(name, email, job_title)
        _check_email(email)
    with checks.field():
        if not roles and not is_admin:
            raise RuleError("Give the person a role in at least one partnership.", "roles")
    checks.done()
    return auth.create_user(email=email, name=name, job_title=job_title, memberships=roles, is_admin=is_admin,
                            actor_id=actor_id)


def _may_manage_account(actor: User | None, user: User) -> None:
    if actor is not None and not permissions.can_manage_account(actor, user):
        raise NotAllowed("This account also belongs to a partnership you do not administer: ask a site "
                         "administrator.")


def update_user(user: User, *, name: str, email: str, job_title: str | None, actor_id: int | None = None,
                is_admin: bool | None = None, actor: User | None = None) -> None:
    """Change a user's details; `is_admin` only when a site administrator passes it."""
    _may_manage_account(actor, user)
    _may_give_roles(actor, (), is_admin)
    actor_id = actor.id if actor is not None else actor_id
    name, email, job_title = _person_fields(name, email, job_title)
    _check_email(email, user.id)
    before = _details(user)
    user.name = name
    user.email = email
    user.job_title = job_title
    if is_admin is not None:
        user.is_admin = is_admin
    old, new = audit.changes(before, _details(user))
    if new:
        if "email" in new or "is_admin" in new:
            user.rotate_session_token()
        audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="update", before=old, after=new,
                     summary=f"Edited user {user.name}")


def set_roles(user: User, roles: dict[int, Role | None], *, actor_id: int | None = None,
              actor: User | None = None) -> None:
    """Set (or remove, with None) the user's role in each given partnership.

    A partnership administrator changes only accounts that belong to their partnerships alone. Removing a
    person's last role in a partnership also takes them off its committees (audited).
    """
    from tracker.committees.services import remove_memberships_without_access

    if actor is not None and not permissions.can_change_roles(actor, user):
        raise NotAllowed("This account also belongs to a partnership you do not administer: ask a site "
                         "administrator.")
    _may_give_roles(actor, roles, None)
    actor_id = actor.id if actor is not None else actor_id
    current = {m.partnership_id: m for m in user.memberships}
    removed = []
    for partnership_id, role in roles.items():
        membership = current.get(partnership_id)
        before = membership.role if membership else None
        if before == role:
            continue
        if role is None:
            user.memberships.remove(membership)
            removed.append(partnership_id)
        elif membership is None:
            user.memberships.append(Membership(partnership_id=partnership_id, role=role))
        else:
            membership.role = role
        audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="role",
                     partnership_id=partnership_id, before={"role": before}, after={"role": role},
                     summary=f"Role of {user.name}: {before.label if before else 'none'} -> "
                             f"{role.label if role else 'none'}")
    db.session.flush()
    for partnership_id in removed:
        remove_memberships_without_access(user, partnership_id, actor_id=actor_id)


def set_active(user: User, active: bool, *, actor_id: int | None = None, actor: User | None = None) -> None:
    """Disable or enable an account; disabling ends every session at once."""
    _may_manage_account(actor, user)
    if actor is not None and actor.id == user.id and not active:
        raise NotAllowed("You cannot disable your own account.")
    actor_id = actor.id if actor is not None else actor_id
    if user.active == active:
        return
    user.active = active
    if not active:
        user.rotate_session_token()
    audit.record(user_id=actor_id, entity_type="user", entity_id=user.id, verb="enable" if active else "disable",
                 before={"active": not active}, after={"active": active},
                 summary=f"{'Enabled' if active else 'Disabled'} user {user.name}")


def open_actions_led(user: User) -> dict[int, list]:
    """partnership id -> the open actions `user` leads there (plans not archived), for the disable page."""
    from tracker.plans.models import Action, Plan
    from tracker.rag import OPEN_STATUSES

    actions = db.session.scalars(
        select(Action).join(Plan).where(Action.lead_officer_id == user.id, Action.status.in_(OPEN_STATUSES),
                                        Plan.archived_at.is_(None)).order_by(Plan.partnership_id, Action.id)).all()
    led: dict[int, list] = {}
    for action in actions:
        led.setdefault(action.plan.partnership_id, []).append(action)
    return led


def disable_user(user: User, *, reassign_to: dict[int, int | None], actor_id: int | None = None,
                 actor: User | None = None) -> list[tuple[int, int]]:
    """Disable an account and move the open actions it leads, per partnership, to the officer named there
    (None leaves them). Returns (action id, new lead id) pairs for the undo. Audited like each part."""
    from tracker.plans import services as plans
    from tracker.plans.models import Plan

    _may_manage_account(actor, user)
    if actor is not None and actor.id == user.id:
        raise NotAllowed("You cannot disable your own account.")
    actor_id = actor.id if actor is not None else actor_id
    led = open_actions_led(user)
    moved = []
    for partnership_id, to_user_id in reassign_to.items():
        if to_user_id is None or partnership_id not in led:
            continue
        if to_user_id == user.id:
            raise RuleError("Choose someone else to take the actions over.", f"to_{partnership_id}")
        partnership_plans = db.session.scalars(select(Plan).where(Plan.partnership_id == partnership_id,
                                                                  Plan.archived_at.is_(None))).all()
        try:
            actions = plans.reassign_actions(plans=partnership_plans, from_user_id=user.id, to_user_id=to_user_id,
                                             actor_id=actor_id)
        except RuleError as error:
            raise RuleError(error.message, f"to_{partnership_id}") from None
        moved += [(action.id, to_user_id) for action in actions]
    set_active(user, False, actor_id=actor_id)
    return moved


def undo_disable(user: User, *, moved: list[tuple[int, int]], actor_id: int | None = None,
                 actor: User | None = None) -> int:
    """Enable the account again and give back the actions its disabling moved (those not changed since)."""
    from tracker.plans import services as plans

    _may_manage_account(actor, user)
    actor_id = actor.id if actor is not None else actor_id
    set_active(user, True, actor_id=actor_id)
    back = 0
    for to_user_id in sorted({to for _, to in moved}):
        back += len(plans.undo_reassign(action_ids=[a for a, to in moved if to == to_user_id],
                                        from_user_id=user.id, to_user_id=to_user_id, actor_id=actor_id))
    return back


# Organisations -------------------------------------------------------------------------------------------


def clean_aliases(lines: list[str], name: str) -> list[str]:
    """Aliases without blanks, repeats (ignoring case) or the organisation's own name."""
    seen = {name.strip().lower()}
    result = []
    for line in lines:
        alias = " ".join((texts.line(line, field="aliases", label="An alias", max_length=200) or "").split())
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
        raise AdminError(f"The partnership already has an organisation called {clash.name}.", "name")
    if aliases:
        taken = db.session.execute(
            select(OrganisationAlias.alias, Organisation.name).join(Organisation)
            .where(OrganisationAlias.partnership_id == partnership_id,
                   func.lower(OrganisationAlias.alias).in_([a.lower() for a in aliases]))
            .where(Organisation.id != (org_id or 0))
        ).first()
        if taken is not None:
            raise AdminError(f"The alias '{taken.alias}' already stands for {taken.name}.", "aliases")


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


def _organisation_name(name) -> str:
    return " ".join(texts.line(name, field="name", label="The organisation's name", max_length=200,
                               required=True).split())


def _may_administer(actor: User | None, partnership_id: int) -> None:
    if actor is not None and not permissions.can_administer_partnership(actor, partnership_id):
        raise NotAllowed("Only the partnership's administrators can change its organisations.")


def create_organisation(*, partnership_id: int, name: str, kind: OrganisationKind, aliases: list[str],
                        actor_id: int | None = None, actor: User | None = None) -> Organisation:
    _may_administer(actor, partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    name = _organisation_name(name)
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
                        actor_id: int | None = None, actor: User | None = None) -> None:
    _may_administer(actor, org.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    name = _organisation_name(name)
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
