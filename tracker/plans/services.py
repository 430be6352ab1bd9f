"""Decisions about plans and actions. Services flush, never commit; the caller commits once."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _encode_string

from sqlalchemy import cast, func, or_, select

from tracker import text as texts
from tracker.audit import services as audit
from tracker.bulk import BulkInsert
from tracker.auth.models import Role
from tracker.errors import Conflict, FieldChecks, NotAllowed, RuleError
from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.partnerships.models import Organisation
from tracker.plans import permissions
from tracker.plans.models import Action, Plan, PlanKind, ProgressUpdate
from tracker.rag import Status
from tracker.timescales import UNKNOWN, interpret
from tracker.timeutil import long_date, today, utcnow

#: Longest narrative, closing note or revision reason (a full committee-paper section).
NARRATIVE_MAX = 20_000
REASON_MAX = 2_000
ACTION_TEXT_MAX = 5_000
REF_MAX = 40
LEAD_TEXT_MAX = 500
TIMESCALE_MAX = 200
PLAN_NAME_MAX = 300
DESCRIPTION_MAX = 5_000


class ConcurrentEditError(Conflict):
    """The record changed since the form was loaded; nothing was saved."""

    def __init__(self, current: Action):
        super().__init__("This action was changed by someone else while you were editing it.", "version")
        self.current = current


def _as_manager(actor, actor_id: int | None, plan: Plan, refusal: str) -> int | None:
    """The acting user's id, after checking that a person at a door (`actor`) manages the plan."""
    if actor is None:
        return actor_id
    if not permissions.can_manage_plan(actor, plan):
        raise NotAllowed(refusal)
    return actor.id


def _check_version(action: Action, expected_version: int | None) -> None:
    if expected_version is not None and action.version != expected_version:
        raise ConcurrentEditError(action)


def readable_timescale(value: str | dt.date | None, *, field: str = "timescale",
                       label: str = "The timescale") -> str | dt.date | None:
    """A timescale a person typed: it must name a window or say the work is ongoing, between 1990 and 2100.

    Unreadable text is refused, never stored as "no date": an action that loses its due date can never go
    overdue.
    """
    if value is None or isinstance(value, dt.date):
        if isinstance(value, dt.date):
            texts.date_in_range(value, field=field, label=label)
        return value
    value = texts.line(value, field=field, label=label, max_length=TIMESCALE_MAX)
    if value is None:
        return None
    timescale = interpret(value)
    if timescale.kind == UNKNOWN:
        raise RuleError(f"We could not read a date from “{value}”. Write it like “March 2025”, "
                        "“Q3 2024/25”, “31/03/2025” or “Ongoing”.", field)
    for day in (timescale.start, timescale.end):
        if day is not None:
            texts.date_in_range(day, field=field, label=label)
    return value


def snapshot(action: Action) -> dict:
    """The fields an audit event compares."""
    return {
        "ref": action.ref,
        "text": action.text,
        "lead_officer_id": action.lead_officer_id,
        "lead_text": action.lead_text,
        "timescale_text": action.timescale_text,
        "due_end": action.due_end,
        "status": action.status,
        "items": sorted(item.number for item in action.items),
        "organisations": sorted(org.name for org in action.organisations),
        "superseded_by_id": action.superseded_by_id,
    }


def _plan_fields(partnership_id: int, *, plan: Plan | None = None, **values) -> dict:
    """The plan's fields checked: one-line unique name, a usable framework, a manager who manages here."""
    checked = {}
    if "name" in values:
        name = texts.line(values["name"], field="name", label="The plan's name", max_length=PLAN_NAME_MAX,
                          required=True)
        clash = select(Plan.id).where(Plan.partnership_id == partnership_id, Plan.name == name)
        if plan is not None:
            clash = clash.where(Plan.id != plan.id)
        if db.session.scalar(clash) is not None:
            raise Conflict("The partnership already has a plan with this name.", "name")
        checked["name"] = name
    if "kind" in values:
        try:
            checked["kind"] = PlanKind(values["kind"])
        except ValueError:
            raise RuleError("Choose the kind of plan.", "kind") from None
    if "framework_id" in values:
        framework = db.session.get(Framework, values["framework_id"]) if values["framework_id"] else None
        if framework is None or framework.partnership_id not in (None, partnership_id):
            raise RuleError("Choose a framework for the plan.", "framework_id")
        checked["framework_id"] = framework.id
    if "manager_id" in values:
        manager_id = values["manager_id"]
        if manager_id is not None and not _has_role(manager_id, partnership_id, Role.PLAN_MANAGER):
            raise RuleError("The plan manager must be a plan manager in this partnership.", "manager_id")
        checked["manager_id"] = manager_id
    if "description" in values:
        checked["description"] = texts.paragraphs(values["description"], field="description",
                                                  label="The description", max_length=DESCRIPTION_MAX)
    return checked


def _has_role(user_id: int, partnership_id: int, role: Role) -> bool:
    from tracker.auth.models import User

    user = db.session.get(User, user_id) if texts.in_id_range(user_id) else None
    return user is not None and user.has_role(partnership_id, role)


