"""Decisions about audit reports and recommendations. Services flush, never commit; the caller commits once."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from tracker import text as texts
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tracker.committees.models import Committee
from tracker.errors import Conflict, NotAllowed, NotFound, RuleError
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, ProgressUpdate
from tracker.rag import Status
from tracker.scrutiny import permissions, rules
from tracker.scrutiny.models import Assurance, AuditorKind, AuditReport, Grade, GradeScheme, Recommendation
from tracker.timescales import interpret
from tracker.timeutil import today, utcnow

TITLE_MAX = 300
TEXT_MAX = 20_000


def _actor_id(actor, actor_id, allowed: bool, refusal: str) -> int | None:
    if actor is None:
        return actor_id
    if not allowed:
        raise NotAllowed(refusal)
    return actor.id


# Grade schemes ----------------------------------------------------------------------------------------------


def schemes(partnership_id: int, *, create_defaults: bool = True) -> list[GradeScheme]:
    """The partnership's grade schemes; the default ones are added (flushed) the first time they are asked for."""
    found = list(db.session.scalars(select(GradeScheme).where(GradeScheme.partnership_id == partnership_id)
                                    .order_by(GradeScheme.id)))
    if not found and create_defaults:
        found = [save_scheme(partnership_id, name, grades) for name, grades in rules.DEFAULT_SCHEMES.items()]
    return found


def save_scheme(partnership_id: int, name: str, grades, *, actor=None, actor_id: int | None = None) -> GradeScheme:
    """A new grade scheme: its name and grades, most serious first."""
    actor_id = _actor_id(actor, actor_id, actor is not None and permissions.can_manage(actor, partnership_id),
                         "Only the partnership's plan managers can add grade schemes.")
    name = texts.line(name, field="name", label="The scheme's name", max_length=100, required=True)
    labels = rules.parse_grades(grades)
    if db.session.scalar(select(GradeScheme.id).where(GradeScheme.partnership_id == partnership_id,
                                                      GradeScheme.name == name)):
        raise Conflict("The partnership already has a grade scheme with this name.", "name")
    scheme = GradeScheme(partnership_id=partnership_id, name=name,
                         grades=[Grade(position=i + 1, label=label) for i, label in enumerate(labels)])
    db.session.add(scheme)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="audit_grade_scheme", entity_id=scheme.id, verb="create",
                 partnership_id=partnership_id, after={"name": name, "grades": list(labels)},
                 summary=f"Added grade scheme {name}")
    return scheme


