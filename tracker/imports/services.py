"""Decisions for imports: what a parsed file will change, and making those changes.

`changes(parsed, partnership, plan_name)` reads the database and says, row by row, what would be created or
updated (the preview); `apply(...)` makes exactly those changes and flushes. The caller commits once, so a
commit is all-or-nothing. Importing the same file twice changes nothing the second time: actions are found
again by their reference (plans) or by their words (self-evaluations).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple


from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import text as texts
from tracker.admin import services as admin
from tracker.audit import services as audit
from tracker.auth.models import Membership, Role, User
from tracker.bulk import BulkInsert, collector_paused, overlapped_copies
from tracker.errors import Conflict, NotAllowed, NotFound, RuleError
from tracker.demo.services import normalise_text
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.imports import docx_selfeval, leads, xlsx_plan
from tracker.imports.docx_selfeval import ParsedSelfEvaluation
from tracker.imports.models import ImportJob
from tracker.imports.problems import ERROR, WARNING, Problem, has_errors
from tracker.imports.safety import CheckedFile, ImportRefused, Limits, check
from tracker.imports.xlsx_plan import ParsedPlan
from tracker.partnerships.models import Organisation, OrganisationAlias, Partnership
from tracker.plans import permissions
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, PlanKind, action_items, action_organisations
from tracker.rag import Status
from tracker.selfeval import services as selfeval
from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound
from tracker.timescales import interpret
from tracker.timeutil import today, utcnow

Parsed = ParsedPlan | ParsedSelfEvaluation


#: A preview not confirmed within this time is deleted, with the uploaded file it keeps.
ABANDONED_AFTER = dt.timedelta(days=7)


class ImportBlocked(RuntimeError):
    """The preview has errors; nothing was written."""


# -- reading -----------------------------------------------------------------------------------------------

@collector_paused()
def read(file, *, mapping: dict | None = None, limits: Limits | None = None,
         progress: Callable[[int], None] | None = None) -> Parsed:
    """Check and parse an uploaded .xlsx plan or .docx self-evaluation; ImportRefused if it is unsafe."""
    checked = file if isinstance(file, CheckedFile) else check(file, limits)
    if checked.kind == "docx":
        return docx_selfeval.parse(checked, limits=limits, progress=progress)
    return xlsx_plan.parse(checked, mapping=mapping, limits=limits, progress=progress)


def parsed_from_dict(data: dict, rows: list[dict] | None = None) -> Parsed:
    """The parsed file kept in a preview; a plan's rows are the preview's own `rows` (kept once, not twice)."""
    if data.get("kind") == "docx":
        return ParsedSelfEvaluation.from_dict(data)
    return ParsedPlan.from_dict(data if "rows" in data else {**data, "rows": list(rows or [])})


def default_plan_name(parsed: Parsed, filename: str = "") -> str:
    if isinstance(parsed, ParsedSelfEvaluation):
        year = (parsed.completed_on or today()).year
        return f"MSG improvement action plan {year}"
    stem = re.sub(r"\.xlsx$", "", filename or "", flags=re.I).replace("_", " ").replace("-", " ").strip()
    return (parsed.title or stem or "Imported plan")[:300]


def round_title(parsed: ParsedSelfEvaluation) -> str:
    return f"MSG self-evaluation {(parsed.completed_on or today()).year}"


# -- lookups -----------------------------------------------------------------------------------------------

def known_organisations(partnership: Partnership) -> dict[str, str]:
    """Normalised name or alias -> organisation name, for splitting lead cells."""
    known = {leads.normalise(name): name for name in db.session.scalars(
        select(Organisation.name).where(Organisation.partnership_id == partnership.id))}
    for alias, name in db.session.execute(
            select(OrganisationAlias.alias, Organisation.name).join(Organisation)
            .where(OrganisationAlias.partnership_id == partnership.id)):
        known.setdefault(leads.normalise(alias), name)
    return known


def find_plan(partnership: Partnership, plan_name: str) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.partnership_id == partnership.id, Plan.name == plan_name))


def _actions_by_ref(plan: Plan | None, refs: set[str] | None = None) -> dict[str, Action]:
    """The plan's actions (those with `refs` only, when given) with their items and organisations."""
    if plan is None or refs is not None and not refs:
        return {}
    query = select(Action).where(Action.plan_id == plan.id)
    if refs is not None and len(refs) <= 500:
        query = query.where(Action.ref.in_(sorted(refs)))
    actions = db.session.scalars(query.options(
        selectinload(Action.items).selectinload(FrameworkItem.theme), selectinload(Action.organisations))).all()
    return {action.ref: action for action in actions if refs is None or action.ref in refs}