def create_plan(*, partnership_id: int, framework_id: int, name: str, kind: PlanKind = PlanKind.ACTION_PLAN,
                description: str | None = None, manager_id: int | None = None,
                actor_id: int | None = None, actor=None) -> Plan:
    """A new plan. With `actor` (a person at a door) their right to create it is checked too."""
    if actor is not None:
        if not permissions.can_create_plan(actor, partnership_id):
            raise NotAllowed("Only the partnership's plan managers can create plans.")
        actor_id = actor.id
    fields = _plan_fields(partnership_id, name=name, kind=kind, framework_id=framework_id, manager_id=manager_id,
                          description=description)
    plan = Plan(partnership_id=partnership_id, **fields)
    db.session.add(plan)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="create",
                 partnership_id=partnership_id, plan_id=plan.id, after={"name": plan.name, "kind": plan.kind},
                 summary=f"Created plan {plan.name}")
    return plan


def apply_timescale(action: Action, text: str | dt.date | None) -> None:
    """Store the timescale as written and the window it names."""
    timescale = interpret(text)
    action.timescale_text = timescale.text[:200]
    action.timescale_kind = timescale.kind
    action.due_start = timescale.start
    action.due_end = timescale.end


def next_ref(plan: Plan, item_number: str | None = None) -> str:
    """The next free reference of the plan, in its own scheme.

    With `item_number` (the framework item an action is linked to, "1.1") and a plan whose references are
    numbered under their items ("1.1.1", "1.1.2"), the next number under that item ("1.1.3"); otherwise the
    next "A" number (A1, A2, ...)."""
    refs = db.session.scalars(select(Action.ref).where(Action.plan_id == plan.id)).all()
    if item_number:
        dotted = [r for r in refs if r.count(".") >= 1 and r.replace(".", "").isdigit()]
        if dotted and len(dotted) * 2 >= len(refs):
            under = [int(r[len(item_number) + 1:]) for r in refs
                     if r.startswith(f"{item_number}.") and r[len(item_number) + 1:].isdigit()]
            return f"{item_number}.{max(under, default=0) + 1}"
    numbers = [int(r[1:]) for r in refs if r[:1] == "A" and r[1:].isdigit()]
    return f"A{max(numbers, default=0) + 1}"


def create_action(
    *,
    plan: Plan,
    text: str,
    ref: str | None = None,
    timescale: str | dt.date | None = None,
    status: Status = Status.NOT_STARTED,
    lead_officer_id: int | None = None,
    lead_text: str | None = None,
    items: Iterable[FrameworkItem] = (),
    organisations: Iterable[Organisation] = (),
    actor_id: int | None = None,
    verb: str = "create",
    at: dt.datetime | None = None,
    actor=None,
    as_written: bool = False,
) -> Action:
    """A new action, audited; `at` backdates its creation when loading a plan's history.

    With `actor` (a person at a door) their right to manage the plan is checked. `as_written` keeps a
    timescale copied from a source document even when no date can be read from it (imports, the demo);
    a timescale a person types must be readable.
    """
    actor_id = _as_manager(actor, actor_id, plan, "Only the plan's managers can add actions.")
    fields = _action_fields(plan, None, as_written=as_written, text=text, ref=ref, timescale=timescale,
                            status=status, lead_officer_id=lead_officer_id, lead_text=lead_text, items=items,
                            organisations=organisations)
    action = Action(
        plan=plan,
        ref=fields["ref"] or next_ref(plan),
        text=fields["text"],
        status=fields["status"],
        lead_officer_id=fields["lead_officer_id"],
        lead_text=fields["lead_text"],
    )
    apply_timescale(action, fields["timescale"])
    action.items = fields["items"]
    action.organisations = fields["organisations"]
    if at is not None:
        action.created_at = action.updated_at = at
    db.session.add(action)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="action", entity_id=action.id, verb=verb,
                 partnership_id=plan.partnership_id, plan_id=plan.id, after=snapshot(action),
                 summary=f"Created action {action.ref}", at=at)
    return action


ACTION_FIELDS = {"text", "ref", "timescale", "status", "lead_officer_id", "lead_text", "items", "organisations",
                 "superseded_by_id"}