def grade_for(scheme: GradeScheme, value) -> Grade | None:
    """The scheme's grade named by `value` (a Grade, its id, or text such as "P1" or "High"); None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, Grade):
        grade = value if value.scheme_id == scheme.id else None
    elif isinstance(value, int):
        grade = next((g for g in scheme.grades if g.id == value), None)
    else:
        index = rules.match_grade([g.label for g in scheme.grades], value)
        grade = scheme.grades[index] if index is not None else None
    if grade is None:
        raise RuleError(f"“{value}” is not a grade of the {scheme.name} scheme. Use one of: "
                        f"{', '.join(g.label for g in scheme.grades)}.", "grade")
    return grade


# Reports ----------------------------------------------------------------------------------------------------


def create_report(*, partnership_id: int, plan_id: int, title: str, issued_on: dt.date, scheme_id: int,
                  auditor_kind: AuditorKind | str = AuditorKind.INTERNAL, auditor_name: str | None = None,
                  assurance: Assurance | str | None = None, committee_id: int | None = None,
                  actor=None, actor_id: int | None = None) -> AuditReport:
    actor_id = _actor_id(actor, actor_id, actor is not None and permissions.can_manage(actor, partnership_id),
                         "Only the partnership's plan managers can record audit reports.")
    title = texts.line(title, field="title", label="The report's title", max_length=TITLE_MAX, required=True)
    if db.session.scalar(select(AuditReport.id).where(AuditReport.partnership_id == partnership_id,
                                                      AuditReport.title == title)):
        raise Conflict("The partnership already has an audit report with this title.", "title")
    plan = db.session.get(Plan, plan_id) if isinstance(plan_id, int) and texts.in_id_range(plan_id) else None
    if plan is None or plan.partnership_id != partnership_id:
        raise RuleError("Choose the partnership's plan that tracks the actions.", "plan_id")
    scheme = db.session.get(GradeScheme, scheme_id) if isinstance(scheme_id, int) and texts.in_id_range(scheme_id) \
        else None
    if scheme is None or scheme.partnership_id != partnership_id:
        raise RuleError("Choose the auditor's grade scheme.", "scheme_id")
    committee = None
    if committee_id is not None:
        committee = db.session.get(Committee, committee_id) if texts.in_id_range(committee_id) else None
        if committee is None or committee.partnership_id != partnership_id:
            raise RuleError("Choose one of the partnership's committees.", "committee_id")
    try:
        auditor_kind = AuditorKind(auditor_kind)
    except ValueError:
        raise RuleError("Choose who the auditor is.", "auditor_kind") from None
    try:
        assurance = Assurance(assurance) if assurance else None
    except ValueError:
        raise RuleError("Choose the assurance opinion.", "assurance") from None
    issued_on = texts.date_in_range(issued_on, field="issued_on", label="The report's date")
    if issued_on is None:
        raise RuleError("Enter the report's date.", "issued_on")
    report = AuditReport(partnership_id=partnership_id, plan_id=plan.id, title=title, issued_on=issued_on,
                         scheme_id=scheme.id, auditor_kind=auditor_kind, assurance=assurance,
                         committee_id=committee.id if committee else None,
                         auditor_name=texts.line(auditor_name, field="auditor_name", label="The auditor's name",
                                                 max_length=200))
    db.session.add(report)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="audit_report", entity_id=report.id, verb="create",
                 partnership_id=partnership_id, plan_id=plan.id,
                 after={"title": title, "auditor_kind": auditor_kind, "issued_on": issued_on,
                        "assurance": assurance, "committee_id": report.committee_id},
                 summary=f"Recorded audit report {title}")
    return report


# Recommendations --------------------------------------------------------------------------------------------


def _action_ref(plan: Plan, ref: str, report: AuditReport) -> str:
    taken = set(db.session.scalars(select(Action.ref).where(Action.plan_id == plan.id)))
    for candidate in (ref, f"{ref} ({report.id})"):
        if candidate[:40] not in taken:
            return candidate[:40]
    return plans.next_ref(plan)


def add_recommendation(report: AuditReport, *, ref: str, text: str, finding: str | None = None, grade=None,
                       response: str | None = None, agreed_date: dt.date | str | None = None,
                       lead_officer_id: int | None = None, lead_text: str | None = None,
                       action_text: str | None = None, status: Status = Status.NOT_STARTED,
                       actor=None, actor_id: int | None = None, at: dt.datetime | None = None) -> Recommendation:
    """A recommendation and the tracked action that implements it (in the report's plan, due on the agreed date)."""
    actor_id = _actor_id(actor, actor_id,
                         actor is not None and permissions.can_manage(actor, report.partnership_id),
                         "Only the partnership's plan managers can record recommendations.")
    ref = texts.line(ref, field="ref", label="The reference", max_length=40, required=True)
    if db.session.scalar(select(Recommendation.id).where(Recommendation.report_id == report.id,
                                                         Recommendation.ref == ref)):
        raise Conflict(f"{ref} is already a recommendation of this report.", "ref")
    body = texts.paragraphs(text, field="text", label="The recommendation", max_length=TEXT_MAX, required=True)
    values = dict(
        ref=ref, text=body, grade=grade_for(report.scheme, grade),
        finding=texts.paragraphs(finding, field="finding", label="The finding", max_length=TEXT_MAX) or "",
        response=texts.paragraphs(response, field="response", label="The management response",
                                  max_length=TEXT_MAX))
    if isinstance(agreed_date, str):
        agreed_date = plans.readable_timescale(agreed_date, field="agreed_date", label="The agreed date")
    values["agreed_date"] = agreed_date if isinstance(agreed_date, dt.date) else \
        (interpret(agreed_date).end if agreed_date else None)
    action = plans.create_action(plan=report.plan, ref=_action_ref(report.plan, ref, report),
                                 text=action_text or values["response"] or body, timescale=agreed_date,
                                 lead_officer_id=lead_officer_id, lead_text=lead_text, status=status,
                                 actor_id=actor_id, at=at, as_written=True)
    rec = Recommendation(report=report, actions=[action], **values)
    if at is not None:
        rec.created_at = at
    db.session.add(rec)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="audit_recommendation", entity_id=rec.id, verb="create",
                 partnership_id=report.partnership_id, plan_id=report.plan_id, at=at,
                 after={"ref": ref, "grade": rec.grade.label if rec.grade else None, "agreed_date": rec.agreed_date,
                        "action_id": action.id}, summary=f"Recorded recommendation {ref} of {report.title}")
    return rec