def _current_actions(plan: Plan | None) -> dict[str, dict]:
    """ref -> what the preview compares (text, lead, timescale, status, organisations, item keys), read as
    plain rows in three queries: a big plan's actions are never loaded as objects just to be compared."""
    if plan is None:
        return {}
    current: dict[int, dict] = {}
    for id_, ref, text, lead, timescale, status in db.session.execute(
            select(Action.id, Action.ref, Action.text, Action.lead_text, Action.timescale_text, Action.status)
            .where(Action.plan_id == plan.id)):
        current[id_] = {"ref": ref, "text": text, "lead_text": lead, "timescale_text": timescale,
                        "status": Status(status).value, "organisations": [], "items": []}
    for id_, framework_id, number in db.session.execute(
            select(action_items.c.action_id, Theme.framework_id, FrameworkItem.number)
            .join(FrameworkItem, FrameworkItem.id == action_items.c.item_id).join(Theme)
            .join(Action, Action.id == action_items.c.action_id).where(Action.plan_id == plan.id)):
        current[id_]["items"].append(f"{framework_id}:{number}")
    for id_, name in db.session.execute(
            select(action_organisations.c.action_id, Organisation.name)
            .join(Organisation, Organisation.id == action_organisations.c.organisation_id)
            .join(Action, Action.id == action_organisations.c.action_id).where(Action.plan_id == plan.id)):
        current[id_]["organisations"].append(name)
    for values in current.values():
        values["items"].sort()
        values["organisations"].sort()
    return {values["ref"]: values for values in current.values()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


# -- plans (.xlsx) -----------------------------------------------------------------------------------------

#: How often (in rows) a long preview or commit reports its progress.
PROGRESS_EVERY = 500
#: New actions are checked and inserted this many at a time (a few statements per batch, never one per row),
#: so a 20,000-row plan never holds all its insert rows and audit events in memory at once.
CREATE_CHUNK = 1000
#: The first batch is smaller, so that the database starts on its rows (on PostgreSQL, while the next batch is
#: built: bulk.overlapped_copies) without waiting for a whole batch to be built.
FIRST_CHUNK = 200

#: `progress(done, total)`: rows done of the file's rows, for a background job's progress page.
Step = Callable[[int, int], None]


@collector_paused()
def plan_changes(parsed: ParsedPlan, partnership: Partnership, plan_name: str, *,
                 progress: Step | None = None) -> dict:
    """The preview: for each row, create/update/unchanged and what changes, with leads resolved.

    The preview's rows are the parsed rows themselves, each given its verb, changes and leads (a 20,000-row
    plan is not held twice); computing the preview again sets them afresh.
    """
    problems = list(parsed.problems)
    plan = find_plan(partnership, plan_name)
    msg = frameworks.msg_framework()
    hierarchy = bool(parsed.themes)
    framework_note = ""
    if plan is not None and hierarchy and plan.framework.partnership_id is None:
        problems.append(Problem(f"The plan '{plan_name}' uses the national {plan.framework.name}; the file's "
                                "outcomes and priority areas cannot be added to it. Import under another plan name.",
                                ERROR))
    if hierarchy:
        framework_id = plan.framework_id if plan else None
        framework_note = (f"Outcomes and priority areas go into the plan's framework '{plan.framework.name}'"
                          if plan else "Outcomes and priority areas become the new plan's own framework")
    else:
        framework_id = plan.framework_id if plan else (msg.id if msg else None)
        framework_note = "No outcome or priority area columns: actions link to MSG proposals only"
    existing = _current_actions(plan)
    in_database = known_organisations(partnership)
    org_text = _organisations_text(parsed)
    lead_texts = sorted({org_text(row) for row in parsed.rows})
    known = _with_new_names(lead_texts, in_database)
    resolved_by_text, titles = {}, {}
    database_names = set(in_database.values())
    for text in lead_texts:
        resolved_by_text[text], found = leads.organisations_only(leads.split(text, known), database_names)
        for title in found:
            titles.setdefault(title, text)
    for title in sorted(titles):
        problems.append(Problem(f"“{title}” reads as a job title, not an organisation: no organisation is created "
                                "for it, and it is kept as the lead as written.", WARNING))
    database_names = set(in_database.values())
    new_orgs: set[str] = set()
    new_aliases: dict[str, str] = {}
    rows, counts = [], {"create": 0, "update": 0, "unchanged": 0}
    leads_by_text: dict[str, list] = {}
    for number, row in enumerate(parsed.rows):
        if progress and number % PROGRESS_EVERY == 0:
            progress(number, len(parsed.rows))
        text = org_text(row)
        resolved = resolved_by_text[text]
        for part, name, how in resolved:
            if name not in database_names:
                new_orgs.add(name)
            if how in (leads.PREFIX, leads.ALIAS) and leads.normalise(part) not in in_database:
                new_aliases.setdefault(part, name)
        action = existing.get(row["ref"])
        if action is None:
            verb, changed = "create", []
        else:  # what the row would make the action, compared with what it is
            wanted_items = sorted(
                ([f"{framework_id}:{row['item']}"] if row.get("item") and framework_id else []) +
                ([f"{msg.id}:{n}" for n in row["msg"]] if msg else []))
            wanted = {
                "text": row["text"].strip(),
                "lead_text": lead_text(row),
                "timescale_text": interpret(_timescale_value(row)).text,
                "organisations": sorted({name for _, name, _ in resolved}),
            }
            if row["status"] and row["status_from"] == "status column":
                # A status read from the timescale column ("In development") only starts an action off;
                # after that the action's own progress updates decide it.
                wanted["status"] = row["status"]
            changed = [key for key, value in wanted.items() if action[key] != value]
            if not hierarchy:  # the file says nothing about the plan's own outcomes: keep those links
                wanted_items = sorted(wanted_items + [k for k in action["items"]
                                                      if not msg or not k.startswith(f"{msg.id}:")])
            if framework_id and action["items"] != wanted_items:
                changed.append("items")
            verb = "update" if changed else "unchanged"
        counts[verb] += 1
        if text not in leads_by_text:  # one list per lead cell's text, shared by the rows that write it
            leads_by_text[text] = [list(r) for r in resolved]
        row.update(verb=verb, changed=changed, leads=leads_by_text[text])
        rows.append(row)
    return {
        "kind": "xlsx",
        "plan_name": plan_name,
        "plan_exists": plan is not None,
        "plan_id": plan.id if plan else None,
        "manager_id": plan.manager_id if plan else None,
        "similar_plans": [] if plan else similar_plans(partnership, plan_name),
        "unused_columns": {letter: header for letter, header in parsed.headers.items()
                           if letter not in set(parsed.mapping.values())},
        "framework_note": framework_note,
        "rows": rows,
        "counts": counts,
        "new_organisations": sorted(new_orgs),
        "new_aliases": sorted(new_aliases.items()),
        "problems": [p.to_dict() for p in problems],
        "parsed": parsed.to_dict(rows=False),
    }


def _organisations_text(parsed: ParsedPlan) -> Callable[[dict], str]:
    """Where a row's organisations are named: the organisations column, else the lead officer column (whose
    job titles are never taken for organisations)."""
    if "lead" in parsed.mapping or "officer" not in parsed.mapping:
        return lambda row: row["lead"]
    return lambda row: row.get("officer") or ""


def lead_text(row: dict) -> str | None:
    """The lead as written: the lead officer's cell, else the lead organisations' cell."""
    return row.get("officer") or row["lead"] or None


_NAME_NOISE = {"a", "an", "the", "and", "of", "for", "plan", "plans", "to", "in", "&"}


def _name_words(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", name.lower()) if w not in _NAME_NOISE}


def similar_plans(partnership: Partnership, plan_name: str) -> list[dict]:
    """The partnership's open plans whose names are close to `plan_name` (a plan under another name)."""
    import difflib

    wanted = _name_words(plan_name)
    found = []
    for plan_id, name in db.session.execute(select(Plan.id, Plan.name).where(
            Plan.partnership_id == partnership.id, Plan.archived_at.is_(None)).order_by(Plan.name)):
        words = _name_words(name)
        shared = len(wanted & words)
        overlap = shared / min(len(wanted), len(words)) if wanted and words else 0
        ratio = difflib.SequenceMatcher(None, plan_name.lower(), name.lower()).ratio()
        if (shared >= 2 and overlap >= 0.6) or ratio >= 0.8:
            found.append({"id": plan_id, "name": name})
    return found


def _with_new_names(lead_texts: list[str], known: dict[str, str]) -> leads.Known:
    """Known names plus the file's own new ones, so "X Team" later in the file is found as X.

    Linear in the cells and names: a new name is kept when none of its own word-boundary prefixes is a name.
    """
    known = leads.Known(known)
    new = {}
    for text in lead_texts:
        for _part, name, how in leads.split(text, known):
            if how == leads.NEW:
                new.setdefault(leads.normalise(name), name)
    names = set(known) | set(new)
    shortest = {key: name for key, name in new.items() if leads.longest_known_prefix(key, names) is None}
    return leads.Known({**known, **shortest})


def _timescale_value(row: dict) -> str | dt.date:
    return dt.date.fromisoformat(row["timescale"]) if row["timescale_is_date"] else row["timescale"]


class _ItemRef(NamedTuple):
    """A framework item as a new action links it: plans.create_actions reads its id and number only."""
    id: int
    number: str


def _item_refs(framework_id: int) -> dict[str, _ItemRef]:
    """The framework's items by number, read as plain rows (what `frameworks.items_by_number` gives, in the
    same order, without loading a thousand priority areas as objects)."""
    return {number: _ItemRef(id_, number) for id_, number in db.session.execute(
        select(FrameworkItem.id, FrameworkItem.number).join(Theme).where(Theme.framework_id == framework_id)
        .order_by(Theme.position, Theme.id, FrameworkItem.position, FrameworkItem.id))}


@dataclass
class _PlanTarget:
    plan: Plan
    framework: Framework
    msg: Framework
    #: The items new actions link (plain rows); an updated action is given the items themselves (`objects`).
    items: dict[str, _ItemRef]
    msg_items: dict[str, _ItemRef]
    msg_framework_id: int

    @functools.cached_property
    def objects(self) -> tuple[dict[str, FrameworkItem], dict[str, FrameworkItem]]:
        """The plan framework's and the MSG framework's items by number, loaded for the rows that update."""
        return frameworks.items_by_number(self.framework), frameworks.items_by_number(self.msg)


@collector_paused()
@overlapped_copies()  # on PostgreSQL each batch's COPYs run while the next is built
def apply_plan(parsed: ParsedPlan, partnership: Partnership, plan_name: str, *, actor_id: int | None,
               kind: PlanKind | None = None, preview: dict | None = None, manager_id: int | None = None,
               skip_organisations: Iterable[str] = (), progress: Step | None = None) -> dict:
    """Create or update the plan, its framework, organisations and actions; flushes, never commits.

    `preview` is plan_changes' answer when the caller has just computed it in this transaction.
    `manager_id` becomes the plan's manager (checked by the plans service); the new organisations named in
    `skip_organisations` are not created, and the actions are not linked to them.
    """
    preview = preview or plan_changes(parsed, partnership, plan_name)
    problems = [Problem.from_dict(p) for p in preview["problems"]]
    if has_errors(problems):
        raise ImportBlocked("The file has errors; fix them and preview it again. Nothing was imported.")
    skipped = set(skip_organisations) & set(preview["new_organisations"])
    if skipped:
        preview = _without_organisations(preview, skipped)
    target = _plan_target(parsed, partnership, plan_name, actor_id, kind)
    if manager_id is not None and target.plan.manager_id != manager_id:
        plans.edit_plan(target.plan, actor_id=actor_id, manager_id=manager_id)
    organisations = _organisations(partnership, preview, actor_id)
    existing = _actions_by_ref(target.plan, {row["ref"] for row in preview["rows"] if row["verb"] == "update"})
    known = plans.NewActions(target.plan, preview["counts"]["create"])  # read once for all the batches
    to_create, chunk = [], min(FIRST_CHUNK, CREATE_CHUNK)
    # The organisations of each distinct lead cell and the MSG items of each distinct proposals cell, once; a
    # preview just computed shares one leads list among the rows of a lead cell, so that list is looked up first.
    orgs_of: dict[tuple, list[Organisation]] = {}
    orgs_of_list: dict[int, tuple[list, list[Organisation]]] = {}
    msg_of: dict[tuple, list[_ItemRef]] = {}
    links_of: dict[tuple, list[_ItemRef]] = {}
    for number, row in enumerate(preview["rows"]):
        if progress and number % PROGRESS_EVERY == 0:
            progress(number, len(preview["rows"]))
        verb = row["verb"]
        if verb == "unchanged":
            continue
        row_leads = row["leads"]
        found = orgs_of_list.get(id(row_leads))
        if found is not None and found[0] is row_leads:
            orgs = found[1]
        else:
            names = tuple(name for _, name, _ in row_leads)
            orgs = orgs_of.get(names)
            if orgs is None:
                orgs = orgs_of[names] = list({organisations[name].id: organisations[name]
                                              for name in names}.values())
            orgs_of_list[id(row_leads)] = (row_leads, orgs)
        if verb == "create":
            msg = tuple(row["msg"])
            msg_items = msg_of.get(msg)
            if msg_items is None:
                msg_items = msg_of[msg] = [target.msg_items[n] for n in msg if n in target.msg_items]
            item = target.items.get(row["item"]) if row.get("item") else None
            links = links_of.get((item, msg))
            if links is None:  # one list per distinct priority area and proposals
                links = links_of[(item, msg)] = [item, *msg_items] if item else msg_items
            to_create.append(_new_action(row, links, orgs))
            if len(to_create) == chunk:  # a bounded batch in memory at once, whatever the file's size
                _insert_actions(to_create, target.plan, actor_id, known)
                to_create, chunk = [], CREATE_CHUNK
        else:
            item_objects, msg_objects = target.objects
            items = ([item_objects[row["item"]]] if row.get("item") and row["item"] in item_objects else []) + \
                [msg_objects[n] for n in row["msg"] if n in msg_objects]
            if not parsed.themes:
                items += [i for i in existing[row["ref"]].items if i.theme.framework_id != target.msg_framework_id]
            changes = {"text": row["text"], "lead_text": lead_text(row), "timescale": _timescale_value(row),
                       "organisations": orgs, "items": items}
            if row["status"] and row["status_from"] == "status column":
                changes["status"] = Status(row["status"])
            # The timescale as the file has it, readable or not ("TBC"), as a new action's is kept.
            plans.edit_action(existing[row["ref"]], expected_version=None, actor_id=actor_id, as_written=True,
                              **changes)
    _insert_actions(to_create, target.plan, actor_id, known)
    summary = {"plan_id": target.plan.id, "plan_name": target.plan.name, **preview["counts"],
               "organisations_created": preview["new_organisations"],
               "organisations_skipped": sorted(skipped),
               "aliases_created": [a for a, _ in preview["new_aliases"]],
               "warnings": sum(1 for p in problems if p.severity == WARNING)}
    audit.record(user_id=actor_id, entity_type="plan", entity_id=target.plan.id, verb="import",
                 partnership_id=partnership.id, plan_id=target.plan.id, after=summary,
                 summary=f"Imported {parsed.sheet or 'a workbook'} into {target.plan.name}: "
                         f"{summary['create']} created, {summary['update']} updated")
    db.session.flush()
    return summary


def _without_organisations(preview: dict, names: set[str]) -> dict:
    """The preview with the new organisations in `names` left out of the rows, the list and the aliases."""
    return {**preview,
            "new_organisations": [n for n in preview["new_organisations"] if n not in names],
            "new_aliases": [[a, n] for a, n in preview["new_aliases"] if n not in names],
            "rows": [{**row, "leads": [lead for lead in row["leads"] if lead[1] not in names]}
                     for row in preview["rows"]]}


def _new_action(row: dict, items: list[_ItemRef], orgs: list[Organisation]) -> dict:
    """An action's values from a row, for plans.services.create_actions (which checks them)."""
    return {"ref": row["ref"], "text": row["text"], "status": row["status"] or Status.NOT_STARTED,
            "lead_text": row.get("officer") or row["lead"] or None,
            "timescale": dt.date.fromisoformat(row["timescale"]) if row["timescale_is_date"] else row["timescale"],
            "items": items, "organisations": orgs}


def _insert_actions(actions: list[dict], plan: Plan, actor_id: int | None,
                    known: plans.NewActions | None = None) -> None:
    plans.create_actions(plan, actions, actor_id=actor_id, verb="import", known=known)


def _plan_target(parsed: ParsedPlan, partnership, plan_name, actor_id, kind) -> _PlanTarget:
    plan = find_plan(partnership, plan_name)
    msg = frameworks.msg_framework() or frameworks.load_msg()
    if parsed.themes:
        framework = plan.framework if plan else None
        if framework is None:
            framework = _new_framework(partnership, plan_name, parsed.themes)
        else:
            _update_framework(framework, parsed.themes)
    else:
        framework = plan.framework if plan else msg
    if plan is None:
        title = f"{parsed.title} {plan_name}".lower()
        plan = plans.create_plan(partnership_id=partnership.id, framework_id=framework.id, name=plan_name,
                                 kind=kind or (PlanKind.DELIVERY_PLAN if "delivery" in title else PlanKind.ACTION_PLAN),
                                 description=parsed.title or None, actor_id=actor_id)
    return _PlanTarget(plan=plan, framework=framework, msg=msg, items=_item_refs(framework.id),
                       msg_items=_item_refs(msg.id), msg_framework_id=msg.id)


def _new_framework(partnership: Partnership, plan_name: str, themes: list[dict]) -> Framework:
    """The plan's own framework of the file's outcomes and priority areas, in three statements.

    A plan may have a thousand priority areas; bulk inserts (one for the outcomes, one for the areas) instead
    of a flush per area; the actions link its areas by id (`_item_refs`).
    """
    code = f"import-{partnership.id}-{_slug(plan_name)}"
    framework = db.session.scalar(select(Framework).where(Framework.code == code))
    if framework is not None:  # a plan of that name was deleted but its framework kept: refresh it
        _update_framework(framework, themes)
        return framework
    framework = Framework(code=code, name=f"{plan_name}: outcomes", partnership_id=partnership.id, levels=[],
                          theme_label="Outcome", item_label="Priority area")
    db.session.add(framework)
    db.session.flush()
    if themes:
        db.session.execute(Theme.__table__.insert(), [
            {"framework_id": framework.id, "number": t["number"], "title": t["title"], "description": None,
             "position": position} for position, t in enumerate(themes)])
        theme_ids = dict(db.session.execute(select(Theme.number, Theme.id).where(
            Theme.framework_id == framework.id)).all())
        insert = BulkInsert(FrameworkItem.__table__, ("theme_id", "number", "title", "descriptors",
                                                      "local_completion", "note", "position"))
        descriptors, local = insert.processor("descriptors")([]), insert.processor("local_completion")(True)
        insert.write([(theme_ids[t["number"]], i["number"], i["title"], descriptors, local, None, position)
                      for t in themes for position, i in enumerate(t["items"])])
    db.session.expire(framework, ["themes"])  # loaded afresh if anything reads them
    return framework


def _update_framework(framework: Framework, themes: list[dict]) -> None:
    """Add the file's missing outcomes and priority areas to an existing framework and refresh their titles."""
    by_number = {theme.number: theme for theme in framework.themes}
    for theme_def in themes:
        theme = by_number.get(theme_def["number"])
        if theme is None:
            theme = Theme(number=theme_def["number"], title=theme_def["title"], position=len(framework.themes))
            framework.themes.append(theme)
        elif theme.title != theme_def["title"]:
            theme.title = theme_def["title"]
        items = {item.number: item for item in theme.items}
        for item_def in theme_def["items"]:
            item = items.get(item_def["number"])
            if item is None:
                theme.items.append(FrameworkItem(number=item_def["number"], title=item_def["title"],
                                                 descriptors=[], position=len(theme.items)))
            elif item.title != item_def["title"]:
                item.title = item_def["title"]
    db.session.flush()


def _organisations(partnership: Partnership, preview: dict, actor_id: int | None) -> dict[str, Organisation]:
    """Every organisation the rows name, creating new ones and remembering prefix matches as aliases.

    A plan can name thousands of new organisations: each kind of row (organisations, aliases, audit events)
    goes in as one Core executemany, and the organisations are read back in one query.
    """
    from tracker.audit.models import AuditEvent

    def by_name() -> dict[str, Organisation]:
        return {org.name: org for org in db.session.scalars(
            select(Organisation).where(Organisation.partnership_id == partnership.id))}

    existing = by_name()
    new = list(dict.fromkeys(name for name in preview["new_organisations"] if name not in existing))
    if new:
        db.session.execute(Organisation.__table__.insert(), [
            {"partnership_id": partnership.id, "name": name, "kind": leads.guess_kind(name)} for name in new])
        existing = by_name()
    taken = {leads.normalise(a) for a in db.session.scalars(
        select(OrganisationAlias.alias).where(OrganisationAlias.partnership_id == partnership.id))}
    aliases = []
    for alias, name in preview["new_aliases"]:
        if leads.normalise(alias) not in taken:
            aliases.append({"partnership_id": partnership.id, "alias": alias, "organisation_id": existing[name].id})
            taken.add(leads.normalise(alias))
    if aliases:
        db.session.execute(OrganisationAlias.__table__.insert(), aliases)
    if preview["new_organisations"]:
        now = utcnow()
        db.session.execute(AuditEvent.__table__.insert(), [
            {"at": now, "user_id": actor_id, "entity_type": "organisation", "entity_id": existing[name].id,
             "verb": "import", "partnership_id": partnership.id, "plan_id": None, "before": None,
             "after": {"name": name}, "summary": f"Added organisation {name}"[:500]}
            for name in preview["new_organisations"]])
    return existing


# -- self-evaluations (.docx) ------------------------------------------------------------------------------

def _msg() -> Framework:
    return frameworks.msg_framework() or frameworks.load_msg()


def _proposed_actions(parsed: ParsedSelfEvaluation) -> list[dict]:
    """One entry per distinct action text, linked to every proposal that lists it."""
    by_key: dict[str, dict] = {}
    for row in parsed.rows:
        for index, text in enumerate(row["actions"], start=1):
            key = normalise_text(text)
            if key in by_key:
                if row["number"] not in by_key[key]["numbers"]:
                    by_key[key]["numbers"].append(row["number"])
            else:
                by_key[key] = {"key": key, "text": text, "ref": f"{row['number']}.{index}", "numbers": [row["number"]]}
    return list(by_key.values())


def selfeval_changes(parsed: ParsedSelfEvaluation, partnership: Partnership, plan_name: str,
                     title: str | None = None, use_suggested: bool = True) -> dict:
    """The preview for a self-evaluation: each proposal's rating and each action, created/updated/unchanged."""
    problems = list(parsed.problems)
    msg = frameworks.msg_framework()
    numbers = {item.number for item in frameworks.items_by_number(msg).values()} if msg else \
        xlsx_plan.MSG_NUMBERS
    title = title or round_title(parsed)
    round_ = _find_round(partnership, msg, title)
    ratings = {r.item.number: r for r in round_.ratings} if round_ else {}
    if parsed.partnership and not _same_partnership(parsed.partnership, partnership):
        problems.append(Problem(f"The return names '{parsed.partnership}', but it is being imported for "
                                f"{partnership.name}. Check the partnership.", WARNING, sheet="Front table"))
    if round_ is None and msg is not None:
        problems.extend(_new_round_problems(parsed, partnership, msg, title))
    items = frameworks.items_by_number(msg) if msg else {}
    rows, counts = [], {"create": 0, "update": 0, "unchanged": 0}
    for row in parsed.rows:
        if row["number"] not in numbers:
            problems.append(Problem(f"Proposal {row['number']} is not in the MSG framework.", ERROR,
                                    sheet=f"Proposal {row['number']}"))
            continue
        level_label = row["rating"] or (row["rating_suggested"] if use_suggested else None)
        wanted = _wanted_rating(row, level_label, parsed.levels)
        rating = ratings.get(row["number"])
        if rating is None:
            verb, changed = "create", []
        else:
            changed = [k for k, v in wanted.items() if getattr(rating, k) != v]
            verb = "update" if changed else "unchanged"
        if row["number"] in items:
            problem = _rating_problem(items[row["number"]], round_, rating, wanted, msg.levels)
            if problem is not None:
                problems.append(problem)
        rows.append({**row, "level_used": level_label, "verb": verb, "changed": changed})
    plan = find_plan(partnership, plan_name)
    existing = _existing_plan_actions(plan)
    actions, action_counts = [], {"create": 0, "update": 0, "unchanged": 0}
    for entry in _proposed_actions(parsed):
        action = existing.get(entry["key"]) or existing.get(entry["ref"])
        if action is None:
            verb = "create"
        else:
            current_numbers = sorted(i.number for i in action.items if msg and i.theme.framework_id == msg.id)
            verb = "unchanged" if current_numbers == sorted(entry["numbers"]) and action.text == entry["text"] \
                else "update"
            entry = {**entry, "ref": action.ref}
        action_counts[verb] += 1
        actions.append({**entry, "verb": verb})
    for row in rows:
        counts[row["verb"]] += 1
    return {
        "kind": "docx",
        "plan_name": plan_name,
        "plan_exists": plan is not None,
        "round_title": title,
        "round_exists": round_ is not None,
        "use_suggested": use_suggested,
        "rows": rows,
        "actions": actions,
        "counts": counts,
        "action_counts": action_counts,
        "problems": [p.to_dict() for p in problems],
        "parsed": parsed.to_dict(),
    }


def _same_partnership(written: str, partnership: Partnership) -> bool:
    def words(text):
        return set(re.findall(r"[a-z]+", text.lower())) - {"hscp", "ijb", "health", "and", "social", "care",
                                                          "partnership", "the", "integration", "joint", "board"}
    named = words(written)
    return not named or bool(named & (words(partnership.name) | words(partnership.full_name or "")))


def _wanted_rating(row: dict, level_label: str | None, levels) -> dict:
    """What a proposal's row would make its rating (the rating's level, evidence and proposed actions)."""
    return {"level": list(levels).index(level_label) if level_label else None,
            "evidence": "\n".join(row["evidence"]), "proposed_actions": "\n".join(row["actions"])}


def _rating_snapshot(rating: Rating | None) -> dict:
    return selfeval.rating_snapshot(rating) if rating is not None else dict(selfeval.EMPTY_RATING)


def _changes_rating(rating: Rating | None, wanted: dict) -> bool:
    """Whether importing `wanted` would change the rating (one not made yet counts as empty)."""
    before = _rating_snapshot(rating)
    return any(before[key] != value for key, value in wanted.items())


def _rating_problem(item: FrameworkItem, round_: SelfEvaluationRound | None, rating: Rating | None, wanted: dict,
                    levels) -> Problem | None:
    """The error that stops the import when selfeval's rating rules (`check_rating`, which `rate` applies when
    the import saves) refuse the row: a proposal not for local completion, a change to an agreed round."""
    if not _changes_rating(rating, wanted):
        return None
    status = RoundStatus(round_.status) if round_ is not None else RoundStatus.DRAFT
    try:
        selfeval.check_rating(item, status=status, levels=levels, before=_rating_snapshot(rating),
                              participants=rating.participants if rating is not None else None, **wanted)
    except RuleError as refused:
        message = refused.message if f"Proposal {item.number} " in refused.message else \
            f"Proposal {item.number}: {refused.message}"
        if refused.field == "reason":
            message += (f" An import cannot give one, so it cannot change {round_.title}: change the rating on "
                        "its page with a reason, or import the file as another round.")
        return Problem(message, ERROR, sheet=f"Proposal {item.number}")
    return None


def _new_round_problems(parsed: ParsedSelfEvaluation, partnership: Partnership, msg: Framework,
                        title: str) -> list[Problem]:
    """The error that stops the import when selfeval would refuse to start the round the return makes."""
    try:
        selfeval.check_new_round(partnership=partnership, framework=msg, title=title,
                                 completed_on=parsed.completed_on, contact=parsed.contact)
    except RuleError as refused:
        cell = {"contact": "Contact", "completed_on": "Date of completion"}.get(refused.field or "")
        return [Problem(f"The round '{title[:300]}' cannot be started: {refused.message}", ERROR,
                        sheet="Front table" if cell else None, cell=cell)]
    return []


def _find_round(partnership, msg, title) -> SelfEvaluationRound | None:
    if msg is None:
        return None
    return db.session.scalar(select(SelfEvaluationRound).where(
        SelfEvaluationRound.partnership_id == partnership.id, SelfEvaluationRound.framework_id == msg.id,
        SelfEvaluationRound.title == title).options(selectinload(SelfEvaluationRound.ratings)
                                                    .selectinload(Rating.item)))


def _existing_plan_actions(plan: Plan | None) -> dict[str, Action]:
    """The plan's actions by normalised text and by reference."""
    found: dict[str, Action] = {}
    for action in _actions_by_ref(plan).values():
        found.setdefault(normalise_text(action.text), action)
        found.setdefault(action.ref, action)
    return found


def apply_selfeval(parsed: ParsedSelfEvaluation, partnership: Partnership, plan_name: str, *,
                   actor_id: int | None, title: str | None = None, use_suggested: bool = True) -> dict:
    """Create or update the round's ratings and the plan's actions linked to proposals; flushes only."""
    preview = selfeval_changes(parsed, partnership, plan_name, title, use_suggested)
    problems = [Problem.from_dict(p) for p in preview["problems"]]
    if has_errors(problems):
        errors = " ".join(p.message for p in problems if p.severity == ERROR)
        raise ImportBlocked(f"The file has errors; fix them and preview it again. Nothing was imported. {errors}")
    msg = _msg()
    items = frameworks.items_by_number(msg)
    round_ = _find_round(partnership, msg, preview["round_title"])
    if round_ is None:
        round_ = selfeval.create_round(partnership=partnership, framework=msg, title=preview["round_title"],
                                       actor_id=actor_id, completed_on=parsed.completed_on, contact=parsed.contact)
    ratings = {r.item_id: r for r in round_.ratings}
    for row in preview["rows"]:
        if row["verb"] == "unchanged":
            continue
        item = items[row["number"]]
        rating = ratings.get(item.id)
        wanted = _wanted_rating(row, row["level_used"], msg.levels)
        if not _changes_rating(rating, wanted):
            continue
        if rating is None:  # a round imported before every proposal had a rating
            rating = Rating(round=round_, item=item, level=None, evidence="", proposed_actions="")
            db.session.add(rating)
            db.session.flush()
        # The rating rules of every door (selfeval.rate); the preview has already reported any refusal.
        selfeval.rate(rating, actor_id=actor_id, participants=rating.participants, verb="import", **wanted)
    plan = find_plan(partnership, plan_name)
    if plan is None and preview["actions"]:
        plan = plans.create_plan(partnership_id=partnership.id, framework_id=msg.id, name=plan_name,
                                 kind=PlanKind.ACTION_PLAN, actor_id=actor_id,
                                 description=f"Improvement actions from the {round_.title}.")
    existing = _existing_plan_actions(plan)
    tracked: dict[str, Action] = {}
    for entry in preview["actions"]:
        linked = [items[n] for n in entry["numbers"]]
        action = existing.get(entry["key"]) or existing.get(entry["ref"])
        if action is None:
            action = plans.create_action(plan=plan, text=entry["text"], ref=entry["ref"], items=linked,
                                         actor_id=actor_id, verb="import")
        elif entry["verb"] == "update":
            others = [i for i in action.items if i.theme.framework_id != msg.id]
            plans.edit_action(action, expected_version=None, actor_id=actor_id, text=entry["text"],
                              items=others + linked)
        tracked[entry["key"]] = action
    _link_proposed_actions(round_, tracked, actor_id)
    summary = {"round_id": round_.id, "round_title": round_.title, "plan_id": plan.id if plan else None,
               "plan_name": plan_name, "ratings": preview["counts"], **preview["action_counts"],
               "warnings": sum(1 for p in problems if p.severity == WARNING)}
    audit.record(user_id=actor_id, entity_type="selfeval_round", entity_id=round_.id, verb="import",
                 partnership_id=partnership.id, plan_id=plan.id if plan else None, after=summary,
                 summary=f"Imported self-evaluation into {round_.title}")
    db.session.flush()
    return summary


def _link_proposed_actions(round_: SelfEvaluationRound, tracked: dict[str, Action], actor_id: int | None) -> None:
    """Each proposed action in the round points at the tracked action made from it, as if linked by hand."""
    for rating in round_.ratings:
        for proposed in rating.proposed:
            action = tracked.get(normalise_text(proposed.text))
            if proposed.action_id is None and action is not None:
                selfeval.link_proposed_action(proposed, action=action, actor_id=actor_id)


# -- the alias list users correct --------------------------------------------------------------------------

def set_alias(partnership: Partnership, alias: str, organisation: Organisation | None, actor_id: int | None) -> None:
    """Say which organisation a name written in plans means; None forgets the name."""
    alias = re.sub(r"\s+", " ", alias).strip()
    found = next((a for a in db.session.scalars(select(OrganisationAlias).where(
        OrganisationAlias.partnership_id == partnership.id))
        if leads.normalise(a.alias) == leads.normalise(alias)), None)
    before = {"alias": found.alias, "organisation": found.organisation.name} if found else None
    if organisation is None:
        if found is not None:
            db.session.delete(found)
    elif found is None:
        found = OrganisationAlias(partnership_id=partnership.id, alias=alias, organisation_id=organisation.id)
        db.session.add(found)
    else:
        found.organisation_id = organisation.id
    db.session.flush()
    after = {"alias": alias, "organisation": organisation.name} if organisation else None
    audit.record(user_id=actor_id, entity_type="organisation_alias", entity_id=found.id if found else None,
                 verb="update" if before and after else ("create" if after else "delete"),
                 partnership_id=partnership.id, before=before, after=after,
                 summary=f"'{alias}' now means {organisation.name}" if organisation else f"Forgot the name '{alias}'")


# -- one entry point for the views and the CLI -------------------------------------------------------------

def changes(parsed: Parsed, partnership: Partnership, plan_name: str, **options) -> dict:
    if isinstance(parsed, ParsedSelfEvaluation):
        return selfeval_changes(parsed, partnership, plan_name, options.get("title"),
                                options.get("use_suggested", True))
    return plan_changes(parsed, partnership, plan_name, progress=options.get("progress"))


def apply(parsed: Parsed, partnership: Partnership, plan_name: str, *, actor_id: int | None, **options) -> dict:
    if isinstance(parsed, ParsedSelfEvaluation):
        return apply_selfeval(parsed, partnership, plan_name, actor_id=actor_id, title=options.get("title"),
                              use_suggested=options.get("use_suggested", True))
    return apply_plan(parsed, partnership, plan_name, actor_id=actor_id, preview=options.get("preview"),
                      manager_id=options.get("manager_id"), skip_organisations=options.get("skip_organisations", ()),
                      progress=options.get("progress"))


def create_job(checked: CheckedFile, parsed: Parsed, partnership: Partnership, plan_name: str,
               user_id: int | None) -> ImportJob:
    """Keep the upload and its preview until the user confirms or corrects it."""
    preview = changes(parsed, partnership, plan_name)
    forget_abandoned_jobs()
    job = ImportJob(partnership_id=partnership.id, user_id=user_id, kind=checked.kind, filename=checked.name[:300],
                    data=checked.data, plan_name=plan_name, preview=preview,
                    mapping=getattr(parsed, "mapping", {}) or {},
                    rows_read=getattr(parsed, "rows_read", len(parsed.rows)))
    db.session.add(job)
    db.session.flush()
    return job


#: An ImportJob whose file a background job is still reading: it has no preview yet.
READING = "reading"


def is_big(rows: int) -> bool:
    """Whether an import of this many rows runs in the background (JOBS_IMPORT_THRESHOLD)."""
    from flask import current_app

    return rows > current_app.config.get("JOBS_IMPORT_THRESHOLD", 2000)


def rows_in(checked: CheckedFile) -> int:
    """The rows of an uploaded plan, counted before it is read (0 for a self-evaluation, always small)."""
    return xlsx_plan.count_rows(checked) if checked.kind == "xlsx" else 0


def create_reading_job(checked: CheckedFile, partnership: Partnership, plan_name: str, user_id: int | None,
                       rows: int) -> ImportJob:
    """Keep a big upload, to be read and previewed by a background job (`read_job`)."""
    forget_abandoned_jobs()
    job = ImportJob(partnership_id=partnership.id, user_id=user_id, kind=checked.kind, filename=checked.name[:300],
                    data=checked.data, plan_name=plan_name, preview={}, mapping={}, rows_read=rows, status=READING)
    db.session.add(job)
    db.session.flush()
    return job


def read_job(job: ImportJob, *, mapping: dict | None = None, plan_name: str | None = None,
             use_suggested: bool = True, limits: Limits | None = None, progress: Step | None = None) -> ImportJob:
    """Read a kept upload (again) and store its preview: the background side of an upload or a new mapping."""
    if job.status == "committed":
        raise Conflict("This import was already committed.")
    total = max(job.rows_read, 1)
    if progress:
        progress(0, total)
    parsed = read(CheckedFile(data=job.data, kind=job.kind, name=job.filename), mapping=mapping or None,
                  limits=limits)
    job.plan_name = plan_name or job.plan_name or default_plan_name(parsed, job.filename)
    job.mapping = getattr(parsed, "mapping", {}) or {}
    job.rows_read = getattr(parsed, "rows_read", len(parsed.rows))
    job.preview = changes(parsed, job.partnership, job.plan_name, use_suggested=use_suggested, progress=progress)
    job.status = "previewed"
    db.session.flush()
    return job


def forget_abandoned_jobs(older_than: dt.timedelta = ABANDONED_AFTER) -> int:
    """Delete previews nobody confirmed, so uploaded files are not kept indefinitely."""
    old = db.session.scalars(select(ImportJob).where(ImportJob.status.in_(("previewed", READING)),
                                                     ImportJob.created_at < utcnow() - older_than)).all()
    for job in old:
        db.session.delete(job)
    return len(old)


def remap_job(job: ImportJob, mapping: dict[str, str], plan_name: str, *, use_suggested: bool = True,
              limits: Limits | None = None) -> ImportJob:
    """Read the kept file again with the user's column mapping (or plan name) and refresh the preview."""
    parsed = read(CheckedFile(data=job.data, kind=job.kind, name=job.filename),
                  mapping=mapping or None, limits=limits)
    job.plan_name = plan_name
    job.mapping = getattr(parsed, "mapping", {}) or {}
    job.preview = changes(parsed, job.partnership, plan_name, use_suggested=use_suggested)
    job.rows_read = getattr(parsed, "rows_read", len(parsed.rows))
    db.session.flush()
    return job


def commit_job(job: ImportJob, actor_id: int | None, *, manager_id: int | None = None,
               skip_organisations: Iterable[str] = (), progress: Step | None = None) -> dict:
    """Apply a previewed job; raises ImportBlocked when the preview has errors.

    For a plan, `manager_id` becomes its manager and the new organisations in `skip_organisations` are left out.
    """
    if job.status == "committed":
        raise ImportBlocked("This import was already committed.")
    if job.status == READING:
        raise ImportBlocked("The file is still being read; confirm it once its preview is shown.")
    parsed = parsed_from_dict(job.preview["parsed"], job.preview.get("rows"))
    options = {"use_suggested": job.preview.get("use_suggested", True)}
    if job.kind == "xlsx":
        options.update(manager_id=manager_id, skip_organisations=tuple(skip_organisations), progress=progress)
    summary = apply(parsed, job.partnership, job.plan_name, actor_id=actor_id, **options)
    job.status = "committed"
    job.summary = summary
    job.committed_at = utcnow()
    job.data = b""
    db.session.flush()
    return summary


def retarget_plan(job: ImportJob, plan_id: int) -> Plan:
    """The open plan of the job's partnership a preview may be pointed at; refused otherwise."""
    plan = db.session.get(Plan, plan_id) if texts.in_id_range(plan_id) else None
    if plan is None or plan.partnership_id != job.partnership_id or plan.archived_at is not None:
        raise NotFound("That plan was not found in this partnership.", "plan_id")
    if job.status == "committed":
        raise Conflict("This import was already committed.")
    return plan


def retarget_job(job: ImportJob, plan_id: int, *, limits: Limits | None = None) -> ImportJob:
    """Point a preview at an existing plan of the partnership (a similar name), so the import updates it."""
    plan = retarget_plan(job, plan_id)
    return remap_job(job, job.mapping or {}, plan.name, use_suggested=job.preview.get("use_suggested", True),
                     limits=limits)


# -- after an import: the lead officers --------------------------------------------------------------------

def lead_candidates(partnership_id: int) -> list[User]:
    """Active people who can lead actions in the partnership (lead officers and above), by name."""
    users = db.session.scalars(select(User).join(Membership).where(
        Membership.partnership_id == partnership_id, User.active.is_(True)).order_by(User.name, User.id)).unique()
    return [u for u in users if u.has_role(partnership_id, Role.LEAD_OFFICER)]


def plan_managers(partnership_id: int) -> list[User]:
    """Active people who may manage the partnership's plans, by name."""
    return [u for u in lead_candidates(partnership_id) if u.has_role(partnership_id, Role.PLAN_MANAGER)]


def unassigned_leads(plan: Plan, candidates: list[User]) -> list[dict]:
    """Each distinct lead text of the plan's open actions without a lead officer: how many, and a suggestion."""
    people = [(u.id, u.name, u.email, u.job_title) for u in candidates]
    counts: dict[str, int] = {}
    for text in db.session.scalars(select(Action.lead_text).where(
            Action.plan_id == plan.id, Action.lead_officer_id.is_(None), Action.lead_text.is_not(None),
            Action.status.in_([s for s in Status if s.is_open]))):
        if text.strip():
            counts[text] = counts.get(text, 0) + 1
    found = []
    for text in sorted(counts, key=lambda t: (-counts[t], t.lower())):
        suggestion = leads.suggest_user(text, people)
        found.append({"text": text, "actions": counts[text],
                      "suggested_id": suggestion[0] if suggestion else None,
                      "suggested_how": suggestion[1] if suggestion else None})
    return found


def assign_lead(plan: Plan, lead_text: str, user_id: int, *, actor) -> list[Action]:
    """Make `user_id` the lead officer of every open action of the plan written as led by `lead_text` that has
    none yet, through the plans service (which checks the actor manages the plan and the user belongs here)."""
    if not permissions.can_manage_plan(actor, plan):
        raise NotAllowed("Only the plan's managers can assign lead officers.")
    actions = db.session.scalars(select(Action).where(
        Action.plan_id == plan.id, Action.lead_text == lead_text, Action.lead_officer_id.is_(None),
        Action.status.in_([s for s in Status if s.is_open])).order_by(Action.id)).all()
    for action in actions:
        plans.edit_action(action, expected_version=None, actor=actor, lead_officer_id=user_id)
    return list(actions)


def invite_lead(partnership_id: int, *, name: str, email: str, job_title: str | None, actor) -> User:
    """A new lead officer account in the partnership, through the administration service (which checks that
    the actor administers the partnership). The caller queues the welcome e-mail in the same transaction."""
    return admin.create_user(name=name, email=email, job_title=job_title, roles={partnership_id: Role.LEAD_OFFICER},
                             is_admin=False, actor=actor)


__all__ = ["ImportBlocked", "ImportRefused", "Limits", "check", "read", "changes", "apply", "create_job", "remap_job",
           "commit_job", "forget_abandoned_jobs", "default_plan_name", "known_organisations", "set_alias"]