def _action_fields(plan: Plan, action: Action | None, *, as_written: bool = False, **values) -> dict:
    """An action's fields checked against the plan: the same rules for every door."""
    unknown = set(values) - ACTION_FIELDS
    if unknown:
        raise TypeError(f"unknown action field {sorted(unknown)[0]!r}")
    checked: dict = {}
    checks = FieldChecks()  # every field's refusal at once, so a form shows them all
    with checks.field():
        if "text" in values:
            checked["text"] = texts.paragraphs(values["text"], field="text", label="The action",
                                               max_length=ACTION_TEXT_MAX, required=True)
    with checks.field():
        if "ref" in values:
            ref = texts.line(values["ref"], field="ref", label="The reference", max_length=REF_MAX)
            if ref is not None:
                clash = select(Action.id).where(Action.plan_id == plan.id, Action.ref == ref)
                if action is not None:
                    clash = clash.where(Action.id != action.id)
                if db.session.scalar(clash) is not None:
                    raise Conflict(f"{ref} is already used in this plan.", "ref")
            elif action is not None:
                ref = action.ref
            checked["ref"] = ref
    with checks.field():
        if "timescale" in values:
            value = values["timescale"]
            if as_written and isinstance(value, str):
                checked["timescale"] = texts.line(value, field="timescale", label="The timescale",
                                                  max_length=TIMESCALE_MAX)
            else:
                checked["timescale"] = readable_timescale(value)
    with checks.field():
        if "status" in values:
            try:
                checked["status"] = Status(values["status"])
            except ValueError:
                raise RuleError("Choose the action's status.", "status") from None
    with checks.field():
        if "lead_officer_id" in values:
            lead = values["lead_officer_id"]
            keeps_former = action is not None and lead == action.lead_officer_id
            if lead is not None and not keeps_former and not _has_role(lead, plan.partnership_id, Role.VIEWER):
                raise RuleError("The lead officer must have an account in this partnership.", "lead_officer_id")
            checked["lead_officer_id"] = lead
    with checks.field():
        if "lead_text" in values:
            checked["lead_text"] = texts.line(values["lead_text"], field="lead_text", label="The lead as written",
                                              max_length=LEAD_TEXT_MAX)
    with checks.field():
        if "items" in values:
            items = list(values["items"])
            if any(item.theme.framework_id != plan.framework_id for item in items):
                national = set(db.session.scalars(select(Framework.id).where(Framework.partnership_id.is_(None))))
                if any(item.theme.framework_id not in national | {plan.framework_id} for item in items):
                    raise RuleError("Link only items of the plan's own framework or a national one.", "items")
            checked["items"] = items
    with checks.field():
        if "organisations" in values:
            organisations = list(values["organisations"])
            if any(org.partnership_id != plan.partnership_id for org in organisations):
                raise RuleError("Choose only the partnership's own organisations.", "organisations")
            checked["organisations"] = organisations
    with checks.field():
        if "superseded_by_id" in values:
            checked["superseded_by_id"] = _replacement(action, values["superseded_by_id"])
    checks.done()
    return checked


def _replacement(action: Action | None, replacement_id: int | None) -> int | None:
    if replacement_id is None:
        return None
    replacement = db.session.get(Action, replacement_id) if texts.in_id_range(replacement_id) else None
    if replacement is None or action is None or replacement.id == action.id \
            or replacement.plan.partnership_id != action.plan.partnership_id:
        raise RuleError("Choose another action of the partnership as the replacement.", "superseded_by_id")
    if replacement.plan.archived_at is not None:
        raise RuleError(f"{replacement.ref} is in an archived plan ({replacement.plan.name}): choose an action of a "
                        "current plan as the replacement.", "superseded_by_id")
    return replacement.id


class NewActions:
    """What `create_actions` reads about a plan that gets its new actions in several batches (an import):
    the refs taken and the items its actions may link, read once for all the batches; on PostgreSQL, ids
    reserved for `count` new actions from the table's own sequence (more are fetched if need be). No batch
    then needs the previous one's rows back from the database, so its COPYs may still be running while the
    next batch is built (`tracker.bulk.overlapped_copies`)."""

    def __init__(self, plan: Plan, count: int = 0):
        db.session.flush()  # then read as plain rows (thousands of refs and ids, never loaded as objects)
        connection = db.session.connection()
        self.plan_id = plan.id
        self.taken = set(connection.scalars(select(Action.ref).where(Action.plan_id == plan.id)).all())
        # The items an action may link: its plan's framework's and the national frameworks' (one query, not
        # one lazy load of each item's theme).
        self.allowed_items = set(connection.scalars(
            select(FrameworkItem.id).join(FrameworkItem.theme).join(Theme.framework)
            .where(or_(Theme.framework_id == plan.framework_id, Framework.partnership_id.is_(None)))).all())
        self.reserving = connection.dialect.name == "postgresql"
        self.ids: list[int] = []
        if self.reserving and count:
            self.ids = self._reserve(count)

    @staticmethod
    def _reserve(count: int) -> list[int]:
        """`count` new action ids from the actions' sequence, in ascending order, as the inserts would take them."""
        from sqlalchemy.dialects.postgresql import REGCLASS

        table = Action.__table__
        # The sequence looked up once (a subquery), not once per id: 5,000 ids in about 10 ms, not 80.
        sequence = cast(select(func.pg_get_serial_sequence(table.name, table.c.id.name)).scalar_subquery(),
                        REGCLASS)
        return sorted(db.session.connection().scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))).all())

    def take_ids(self, count: int) -> list[int]:
        if len(self.ids) < count:
            self.ids += self._reserve(count - len(self.ids))
        taken, self.ids = self.ids[:count], self.ids[count:]
        return taken