def link_action(rec: Recommendation, action: Action, *, actor=None, actor_id: int | None = None) -> None:
    """Another tracked action of the partnership that implements the recommendation too."""
    actor_id = _actor_id(actor, actor_id,
                         actor is not None and permissions.can_manage(actor, rec.report.partnership_id),
                         "Only the partnership's plan managers can link actions.")
    if action.plan.partnership_id != rec.report.partnership_id:
        raise RuleError("Choose an action of the partnership's own plans.", "action_id")
    if action not in rec.actions:
        rec.actions.append(action)
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="audit_recommendation", entity_id=rec.id, verb="link",
                     partnership_id=rec.report.partnership_id, plan_id=action.plan_id,
                     after={"action_id": action.id}, summary=f"Linked action {action.ref} to {rec.ref}")


# Status, revisions ------------------------------------------------------------------------------------------


def is_verified(rec: Recommendation) -> bool:
    return rec.verified_at is not None


def status_of(rec: Recommendation) -> rules.RecStatus:
    return rules.status([a.status for a in rec.actions], is_verified(rec))


def current_date(rec: Recommendation) -> dt.date | None:
    """The date the recommendation is now due: the latest due date of its actions."""
    dates = [a.due_end for a in rec.actions if a.due_end is not None]
    return max(dates) if dates else None


def revision_counts(recs: list[Recommendation], as_at: dt.date | None = None) -> dict[int, int]:
    """How many times each recommendation's date was revised, from its actions' append-only history: progress
    updates with a revised timescale, and edits that moved a due date (audit events), up to the end of `as_at`."""
    action_ids = {a.id: r.id for r in recs for a in r.actions}
    counts = {r.id: 0 for r in recs}
    if not action_ids:
        return counts
    until = None
    if as_at is not None:
        until = dt.datetime.combine(as_at + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    updates = select(ProgressUpdate.action_id).where(ProgressUpdate.action_id.in_(action_ids),
                                                      ProgressUpdate.revised_timescale_text.is_not(None))
    edits = select(AuditEvent.entity_id, AuditEvent.after).where(
        AuditEvent.entity_type == "action", AuditEvent.verb == "update", AuditEvent.entity_id.in_(action_ids))
    if until is not None:
        updates = updates.where(ProgressUpdate.created_at < until)
        edits = edits.where(AuditEvent.at < until)
    for action_id in db.session.scalars(updates):
        counts[action_ids[action_id]] += 1
    for action_id, after in db.session.execute(edits):
        if after and "due_end" in after:
            counts[action_ids[action_id]] += 1
    return counts


@dataclass
class Row:
    """A recommendation as the committee sees it."""

    rec: Recommendation
    status: rules.RecStatus
    agreed: dt.date | None
    current: dt.date | None
    revisions: int
    overdue: bool
    evidence: int

    @property
    def grade(self) -> str:
        return self.rec.grade.label if self.rec.grade else "Not graded"

    @property
    def grade_position(self) -> int:
        return self.rec.grade.position if self.rec.grade else 99

    @property
    def leads(self) -> str:
        names = [a.lead_officer.name if a.lead_officer else (a.lead_text or "") for a in self.rec.actions]
        return ", ".join(n for n in dict.fromkeys(names) if n) or "No lead officer yet"


def rows(recs: list[Recommendation], as_at: dt.date) -> list[Row]:
    from tracker.evidence import services as evidence
    from tracker.evidence.models import Target

    counts = revision_counts(recs, as_at)
    on_recs = evidence.count_for(Target.RECOMMENDATION, [r.id for r in recs])
    on_actions = evidence.count_for(Target.ACTION, [a.id for r in recs for a in r.actions])
    update_ids = {u.id: r.id for r in recs for a in r.actions for u in a.updates}
    on_updates = evidence.count_for(Target.UPDATE, list(update_ids))
    found = []
    for rec in recs:
        state = status_of(rec)
        current = current_date(rec)
        count = on_recs.get(rec.id, 0) + sum(on_actions.get(a.id, 0) for a in rec.actions) + \
            sum(n for uid, n in on_updates.items() if update_ids[uid] == rec.id)
        found.append(Row(rec, state, rec.agreed_date, current, counts[rec.id],
                         rules.is_overdue(state, current, as_at), count))
    return found


def partnership_recommendations(partnership_id: int, committee_id: int | None = None) -> list[Recommendation]:
    query = (select(Recommendation).join(AuditReport).where(AuditReport.partnership_id == partnership_id)
             .order_by(AuditReport.issued_on, AuditReport.id, Recommendation.id))
    if committee_id is not None:
        query = query.where(AuditReport.committee_id == committee_id)
    return list(db.session.scalars(query))


# Two-step closure -------------------------------------------------------------------------------------------

REASON_MAX = 2_000


def complete_with_evidence(rec: Recommendation, action: Action, *, narrative: str, actor, title: str | None = None,
                           url: str | None = None, filename: str | None = None, data: bytes | None = None):
    """Step one: the lead marks an implementing action complete, with evidence attached to that progress update.
    The evidence is checked before anything is written."""
    from tracker.evidence import checks
    from tracker.evidence import services as evidence

    if action not in rec.actions:
        raise NotFound("That action does not implement this recommendation.", "action_id")
    if not permissions.plans_can_update(actor, action):
        raise NotAllowed("Only the action's lead officer and the plan's managers can mark it complete.")
    if not action.is_open:
        raise RuleError("That action is already closed.", "action_id")
    if data is not None or filename:
        checks.check_upload(filename, data or b"", evidence.max_bytes())
    elif url:
        checks.check_link(url)
    else:
        raise RuleError("Attach evidence that the action is done: a file or a link.", "file")
    update = plans.record_progress(action, status=Status.COMPLETE, narrative=narrative, actor=actor)
    evidence.add_evidence("update", update.id, title=title, url=url, filename=filename, data=data, actor=actor)
    return update


def verify(rec: Recommendation, *, actor=None, actor_id: int | None = None, note: str | None = None,
           at: dt.datetime | None = None) -> Recommendation:
    """Step two: an auditor confirms the recommendation is implemented."""
    actor_id = _actor_id(actor, actor_id,
                         actor is not None and permissions.is_auditor(actor, rec.report.partnership_id),
                         "Only the partnership's auditors can verify recommendations.")
    if status_of(rec) is not rules.RecStatus.AWAITING:
        raise RuleError("Only a recommendation closed by management and awaiting verification can be verified.",
                        "status")
    rec.verified_at = at or utcnow()
    rec.verified_by_id = actor_id
    rec.verification_note = texts.paragraphs(note, field="note", label="The note", max_length=REASON_MAX)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="audit_recommendation", entity_id=rec.id, verb="verify",
                 partnership_id=rec.report.partnership_id, plan_id=rec.report.plan_id, at=at,
                 after={"verified_at": rec.verified_at, "note": rec.verification_note},
                 summary=f"Verified recommendation {rec.ref} of {rec.report.title}")
    return rec


