"""Applying parsed files: the Glasgow return and the Dundee delivery plan, twice each."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.demo.services import normalise_text
from tracker.extensions import db
from tracker.imports import services
from tracker.partnerships.models import Organisation, OrganisationAlias, OrganisationKind
from tracker.plans.models import Action, Plan
from tracker.rag import Status
from tracker.selfeval.models import SelfEvaluationRound

FIXTURES = Path(__file__).parent.parent / "fixtures"
DATA = Path(__file__).parents[2] / "tracker" / "demo" / "data"
GLASGOW = FIXTURES / "glasgow-msg-self-evaluation-2019.docx"
DUNDEE = FIXTURES / "dundee-carers-delivery-plan-2022.xlsx"


def _import(path, partnership, plan_name):
    parsed = services.read(path)
    summary = services.apply(parsed, partnership, plan_name, actor_id=None)
    db.session.commit()
    return summary


def test_glasgow_return_imports_to_the_seed_ratings_and_actions(app):
    factories.msg()
    partnership = factories.partnership("Glasgow City")
    summary = _import(GLASGOW, partnership, "MSG improvement action plan 2019")
    seed = json.loads((DATA / "glasgow_2019.json").read_text())
    round_ = db.session.scalar(select(SelfEvaluationRound))
    assert round_.title == "MSG self-evaluation 2019"
    assert str(round_.completed_on) == seed["completed_on"]
    assert len(round_.ratings) == 25
    ratings = {r.item.number: r.level_label for r in round_.ratings}
    assert ratings == {p["number"]: p["rating"] for p in seed["proposals"]}
    evidence = {r.item.number: r.evidence for r in round_.ratings}
    assert evidence == {p["number"]: "\n".join(p["evidence"]) for p in seed["proposals"]}

    expected: dict[str, set[str]] = {}
    for proposal in seed["proposals"]:
        for text in proposal["actions"]:
            expected.setdefault(normalise_text(text), set()).add(proposal["number"])
    actions = db.session.scalars(select(Action)).all()
    assert {normalise_text(a.text): {i.number for i in a.items} for a in actions} == expected
    assert any(len(numbers) > 1 for numbers in expected.values())  # the same action under 2.3 and 3.5
    assert summary["create"] == len(expected)
    proposed = [p for r in round_.ratings for p in r.proposed]
    assert len(proposed) == sum(len(p["actions"]) for p in seed["proposals"])
    assert all(p.action is not None and normalise_text(p.action.text) == normalise_text(p.text) for p in proposed)

    again = _import(GLASGOW, partnership, "MSG improvement action plan 2019")
    assert again["create"] == again["update"] == 0
    assert again["ratings"] == {"create": 0, "update": 0, "unchanged": 25}
    assert db.session.scalar(select(func.count(Action.id))) == len(expected)


def _dundee_organisations(partnership):
    seed = json.loads((DATA / "dundee_carers_2022.json").read_text())
    orgs = {}
    for org in seed["organisations"]:
        orgs[org["name"]] = factories.organisation(partnership, org["name"], OrganisationKind(org["kind"]))
    for alias, name in seed["organisation_aliases"].items():
        db.session.add(OrganisationAlias(partnership_id=partnership.id, alias=alias, organisation_id=orgs[name].id))
    db.session.flush()
    return seed


def test_dundee_plan_imports_to_4_outcomes_and_50_actions_with_leads_and_timescales(app):
    factories.msg()
    partnership = factories.partnership("Dundee")
    seed = _dundee_organisations(partnership)
    summary = _import(DUNDEE, partnership, "Carers delivery plan")
    assert summary["create"] == 50
    plan = db.session.scalar(select(Plan))
    assert plan.kind.value == "delivery_plan"
    assert [t.title for t in plan.framework.themes] == [o["title"] for o in seed["outcomes"]]
    actions = {a.ref: a for a in plan.actions}
    assert len(actions) == 50
    for outcome in seed["outcomes"]:
        for area in outcome["priority_areas"]:
            for row in area["actions"]:
                action = actions[row["ref"]]
                assert action.text == row["text"]
                assert action.timescale_text == row["timescale"]
                assert action.lead_text == row["lead"]
                assert [i.number for i in action.items] == [area["number"]]
                if not row["lead_organisations_inferred"]:
                    assert sorted(o.name for o in action.organisations) == sorted(row["lead_organisations"]), row
    assert actions["1.1.3"].due_end.isoformat() == "2022-11-30"
    assert actions["1.1.1"].status == Status.ON_TRACK  # "In development" in the timescale column
    assert actions["1.7.3"].status == Status.ONGOING
    again = _import(DUNDEE, partnership, "Carers delivery plan")
    assert (again["create"], again["update"], again["unchanged"]) == (0, 0, 50)
    assert db.session.scalar(select(func.count(Action.id))) == 50
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.verb == "import")) > 50


def test_leads_split_into_organisations_without_breaking_names(app):
    factories.msg()
    partnership = factories.partnership("Dundee")
    factories.organisation(partnership, "Health & Wellbeing/Carers Service")
    summary = _import(DUNDEE, partnership, "Plan")
    names = set(db.session.scalars(select(Organisation.name)))
    assert {"Penumbra", "Carseview", "Lead Scotland", "The Corner & Partner Agencies"} <= names
    assert "all partners" not in {n.lower() for n in names}
    aliases = dict(db.session.execute(select(OrganisationAlias.alias, Organisation.name).join(Organisation)).all())
    assert aliases["Dundee Carers Centre Localities Team"] == "Dundee Carers Centre"
    assert summary["organisations_created"]
    from tracker.imports import leads
    known = services.known_organisations(partnership)
    assert [r[1] for r in leads.split("Health & Wellbeing/Carers Service/ Penumbra", known)] == [
        "Health & Wellbeing/Carers Service", "Penumbra"]


def test_errors_block_the_commit_and_nothing_is_written(app):
    factories.msg()
    partnership = factories.partnership("Dundee")
    parsed = services.read(DUNDEE, mapping={"timescale": "E", "lead": "F"})  # no action column
    with pytest.raises(services.ImportBlocked):
        services.apply(parsed, partnership, "Plan", actor_id=None)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Plan.id))) == 0


def test_commit_is_all_or_nothing(app, runner, monkeypatch):
    factories.msg()
    factories.partnership("Dundee")
    db.session.commit()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert_actions", fail)
    result = runner.invoke(args=["import", str(DUNDEE), "--partnership", "Dundee"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count(Plan.id))) == 0
    assert db.session.scalar(select(func.count(Organisation.id))) == 0


def test_a_changed_file_updates_the_changed_actions_only(app):
    from tests.imports.builders import plan_xlsx

    factories.msg()
    partnership = factories.partnership("Anytown")
    rows = [["1", "Do one thing", "Council", "March 2024"], ["2", "Do another", "Council", "June 2024"]]
    headers = ["Ref", "Action", "Lead", "Timescale"]
    services.apply(services.read(plan_xlsx(headers, rows)), partnership, "Plan", actor_id=None)
    rows[1][3] = "September 2024"
    summary = services.apply(services.read(plan_xlsx(headers, rows)), partnership, "Plan", actor_id=None)
    assert (summary["create"], summary["update"], summary["unchanged"]) == (0, 1, 1)
    action = db.session.scalar(select(Action).where(Action.ref == "2"))
    assert action.due_end.isoformat() == "2024-09-30"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity_id == action.id,
                                                                    AuditEvent.verb == "update")) == 1


def test_a_changed_file_updates_an_action_whose_timescale_has_no_date(app):
    """A re-import keeps a timescale as the file writes it ("TBC"), as the first import did."""
    from tests.imports.builders import plan_xlsx

    factories.msg()
    partnership = factories.partnership("Anytown")
    headers = ["Ref", "Action", "Lead", "Timescale"]
    rows = [["1", "Do one thing", "Council", "TBC"]]
    services.apply(services.read(plan_xlsx(headers, rows)), partnership, "Plan", actor_id=None)
    db.session.commit()
    rows[0][1] = "Do one thing well"
    summary = services.apply(services.read(plan_xlsx(headers, rows)), partnership, "Plan", actor_id=None)
    db.session.commit()
    assert (summary["create"], summary["update"], summary["unchanged"]) == (0, 1, 0)
    action = db.session.scalar(select(Action).where(Action.ref == "1"))
    assert (action.text, action.timescale_text, action.due_end) == ("Do one thing well", "TBC", None)


def test_a_status_read_from_the_timescale_only_starts_an_action_off(app):
    from tracker.plans import services as plans

    factories.msg()
    partnership = factories.partnership("Dundee")
    _import(DUNDEE, partnership, "Carers plan")
    action = db.session.scalar(select(Action).where(Action.ref == "1.1.1"))
    assert action.status == Status.ON_TRACK  # "In development"
    plans.record_progress(action, author_id=None, status=Status.COMPLETE, narrative="Done.")
    db.session.commit()
    again = _import(DUNDEE, partnership, "Carers plan")
    assert again["update"] == 0
    assert db.session.get(Action, action.id).status == Status.COMPLETE


def test_a_file_without_outcomes_keeps_the_plans_own_outcome_links(app):
    from tests.imports.builders import plan_xlsx

    factories.msg()
    partnership = factories.partnership("Anytown")
    data = plan_xlsx(["Outcome", "Ref", "Action", "Lead", "MSG proposal"],
                     [["Outcome 1: Carers are heard", "1", "Listen", "Council", "6.3"],
                      ["Outcome 2: Carers have a life", "2", "Breaks", "Council", "6.3"]])
    services.apply(services.read(data), partnership, "Plan", actor_id=None)
    without_outcomes = services.read(data, mapping={"ref": "B", "action": "C", "lead": "D", "msg": "E"})
    summary = services.apply(without_outcomes, partnership, "Plan", actor_id=None)
    assert (summary["create"], summary["update"], summary["unchanged"]) == (0, 0, 2)
    action = db.session.scalar(select(Action).where(Action.ref == "1"))
    assert sorted(f"{i.theme.framework.code[:6]} {i.number}" for i in action.items) == ["import 1", "msg-20 6.3"]
    changed = plan_xlsx(["Ref", "Action", "Lead", "MSG proposal"], [["1", "Listen", "NHS Anytown", "6.3"],
                                                                     ["2", "Breaks", "Council", "6.3"]])
    summary = services.apply(services.read(changed), partnership, "Plan", actor_id=None)
    assert (summary["update"], summary["unchanged"]) == (1, 1)
    db.session.refresh(action)
    assert len(action.items) == 2 and [o.name for o in action.organisations] == ["NHS Anytown"]


def test_a_plan_over_several_batches_is_written_whole_with_its_audit(app, monkeypatch):
    """New actions go in batches (CREATE_CHUNK) through the bulk insert: every row, link and audit event once,
    with the values read back as the ORM writes them (status, due dates, timestamps, the audit snapshot)."""
    from tests.imports.builders import plan_xlsx

    monkeypatch.setattr(services, "CREATE_CHUNK", 3)
    factories.msg()
    partnership = factories.partnership("Anytown")
    rows = [[str(n), f"Action {n}", "Council" if n % 2 else "NHS Board", "March 2024" if n % 3 else "Ongoing",
             "1.1" if n % 2 else "2.3", "Complete" if n == 4 else ""] for n in range(1, 11)]
    headers = ["Ref", "Action", "Lead", "Timescale", "MSG proposals", "Status"]
    summary = services.apply(services.read(plan_xlsx(headers, rows)), partnership, "Plan", actor_id=None)
    db.session.commit()
    assert summary["create"] == 10
    actions = {a.ref: a for a in db.session.scalars(select(Action))}
    assert sorted(actions, key=int) == [str(n) for n in range(1, 11)]
    assert actions["1"].due_end.isoformat() == "2024-03-31" and actions["3"].due_end is None
    assert actions["4"].status == Status.COMPLETE and actions["1"].status == Status.NOT_STARTED
    assert [i.number for i in actions["1"].items] == ["1.1"] and [i.number for i in actions["2"].items] == ["2.3"]
    assert [o.name for o in actions["2"].organisations] == ["NHS Board"]
    assert actions["1"].created_at.tzinfo is not None and actions["1"].version == 1
    events = {e.entity_id: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "action"))}
    assert set(events) == {a.id for a in actions.values()}
    assert events[actions["1"].id].after["items"] == ["1.1"]
    assert events[actions["4"].id].after["status"] == Status.COMPLETE.value
    again = services.changes(services.read(plan_xlsx(headers, rows)), partnership, "Plan")
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 10}


def test_the_stored_preview_keeps_its_rows_once_and_still_commits(app):
    """The preview's rows are the parsed rows: the kept preview holds them once, and a preview kept before
    (with the rows twice) commits as well."""
    from tests.imports.builders import plan_xlsx

    factories.msg()
    partnership = factories.partnership("Anytown")
    content = plan_xlsx(["Ref", "Action", "Lead", "Timescale"],
                        [["1", "Do one thing", "Council", "March 2024"], ["2", "Do another", "Council", "June 2024"]])
    checked = services.check(content)
    job = services.create_job(checked, services.read(checked), partnership, "Plan", None)
    db.session.commit()
    assert "rows" not in job.preview["parsed"] and [r["ref"] for r in job.preview["rows"]] == ["1", "2"]
    legacy = services.create_job(checked, services.read(checked), partnership, "Plan", None)
    legacy.preview = {**legacy.preview, "parsed": {**legacy.preview["parsed"], "rows": legacy.preview["rows"]}}
    db.session.commit()
    assert services.commit_job(job, None)["create"] == 2
    db.session.commit()
    assert services.commit_job(legacy, None)["unchanged"] == 2