def create_actions(plan: Plan, rows: list[dict], *, actor_id: int | None = None, actor=None,
                   verb: str = "import", known: NewActions | None = None) -> int:
    """Many new actions in a few statements (an imported plan may have thousands), each with its audit event.

    The bulk form of `create_action`: each row (text, ref, status, lead_text, timescale, items, organisations)
    passes the same field rules, with the timescale kept as written, refs unique in the plan. Raises RuleError
    naming the row's ref; nothing is written unless every row passes.

    The values a plan repeats in row after row (its few leads, timescales, statuses, items and organisations)
    are checked, interpreted and converted for the database once each, at the first row that has them (so a
    refusal still names that row); each row's own reference and text are checked row by row.

    `known` carries what a plan's earlier batches read (`NewActions`), for a caller creating many batches.
    """
    from tracker.audit.models import AuditEvent
    from tracker.plans.models import action_items, action_organisations

    actor_id = _as_manager(actor, actor_id, plan, "Only the plan's managers can add actions.")
    if not rows:
        return 0
    db.session.flush()  # the session's own changes go first (nothing is sent when it has none)
    if known is None or known.plan_id != plan.id:
        known = NewActions(plan)
    connection = db.session.connection()
    taken, allowed_items = known.taken, known.allowed_items
    plan_id, partnership_id = plan.id, plan.partnership_id
    actions = BulkInsert(Action.__table__, ("id",) * known.reserving + (
        "plan_id", "ref", "text", "lead_officer_id", "lead_text", "timescale_text", "timescale_kind", "due_start",
        "due_end", "status", "created_at", "updated_at", "version"))
    events = BulkInsert(AuditEvent.__table__, ("at", "user_id", "partnership_id", "plan_id", "entity_type",
                                                "entity_id", "verb", "summary", "before", "after"))
    to_date, to_status, to_json = (actions.processor("due_start"), actions.processor("status"),
                                   events.processor("after"))
    as_json = _NewActionJSON() if events.takes_json_text("after") else None
    now = utcnow()
    created = actions.processor("created_at")(now)
    # Each distinct set of linked items and of organisations (a plan's rows repeat a few hundred of them) is
    # checked and read once, as (id, number) or (id, name) pairs and its audit JSON, at the first row with it.
    item_sets: dict = {}
    org_sets: dict = {}
    statuses: dict = {}
    leads: dict = {}
    timescales: dict = {}
    values, links, snapshots = [], [], []
    line, paragraphs = texts.line, texts.paragraphs
    for row in rows:
        ref = line(row.get("ref"), field="ref", label="The reference", max_length=REF_MAX, required=True)
        if ref in taken:
            raise Conflict(f"{ref} is already used in this plan.", "ref")
        taken.add(ref)
        given = row.get("status") or Status.NOT_STARTED
        status = statuses.get(given)
        if status is None:
            try:
                status = Status(given)
            except ValueError:
                raise RuleError(f"{ref}: choose the action's status.", "status") from None
            status = statuses[given] = (status.value, to_status(status))
        key = tuple(row.get("items", ()))
        items = item_sets.get(key)
        if items is None:
            if any(item.id not in allowed_items for item in key):
                raise RuleError(f"{ref}: link only items of the plan's own framework or a national one.", "items")
            facts = [(item.id, item.number) for item in key]
            numbers = sorted(number for _, number in facts)
            items = item_sets[key] = (facts, as_json.items(numbers) if as_json else numbers)
        key = tuple(row.get("organisations", ()))
        organisations = org_sets.get(key)
        if organisations is None:
            if any(org.partnership_id != partnership_id for org in key):
                raise RuleError(f"{ref}: choose only the partnership's own organisations.", "organisations")
            facts = [(org.id, org.name) for org in key]
            names = sorted(name for _, name in facts)
            organisations = org_sets[key] = (facts, as_json.organisations(names) if as_json else names)
        text = paragraphs(row.get("text"), field="text", label=f"The action {ref}", max_length=ACTION_TEXT_MAX,
                          required=True)
        given = row.get("lead_text")
        try:
            lead_text = leads[given]
        except KeyError:
            lead_text = leads[given] = line(given, field="lead_text", label=f"The lead of {ref}",
                                            max_length=LEAD_TEXT_MAX)
        given = row.get("timescale")
        timescale = timescales.get(given)
        if timescale is None:
            written = line(given, field="timescale", label=f"The timescale of {ref}",
                           max_length=TIMESCALE_MAX) if isinstance(given, str) else given
            window = interpret(written)
            timescale = timescales[given] = (window.text[:200], window.kind, to_date(window.start),
                                             to_date(window.end), window.end.isoformat() if window.end else None)
        values.append((plan_id, ref, text, None, lead_text, timescale[0], timescale[1], timescale[2],
                       timescale[3], status[1], created, created, 1))
        links.append((items[0], organisations[0]))
        # `snapshot` of the new action as JSON values (what audit.jsonable(snapshot(...)) gives, without the walk).
        snapshots.append(as_json.compose(ref, text, as_json.middle(lead_text, timescale[0], timescale[4], status[0]),
                                         items[1], organisations[1])
                         if as_json else to_json({
                             "ref": ref, "text": text, "lead_officer_id": None, "lead_text": lead_text,
                             "timescale_text": timescale[0], "due_end": timescale[4], "status": status[0],
                             "items": items[1], "organisations": organisations[1], "superseded_by_id": None}))
    if known.reserving:  # the ids reserved: nothing read back, so the COPY need not have ended
        ids = known.take_ids(len(values))
        actions.write([(i, *row) for i, row in zip(ids, values)])
    else:
        # New rows get ids above the plan's present ones: only they are read back (a plan imported in batches).
        before = connection.scalar(select(func.max(Action.id)).where(Action.plan_id == plan_id)) or 0
        actions.write(values)
        id_by_ref = dict(connection.execute(select(Action.ref, Action.id).where(Action.plan_id == plan_id,
                                                                                Action.id > before)).all())
        ids = [id_by_ref[row[1]] for row in values]  # refs are unique in a plan: one query instead of RETURNING
    BulkInsert(action_items, ("action_id", "item_id")).write(
        [(i, item[0]) for i, (items, _) in zip(ids, links) for item in items])
    BulkInsert(action_organisations, ("action_id", "organisation_id")).write(
        [(i, org[0]) for i, (_, organisations) in zip(ids, links) for org in organisations])
    # No snapshot before a new action: JSON null, as json.dumps writes it (once, not a dump per row).
    at, no_before = events.processor("at")(now), "null" if as_json else events.processor("before")(None)
    events.write([(at, actor_id, partnership_id, plan_id, "action", i, verb, f"Imported action {row[1]}", no_before,
                   after) for i, row, after in zip(ids, values, snapshots)])
    db.session.expire(plan, ["actions"])
    return len(values)


