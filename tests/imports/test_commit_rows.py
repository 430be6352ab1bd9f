"""What an import commit writes, row for row: every action, link, organisation, alias, outcome and audit event of
a few imports (new plans, a plan over several batches, updates, a kept preview, a second import that changes
nothing) compared with a record made before the commit path was made faster (tests/fixtures/
import-commit-rows.json). Ids and clock times differ from run to run, so rows are named by what they mean (an
action by its plan and ref, an organisation by its name) and times are compared with each other.

To record it afresh (only when the rows are meant to change): IMPORT_COMMIT_ROWS=write pytest this file.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

import tests.hypothesis_profiles  # noqa: F401  (loads the profile)
from tests import factories
from tests.imports.builders import plan_xlsx
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.imports import services
from tracker.partnerships.models import Organisation, OrganisationAlias
from tracker.plans.models import Action, Plan, action_items, action_organisations

FIXTURES = Path(__file__).parent.parent / "fixtures"
DUNDEE = FIXTURES / "dundee-carers-delivery-plan-2022.xlsx"
RECORD = FIXTURES / "import-commit-rows.json"

HEADERS = ["Ref", "Action", "Lead", "Timescale", "MSG proposals", "Status"]


def _rows(changed: bool = False) -> list[list]:
    rows = []
    for n in range(1, 24):
        lead = ["Anytown Council", "NHS Anytown", "Anytown Council Housing Team", "Carers Centre/ NHS Anytown",
                "Head of Service", "", "Third Sector Forum"][n % 7]
        timescale = ["March 2024", "Ongoing", "Q3 2024/25", dt.datetime(2025, 6, 30), "TBC", "In development",
                     "Autumn 2024"][n % 7]
        status = ["", "On track", "Complete", "Delayed", ""][n % 5]
        msg = ["1.1", "2.3; 3.5", "", "6.1, 6.2", "9.9"][n % 5]
        rows.append([f"A{n}", f"Action {n}: work with partners on carer support\n(second line {n})", lead, timescale,
                     msg, status])
    if changed:
        rows[0][1] = "Action 1: rewritten"
        rows[1][2] = "Anytown Council"
        rows[2][3] = "December 2026"
        rows[5][5] = "At risk"
        rows[6][4] = "4.1"
        rows.append(["A99", "A new action in the second file", "Brand New Trust", "2026/27", "5.1", "Not started"])
    return rows


def _world():
    factories.msg()
    partnership = factories.partnership("Anytown")
    factories.organisation(partnership, "Anytown Council")
    factories.organisation(factories.partnership("Elsewhere"), "NHS Anytown")
    manager = factories.user(partnership, Role.PLAN_MANAGER, email="manager@example.org")
    db.session.flush()
    return partnership, manager


def _run_imports(monkeypatch) -> list[dict]:
    partnership, manager = _world()
    summaries = []
    # A plan with outcomes and priority areas, in batches of 7 new actions.
    monkeypatch.setattr(services, "CREATE_CHUNK", 7)
    parsed = services.read(DUNDEE)
    preview = services.changes(parsed, partnership, "Carers plan")
    summaries.append(services.apply(parsed, partnership, "Carers plan", actor_id=manager.id, preview=preview))
    monkeypatch.setattr(services, "CREATE_CHUNK", 1000)
    db.session.commit()
    # A plan without outcomes (MSG proposals only), through a kept preview as the web pages commit it,
    # leaving one new organisation out and naming the manager.
    checked = services.check(plan_xlsx(HEADERS, _rows(), title=["Anytown improvement plan"]))
    job = services.create_job(checked, services.read(checked), partnership, "Improvement plan", manager.id)
    db.session.commit()
    summaries.append(services.commit_job(db.session.get(type(job), job.id), manager.id, manager_id=manager.id,
                                         skip_organisations=["Third Sector Forum"]))
    db.session.commit()
    # The same plan changed: updates, one new action, the rest unchanged.
    summaries.append(services.apply(services.read(plan_xlsx(HEADERS, _rows(changed=True))), partnership,
                                    "Improvement plan", actor_id=None))
    db.session.commit()
    # Both again: nothing changes.
    for path, name in ((DUNDEE, "Carers plan"), (plan_xlsx(HEADERS, _rows(changed=True)), "Improvement plan")):
        summaries.append(services.apply(services.read(path), partnership, name, actor_id=None))
        db.session.commit()
    return summaries


def _state(summaries: list[dict]) -> dict:
    plans = {p.id: p.name for p in db.session.scalars(select(Plan))}
    orgs = {o.id: o.name for o in db.session.scalars(select(Organisation))}
    users = {u.id: u.email for u in db.session.scalars(select(User))}
    frameworks = {f.id: f.code for f in db.session.scalars(select(Framework))}
    actions = {a.id: a for a in db.session.scalars(select(Action))}
    action_names = {i: f"{plans[a.plan_id]}/{a.ref}" for i, a in actions.items()}
    items = {i.id: f"{frameworks[i.theme.framework_id]}:{i.number}" for i in db.session.scalars(select(FrameworkItem))}

    def named(kind: str | None, value):
        if value is None:
            return None
        return {"action": action_names, "organisation": orgs, "plan": plans, "user": users}.get(kind, {}).get(
            value, f"{kind}#?")

    def json_named(value):
        if isinstance(value, dict):
            return {k: (named(k[:-3].replace("manager", "user"), v) if k.endswith("_id") and isinstance(v, int)
                        else json_named(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [json_named(v) for v in value]
        return value

    links: dict[str, dict[str, list]] = {name: {"items": [], "organisations": []} for name in action_names.values()}
    for action_id, item_id in db.session.execute(select(action_items)):
        links[action_names[action_id]]["items"].append(items[item_id])
    for action_id, org_id in db.session.execute(select(action_organisations)):
        links[action_names[action_id]]["organisations"].append(orgs[org_id])
    created = {}
    for a in actions.values():
        created[a.id] = a.created_at
    # The JSON as stored (a bulk insert must write the text SQLAlchemy would), for the events without ids in it.
    stored = {id_: (before, after) for id_, before, after in db.session.execute(text(
        "SELECT id, CAST(before AS TEXT), CAST(after AS TEXT) FROM audit_events"))}
    events = []
    for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        events.append({
            "stored": stored[e.id] if e.entity_type == "action" else None,
            "entity": f"{e.entity_type}:{named(e.entity_type, e.entity_id)}", "verb": e.verb, "summary": e.summary,
            "user": named("user", e.user_id), "partnership": e.partnership_id is not None,
            "plan": named("plan", e.plan_id), "before": json_named(e.before), "after": json_named(e.after),
            "at_is_created": e.entity_type == "action" and e.entity_id in created and e.at == created[e.entity_id],
        })
    stored_descriptors = dict(db.session.execute(text(
        "SELECT id, CAST(descriptors AS TEXT) FROM framework_items")).all())
    return {
        "summaries": [json_named(s) for s in summaries],
        "plans": sorted([{"name": p.name, "kind": p.kind.value, "description": p.description,
                          "framework": frameworks[p.framework_id], "manager": named("user", p.manager_id)}
                         for p in db.session.scalars(select(Plan))], key=lambda p: p["name"]),
        "frameworks": sorted([{"code": f.code, "name": f.name, "partnership": f.partnership_id is not None,
                               "themes": [{"number": t.number, "title": t.title, "position": t.position,
                                           "description": t.description,
                                           "items": [(i.number, i.title, i.position, i.local_completion,
                                                      i.descriptors, i.note, stored_descriptors[i.id])
                                                     for i in sorted(t.items, key=lambda i: i.position)]}
                                          for t in sorted(f.themes, key=lambda t: t.position)]}
                              for f in db.session.scalars(
                                  select(Framework).where(Framework.partnership_id.is_not(None)))],
                             key=lambda f: f["code"]),
        "organisations": sorted((o.name, o.kind.value if o.kind else None) for o in db.session.scalars(
            select(Organisation))),
        "aliases": sorted((a.alias, orgs[a.organisation_id]) for a in db.session.scalars(select(OrganisationAlias))),
        "actions": sorted([{
            "name": action_names[a.id], "text": a.text, "status": a.status.value, "lead_text": a.lead_text,
            "lead_officer": named("user", a.lead_officer_id), "timescale_text": a.timescale_text,
            "timescale_kind": a.timescale_kind, "due_start": a.due_start.isoformat() if a.due_start else None,
            "due_end": a.due_end.isoformat() if a.due_end else None, "version": a.version,
            "edited": a.updated_at != a.created_at, "last_update_at": a.last_update_at,
            "superseded_by": named("action", a.superseded_by_id), "items": sorted(links[action_names[a.id]]["items"]),
            "organisations": sorted(links[action_names[a.id]]["organisations"]),
        } for a in actions.values()], key=lambda a: a["name"]),
        "events": events,
    }


def test_an_import_commit_writes_exactly_the_recorded_rows(app, monkeypatch):
    summaries = _run_imports(monkeypatch)
    state = json.loads(json.dumps(_state(summaries), default=str))
    assert summaries[-2]["unchanged"] == 50 and summaries[-1]["unchanged"] == 24
    if os.environ.get("IMPORT_COMMIT_ROWS") == "write":
        RECORD.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    for key in recorded:
        assert state[key] == recorded[key], key
    assert set(state) == set(recorded)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=6, max_size=6),
       st.lists(st.text(max_size=10), max_size=4), st.lists(st.text(max_size=10), max_size=3))
def test_a_new_actions_audit_snapshot_is_the_text_json_dumps_writes(values, numbers, names):
    from tracker.plans.services import _NewActionJSON

    ref, text, lead, timescale, due_end, status = [v or "" if i in (0, 1, 3, 5) else v for i, v in enumerate(values)]
    snapshot = {"ref": ref, "text": text, "lead_officer_id": None, "lead_text": lead, "timescale_text": timescale,
                "due_end": due_end, "status": status, "items": sorted(numbers), "organisations": sorted(names),
                "superseded_by_id": None}
    encode = _NewActionJSON()
    for _ in range(2):  # encoded afresh, then from what it keeps
        assert encode(ref, text, lead, timescale, due_end, status, sorted(numbers), sorted(names)) == \
            json.dumps(snapshot)