def reopen(rec: Recommendation, *, reason: str, actor=None, actor_id: int | None = None,
           at: dt.datetime | None = None) -> Recommendation:
    """An auditor re-opens a closed (or verified) recommendation with a reason: its completed actions are
    re-opened with a progress update giving the reason, so the lead officer is reminded again."""
    actor_id = _actor_id(actor, actor_id,
                         actor is not None and permissions.is_auditor(actor, rec.report.partnership_id),
                         "Only the partnership's auditors can re-open recommendations.")
    reason = texts.paragraphs(reason, field="reason", label="The reason", max_length=REASON_MAX, required=True)
    before = status_of(rec)
    if before is rules.RecStatus.OPEN:
        raise RuleError("The recommendation is already open.", "status")
    for action in rec.actions:
        if action.status is Status.COMPLETE:
            overdue = action.due_end is not None and action.due_end < ((at.date() if at else None) or today())
            plans.record_progress(action, author_id=actor_id, status=Status.AT_RISK if overdue else Status.ON_TRACK,
                                  at=at, narrative=f"Re-opened by audit: {reason}")
    rec.verified_at = rec.verified_by_id = rec.verification_note = None
    rec.reopened_at, rec.reopen_reason = at or utcnow(), reason
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="audit_recommendation", entity_id=rec.id, verb="reopen",
                 partnership_id=rec.report.partnership_id, plan_id=rec.report.plan_id, at=at,
                 before={"status": before.value}, after={"status": "open", "reason": reason},
                 summary=f"Re-opened recommendation {rec.ref} of {rec.report.title}")
    return rec