class _NewActionJSON:
    """A new action's audit snapshot as JSON text, exactly as json.dumps writes the dict (its keys in `snapshot`'s
    order, json's separators, its ASCII string encoder for every string): the parts rows repeat (lead, timescale,
    due date and status together; the items; the organisations) are encoded once each."""

    def __init__(self):
        self.encoded: dict = {}
        self.middles: dict = {}
        self.lists: dict = {}

    def _known(self, value: str | None) -> str:
        found = self.encoded.get(value)
        if found is None:
            found = self.encoded[value] = "null" if value is None else _encode_string(value)
        return found

    def middle(self, lead_text: str | None, timescale_text: str, due_end: str | None, status: str) -> str:
        """The snapshot's keys from lead_officer_id to status."""
        key = (lead_text, timescale_text, due_end, status)
        found = self.middles.get(key)
        if found is None:
            known = self._known
            found = self.middles[key] = (
                f'"lead_officer_id": null, "lead_text": {known(lead_text)}, "timescale_text": {known(timescale_text)}, '
                f'"due_end": {known(due_end)}, "status": {known(status)}')
        return found

    @staticmethod
    def items(numbers: list[str]) -> str:
        """The items' numbers (sorted) as a JSON list."""
        return f"[{', '.join(map(_encode_string, numbers))}]"

    def organisations(self, names: list[str]) -> str:
        """The organisations' names (sorted) as a JSON list."""
        key = tuple(names)
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = f"[{', '.join(map(_encode_string, names))}]"
        return found

    @staticmethod
    def compose(ref: str, text: str, middle: str, items: str, organisations: str) -> str:
        return (f'{{"ref": {_encode_string(ref)}, "text": {_encode_string(text)}, {middle}, "items": {items}, '
                f'"organisations": {organisations}, "superseded_by_id": null}}')

    def __call__(self, ref: str, text: str, lead_text: str | None, timescale_text: str, due_end: str | None,
                 status: str, numbers: list[str], names: list[str]) -> str:
        return self.compose(ref, text, self.middle(lead_text, timescale_text, due_end, status), self.items(numbers),
                            self.organisations(names))


def edit_action(action: Action, *, expected_version: int | None, actor_id: int | None = None, actor=None,
                as_written: bool = False, **changes) -> Action:
    """Change an action's fields; refused if someone else saved since `expected_version` was read.

    Accepts text, ref, timescale, status, lead_officer_id, lead_text, items, organisations, superseded_by_id.
    With `actor` their right to manage the plan is checked, and a changed timescale or due date needs
    `revision_reason` (kept in the audit event, and shown beside the slip in the committee papers).
    `as_written` keeps a timescale copied from a source document (a re-import), as `create_action` does.
    """
    actor_id = _as_manager(actor, actor_id, action.plan, "Only the plan's managers can edit actions.")
    _check_version(action, expected_version)
    reason = texts.paragraphs(changes.pop("revision_reason", None), field="revision_reason",
                              label="The reason for the new timescale", max_length=REASON_MAX)
    changes = _action_fields(action.plan, action, as_written=as_written, **changes)
    if actor is not None:
        _check_status_edit(action, changes)
    if "status" in changes and changes["status"] is not Status.SUPERSEDED:
        changes["superseded_by_id"] = None  # back in play: it no longer names a replacement
    before = snapshot(action)
    for key, value in changes.items():
        if key == "timescale":
            apply_timescale(action, value)
        elif key == "items":
            action.items = list(value)
        elif key == "organisations":
            action.organisations = list(value)
        elif key == "status":
            action.status = Status(value)
        else:
            setattr(action, key, value)
    after = snapshot(action)
    old, new = audit.changes(before, after)
    if actor is not None and reason is None and ("due_end" in new or "timescale_text" in new):
        # A person moving the date says why, as on the update form (imports and history loads give no actor).
        raise RuleError("Give the reason the timescale has changed.", "revision_reason")
    if old or new:
        action.updated_at = utcnow()
        db.session.flush()
        if reason and ("due_end" in new or "timescale_text" in new):
            new = {**new, "revision_reason": reason}
        audit.record(user_id=actor_id, entity_type="action", entity_id=action.id, verb="update",
                     partnership_id=action.plan.partnership_id, plan_id=action.plan_id, before=old, after=new,
                     summary=f"Edited action {action.ref}")
    return action


def _check_status_edit(action: Action, changes: dict) -> None:
    """A person changing the status or the timescale on the edit form meets the update's status rules
    (check_progress): superseded only with its replacement, and On track or Not started only with a timescale
    still to come. An edit that changes neither (a typo in the text of an overdue action) is not stopped."""
    status = changes.get("status", Status(action.status))
    status_changed = status is not Status(action.status)
    revised = changes.get("timescale")
    timescale_changed = "timescale" in changes and revised != action.timescale_text
    if status_changed and status is Status.SUPERSEDED and changes.get("superseded_by_id") is None:
        raise RuleError("To mark an action superseded, use Supersede on its page: it asks for the action that "
                        "replaces it, or why it is no longer needed.", "status")
    if status_changed:
        overdue_without_new_date(action, status, revised if timescale_changed else None, today(), field="status",
                                 fix="Change the timescale and give the reason for it")
    elif timescale_changed and status in TO_TIME and revised is not None:
        new_end = interpret(revised).end
        if new_end is not None and new_end < today():
            raise RuleError(f"The timescale ends on {long_date(new_end)}, which has passed, so {action.ref} cannot "
                            f"stay {status.label.lower()}. Give a timescale still to come, or choose At risk.",
                            "timescale")


@dataclass(frozen=True)
class ProgressInput:
    """A progress update checked against the action as it stands; `record_progress` applies it."""

    status: Status
    narrative: str
    revised_timescale: str | dt.date | None
    revision_reason: str | None
    superseded_by_id: int | None


def check_progress(
    action: Action,
    *,
    status: Status | str,
    narrative: str | None,
    revised_timescale: str | dt.date | None = None,
    revision_reason: str | None = None,
    superseded_by_id: int | None = None,
    actor=None,
    on: dt.date | None = None,
    history: bool = False,
    no_longer_needed: bool = False,
) -> ProgressInput:
    """Every rule of a progress update, without writing anything: the preview of a return asks this too.

    Raises RuleError (or NotAllowed) naming the field at fault. An action past its due date on the day `on`
    (today by default) cannot be reported On track or Not started without a revised timescale (and its
    reason) that has not passed too; `history` (backdated updates loaded from documents) skips that rule.
    """
    if actor is not None and not permissions.can_update_action(actor, action):
        raise NotAllowed("You cannot update this action: only its lead officer and the plan's managers can.")
    try:
        status = Status(status)
    except ValueError:
        raise RuleError(f"Unknown status. Use one of: {', '.join(s.label for s in Status)}.", "status") from None
    narrative = texts.paragraphs(narrative, field="narrative", label="The progress update",
                                 max_length=NARRATIVE_MAX, required=True)
    if status is Status.SUPERSEDED:
        if actor is not None and not permissions.can_supersede(actor, action):
            raise NotAllowed("Only the plan's managers can mark an action superseded.", "status")
        if no_longer_needed:
            if superseded_by_id is not None:
                raise RuleError("An action no longer needed names no replacement.", "superseded_by_id")
        elif superseded_by_id is None:
            raise RuleError("Choose the action that replaces this one, or say it is no longer needed.",
                            "superseded_by_id")
        else:
            superseded_by_id = _replacement(action, superseded_by_id)
    elif superseded_by_id is not None or no_longer_needed:
        raise RuleError("Only a superseded action names another action that replaces it.", "superseded_by_id")
    if isinstance(revised_timescale, str):
        revised_timescale = revised_timescale.strip() or None
        if revised_timescale is not None and revised_timescale == (action.timescale_text or "").strip():
            revised_timescale = None  # the timescale as it stands: no change
    revised_timescale = readable_timescale(revised_timescale, field="revised_timescale",
                                           label="The revised timescale")
    reason = texts.paragraphs(revision_reason, field="revision_reason",
                              label="The reason for the new timescale", max_length=REASON_MAX)
    if revised_timescale is not None and reason is None:
        raise RuleError("Give the reason the timescale has changed.", "revision_reason")
    if not history:
        overdue_without_new_date(action, status, revised_timescale, on or today())
    return ProgressInput(status, narrative, revised_timescale, reason if revised_timescale is not None else None,
                         superseded_by_id)


#: Statuses that say an action is running to time: on an overdue action they need a new timescale.
TO_TIME = (Status.ON_TRACK, Status.NOT_STARTED)


def overdue_without_new_date(action: Action, status: Status, revised_timescale: str | dt.date | None,
                             day: dt.date, *, fix: str = "Give a revised timescale and the reason for it",
                             field: str = "revised_timescale") -> None:
    """Refuse On track or Not started on an action past its due date unless the timescale moves past `day`.
    `fix` and `field` fit the message to the door's form (the edit form's timescale field has another name)."""
    if status not in TO_TIME or action.due_end is None or action.due_end >= day:
        return
    if Status(action.status) is Status.ONGOING and action.timescale_kind == "ongoing":
        return
    if revised_timescale is None:
        raise RuleError(f"{action.ref} was due by {long_date(action.due_end)}, so it cannot be {status.label.lower()} "
                        f"as it stands. {fix}, or choose At risk.", field)
    new_end = interpret(revised_timescale).end
    if new_end is not None and new_end < day:
        raise RuleError(f"The revised timescale ends on {long_date(new_end)}, which has passed too. Give a "
                        "timescale that is still to come, or choose At risk.", field)


#: The same update by the same person within this many minutes is a repeat (Back then Save on a page the
#: browser fetched afresh, with the typed text restored), not a new update.
REPEAT_MINUTES = 30


class RepeatedUpdate(Conflict):
    """The update just saved, sent again: nothing new is recorded."""

    def __init__(self, update: ProgressUpdate):
        super().__init__("You had already saved this update, so nothing new was recorded.", "narrative")
        self.update = update


#: record_progress's `latest` when the door has not read the action's latest update (the service reads it).
UNREAD = object()


def _repeat_of(action: Action, author_id: int | None, checked: ProgressInput, now: dt.datetime, latest=UNREAD):
    if latest is UNREAD:
        latest = latest_update(action)
    if latest is None or author_id is None or latest.author_id != author_id:
        return None
    same = (latest.status == checked.status and latest.narrative == checked.narrative
            and (checked.revised_timescale is None or latest.revised_timescale_text == str(checked.revised_timescale)))
    return latest if same and now - latest.created_at <= dt.timedelta(minutes=REPEAT_MINUTES) else None


def record_progress(
    action: Action,
    *,
    author_id: int | None = None,
    status: Status,
    narrative: str,
    revised_timescale: str | dt.date | None = None,
    revision_reason: str | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    superseded_by_id: int | None = None,
    actor=None,
    no_longer_needed: bool = False,
    latest=UNREAD,
) -> ProgressUpdate:
    """A progress update: appends to the history, moves the status, and re-dates the action if asked.

    `superseded_by_id` names the replacing action when the status becomes Superseded. With `actor` (a person
    at a door) their right to update the action is checked too; `author_id` alone is for system writes.
    `latest` is the action's latest update (None: it has none) when the door read it with the action in one
    round trip (tracker.api.views.action_to_update); otherwise the repeat check reads it here.
    """
    checked = check_progress(action, status=status, narrative=narrative, revised_timescale=revised_timescale,
                             revision_reason=revision_reason, superseded_by_id=superseded_by_id, actor=actor,
                             history=at is not None, no_longer_needed=no_longer_needed)
    if actor is not None:
        author_id = actor.id
    if at is None:
        repeat = _repeat_of(action, author_id, checked, utcnow(), latest)
        if repeat is not None:
            raise RepeatedUpdate(repeat)
    _check_version(action, expected_version)
    before = snapshot(action)
    # Superseded names its replacement (or none: no longer needed); any other status names none.
    action.superseded_by_id = checked.superseded_by_id if checked.status is Status.SUPERSEDED else None
    now = at or utcnow()
    update = ProgressUpdate(action=action, author_id=author_id, status=checked.status, narrative=checked.narrative,
                            created_at=now, corrections=[])  # a new update has none: nothing to load to say so
    if checked.revised_timescale is not None:
        apply_timescale(action, checked.revised_timescale)
        update.revised_timescale_text = action.timescale_text
        update.revised_due_end = action.due_end
        update.revision_reason = checked.revision_reason
    action.status = checked.status
    action.last_update_at = now
    action.updated_at = now
    db.session.add(update)
    db.session.flush()
    old, new = audit.changes(before, snapshot(action))
    audit.record(user_id=author_id, entity_type="action", entity_id=action.id, verb="progress",
                 partnership_id=action.plan.partnership_id, plan_id=action.plan_id, before=old,
                 after={**new, "progress_update_id": update.id}, summary=f"Progress update on {action.ref}")
    return update


def edit_plan(plan: Plan, *, actor_id: int | None = None, actor=None, **changes) -> Plan:
    """Change a plan's name, kind, framework, manager or description, with an audit event."""
    fields = ("name", "kind", "framework_id", "manager_id", "description")
    actor_id = _as_manager(actor, actor_id, plan, "Only the plan's managers can change it.")
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"unknown plan field {sorted(unknown)[0]!r}")
    checked = _plan_fields(plan.partnership_id, plan=plan, **changes)
    before = {key: getattr(plan, key) for key in fields}
    for key, value in checked.items():
        setattr(plan, key, value)
    old, new = audit.changes(before, {key: getattr(plan, key) for key in fields})
    if old or new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="update",
                     partnership_id=plan.partnership_id, plan_id=plan.id, before=old, after=new,
                     summary=f"Edited plan {plan.name}")
    return plan


def reassign_actions(*, plans: Iterable[Plan], from_user_id: int, to_user_id: int,
                     actor_id: int | None = None, actor=None) -> list[Action]:
    """Move every open action `from_user_id` leads in these plans to `to_user_id`; one audit event per action."""
    plans = list(plans)
    if actor is not None:
        if not all(permissions.can_manage_plan(actor, plan) for plan in plans):
            raise NotAllowed("Only the plans' managers can move their actions.")
        actor_id = actor.id
    if from_user_id == to_user_id:
        raise RuleError("Choose a different officer to take the actions over.", "to_user")
    if any(not _has_role(to_user_id, plan.partnership_id, Role.VIEWER) for plan in plans):
        raise RuleError("The officer taking the actions over must have an account in this partnership.",
                        "to_user")
    plan_ids = [plan.id for plan in plans]
    actions = db.session.scalars(
        select(Action).where(Action.plan_id.in_(plan_ids), Action.lead_officer_id == from_user_id,
                             Action.status.in_([s for s in Status if s.is_open]))
        .order_by(Action.plan_id, Action.id)
    ).all()
    for action in actions:
        edit_action(action, expected_version=None, actor_id=actor_id, lead_officer_id=to_user_id)
    return list(actions)


# -- archiving (a plan is never deleted) ---------------------------------------------------------------------

def archive_plan(plan: Plan, *, actor_id: int | None = None, actor=None) -> Plan:
    """Hide a finished plan from plan lists, digests, workbooks and the API's lists; restorable, audited."""
    actor_id = _as_manager(actor, actor_id, plan, "Only the plan's managers can archive it.")
    if plan.archived_at is not None:
        raise Conflict("This plan is already archived.")
    plan.archived_at = utcnow()
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="archive",
                 partnership_id=plan.partnership_id, plan_id=plan.id, before={"archived_at": None},
                 after={"archived_at": plan.archived_at.isoformat()}, summary=f"Archived plan {plan.name}")
    return plan


def restore_plan(plan: Plan, *, actor_id: int | None = None, actor=None) -> Plan:
    """Bring an archived plan back, as it was."""
    actor_id = _as_manager(actor, actor_id, plan, "Only the plan's managers can restore it.")
    if plan.archived_at is None:
        raise Conflict("This plan is not archived.")
    before = plan.archived_at.isoformat()
    plan.archived_at = None
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="restore",
                 partnership_id=plan.partnership_id, plan_id=plan.id, before={"archived_at": before},
                 after={"archived_at": None}, summary=f"Restored plan {plan.name}")
    return plan


def archived_plans(partnership_ids: set[int] | None) -> list[Plan]:
    """Archived plans in these partnerships (None: all), most recently archived first."""
    query = select(Plan).where(Plan.archived_at.is_not(None)).order_by(Plan.archived_at.desc(), Plan.name)
    if partnership_ids is not None:
        query = query.where(Plan.partnership_id.in_(partnership_ids or {-1}))
    return list(db.session.scalars(query))


#: An officer may correct the narrative of their own latest update for this long after making it.
CORRECTION_HOURS = 24


def latest_update(action: Action) -> ProgressUpdate | None:
    return db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.action_id == action.id)
                             .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(1))


def correction_refusal(update: ProgressUpdate, actor, now: dt.datetime | None = None) -> str | None:
    """Why `actor` may not correct `update` now (None when they may): their own, latest, within 24 hours."""
    if actor is None or update.author_id != actor.id:
        return "Only the person who wrote an update can correct it."
    if not permissions.can_update_action(actor, update.action):
        return "You can no longer update this action."
    latest = latest_update(update.action)
    if latest is None or latest.id != update.id:
        return "Only the latest update can be corrected: a newer one has been recorded since."
    if (now or utcnow()) - update.created_at > dt.timedelta(hours=CORRECTION_HOURS):
        return f"An update can be corrected only within {CORRECTION_HOURS} hours of saving it."
    return None


def correct_update(update: ProgressUpdate, *, narrative: str, actor, now: dt.datetime | None = None):
    """Correct the narrative of one's own latest update within 24 hours; the original stays on the update.

    Audited with the narrative before and after. Raises NotAllowed or RuleError, changing nothing."""
    from tracker.plans.models import UpdateCorrection

    refusal = correction_refusal(update, actor, now)
    if refusal:
        raise NotAllowed(refusal, "narrative")
    narrative = texts.paragraphs(narrative, field="narrative", label="The corrected update",
                                 max_length=NARRATIVE_MAX, required=True)
    before = update.shown_narrative
    if narrative == before:
        raise RuleError("The text is the same as the saved update: change it, or cancel.", "narrative")
    correction = UpdateCorrection(update_id=update.id, author_id=actor.id, narrative=narrative,
                                  created_at=now or utcnow())
    db.session.add(correction)
    db.session.flush()
    db.session.expire(update, ["corrections"])
    action = update.action
    audit.record(user_id=actor.id, entity_type="action", entity_id=action.id, verb="correct",
                 partnership_id=action.plan.partnership_id, plan_id=action.plan_id,
                 before={"narrative": before, "progress_update_id": update.id},
                 after={"narrative": narrative, "progress_update_id": update.id},
                 summary=f"Corrected the latest progress update on {action.ref}")
    return correction


def actions_to_reassign(plans: Iterable[Plan], from_user_id: int | None) -> list[Action]:
    """The open actions `from_user_id` leads in these plans: what `reassign_actions` would move (no writes)."""
    plan_ids = [plan.id for plan in plans]
    if from_user_id is None or not plan_ids:
        return []
    return list(db.session.scalars(
        select(Action).where(Action.plan_id.in_(plan_ids), Action.lead_officer_id == from_user_id,
                             Action.status.in_([s for s in Status if s.is_open]))
        .order_by(Action.plan_id, Action.id)))


def undo_reassign(*, action_ids: Iterable[int], from_user_id: int, to_user_id: int, actor_id: int | None = None,
                  actor=None) -> list[Action]:
    """Give back actions a re-assignment moved from `from_user_id` to `to_user_id`: only those `to_user_id`
    still leads (a later change is never overwritten), each audited. Refused if the person may not manage
    one of their plans or `from_user_id` no longer has an account there."""
    ids = sorted({i for i in action_ids if texts.in_id_range(i)})
    actions = list(db.session.scalars(select(Action).where(Action.id.in_(ids), Action.lead_officer_id == to_user_id)
                                      .order_by(Action.plan_id, Action.id))) if ids else []
    if actor is not None:
        if not all(permissions.can_manage_plan(actor, action.plan) for action in actions):
            raise NotAllowed("Only the plans' managers can move their actions.")
        actor_id = actor.id
    if any(not _has_role(from_user_id, action.plan.partnership_id, Role.VIEWER) for action in actions):
        raise RuleError("The officer no longer has an account in this partnership, so the actions cannot go "
                        "back to them.", "from_user")
    for action in actions:
        edit_action(action, expected_version=None, actor_id=actor_id, lead_officer_id=from_user_id)
    return actions
