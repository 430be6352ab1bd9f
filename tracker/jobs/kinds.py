"""Every kind of job, registered here by importing it (as blueprints are)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.jobs.services import Progress, Result


@dataclass(frozen=True)
class JobKind:
    name: str
    title: Callable[[dict], str]
    may_start: Callable[[object, dict], bool]
    run: Callable[[object, dict, Progress], Result]


def _backup_run(job, params: dict, progress: Progress) -> Result:
    from tracker.backup import services as backup

    progress.step(0, 1, "Copying the database")
    made = backup.backup(prefix="tracker-web")
    progress.step(1, 1, "Copied")
    return Result(message=f"Backed up schema version {made.version} ({made.size:,} bytes) to {made.path.name}.",
                  path=made.path, name=made.path.name, content_type="application/octet-stream")


BACKUP = JobKind(
    name="backup",
    title=lambda params: "A backup of the whole database",
    may_start=lambda actor, params: bool(getattr(actor, "is_admin", False)),
    run=_backup_run,
)

def _benchmarking_title(params: dict) -> str:
    from tracker.extensions import db
    from tracker.frameworks.models import Framework

    framework = db.session.get(Framework, params.get("framework_id"))
    return f"Compare partnerships: {framework.name if framework else 'a framework'} as a spreadsheet"


def _benchmarking_may_start(actor, params: dict) -> bool:
    from tracker.auth.permissions import visible_partnership_ids
    from tracker.extensions import db
    from tracker.frameworks.models import Framework
    from tracker.selfeval import services

    framework = db.session.get(Framework, params.get("framework_id")) if isinstance(
        params.get("framework_id"), int) else None
    return framework is not None and framework in services.rated_frameworks(visible_partnership_ids(actor))


def _benchmarking_run(job, params: dict, progress: Progress) -> Result:
    from tracker.auth.permissions import visible_partnership_ids
    from tracker.extensions import db
    from tracker.frameworks.models import Framework
    from tracker.jobs.services import result_dir
    from tracker.selfeval import services
    from tracker.selfeval.export import benchmark_workbook
    from tracker.timeutil import today

    framework = db.session.get(Framework, params["framework_id"])
    benchmark = services.benchmark(framework, visible_partnership_ids(job.owner))  # what the owner may see now
    content = benchmark_workbook(benchmark, step=lambda done, total: progress.step(done, total, "Writing rows"))
    slug = "-".join("".join(c if c.isalnum() else " " for c in framework.name.lower()).split())
    name = f"compare-partnerships-{slug}-{today().isoformat()}.xlsx"
    path = result_dir(job.id) / name
    path.write_bytes(content)
    return Result(message=f"{len(benchmark.rounds)} partnership{'s' if len(benchmark.rounds) != 1 else ''} "
                          "side by side.", path=path, name=name,
                  content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


BENCHMARKING = JobKind(
    name="benchmarking",
    title=_benchmarking_title,
    may_start=_benchmarking_may_start,
    run=_benchmarking_run,
)


# Committee papers for a plan too long to build in a request (tracker.papers.services.needs_a_job).

def _paper_plan(actor, params: dict):
    """The plan of a paper job, if `actor` may see it (and so download its draft workbook), else None."""
    from tracker.extensions import db
    from tracker.papers.services import FORMATS
    from tracker.periods import FinancialQuarter
    from tracker.plans.models import Plan
    from tracker.plans.permissions import can_view_plan
    from tracker.text import in_id_range

    plan_id = params.get("plan_id")
    if not isinstance(plan_id, int) or isinstance(plan_id, bool) or not in_id_range(plan_id):
        return None
    if params.get("kind") not in FORMATS:
        return None
    try:
        FinancialQuarter.parse(str(params.get("quarter", "")))
    except ValueError:
        return None
    plan = db.session.get(Plan, plan_id)
    return plan if plan is not None and can_view_plan(actor, plan) else None


def _paper_title(params: dict) -> str:
    from tracker.extensions import db
    from tracker.papers.services import KIND_NAMES
    from tracker.plans.models import Plan

    plan = db.session.get(Plan, params.get("plan_id"))
    return (f"Draft {KIND_NAMES.get(params.get('kind'), 'paper')} for {plan.name if plan else 'a plan'}, "
            f"{params.get('quarter', '')}")[:300]


def _paper_run(job, params: dict, progress: Progress) -> Result:
    from tracker.errors import NotFound
    from tracker.jobs.services import result_dir
    from tracker.papers.services import KIND_NAMES, MIMETYPES, draft_paper
    from tracker.periods import FinancialQuarter

    plan = _paper_plan(job.owner, params)  # what the owner may see now, not when they asked
    if plan is None:
        raise NotFound("The plan is no longer there, or you can no longer see it.")
    kind = params["kind"]
    progress.step(0, 2, "Reading the plan as it stood")
    name, content = draft_paper(plan, FinancialQuarter.parse(params["quarter"]), kind)
    progress.step(1, 2, f"Writing the {KIND_NAMES[kind]}")
    path = result_dir(job.id) / name
    path.write_bytes(content)
    progress.step(2, 2, "Written")
    return Result(message=f"The draft {KIND_NAMES[kind]} for {plan.name}, {params['quarter']} "
                          f"({len(content) / 1024 / 1024:.1f} MB).", path=path, name=name,
                  content_type=MIMETYPES[kind])


PAPER = JobKind(
    name="paper",
    title=_paper_title,
    may_start=lambda actor, params: _paper_plan(actor, params) is not None,
    run=_paper_run,
)


def _issue_meeting(actor, params: dict):
    """(committee, meeting) of an issuing job if `actor` manages the committee, else None."""
    from tracker.committees.models import Committee, Meeting
    from tracker.committees.services import can_manage_committee
    from tracker.extensions import db
    from tracker.text import in_id_range

    ids = (params.get("committee_id"), params.get("meeting_id"))
    if not all(isinstance(i, int) and not isinstance(i, bool) and in_id_range(i) for i in ids):
        return None
    committee, meeting = db.session.get(Committee, ids[0]), db.session.get(Meeting, ids[1])
    if committee is None or meeting is None or meeting.committee_id != committee.id:
        return None
    return (committee, meeting) if can_manage_committee(actor, committee) else None


def _issue_title(params: dict) -> str:
    from tracker.committees.models import Meeting
    from tracker.extensions import db
    from tracker.timeutil import long_date

    meeting = db.session.get(Meeting, params.get("meeting_id"))
    if meeting is None:
        return "Issue the papers for a meeting"
    return f"Issue the papers for {meeting.committee.name} on {long_date(meeting.held_on)}"[:300]


def _issue_run(job, params: dict, progress: Progress) -> Result:
    from tracker.errors import NotFound
    from tracker.papers.services import issue_meeting_papers
    from tracker.workbooks import services as workbooks

    found = _issue_meeting(job.owner, params)
    if found is None:
        raise NotFound("The meeting is no longer there, or you can no longer manage its committee.")
    committee, meeting = found
    created = issue_meeting_papers(committee, meeting, actor_id=job.owner_id, step=progress.step)
    workbooks.notify(created)  # queues the members' e-mails with the issued sets, and commits
    count = len(created)
    message = (f"Issued {count} set{'s' if count != 1 else ''} of papers." if created
               else "The papers for this meeting had already been issued.")
    back = params.get("back") if isinstance(params.get("back"), str) and params["back"].startswith("/") else None
    return Result(message=message, url=back)


ISSUE_PAPERS = JobKind(
    name="issue_papers",
    title=_issue_title,
    may_start=lambda actor, params: _issue_meeting(actor, params) is not None,
    run=_issue_run,
)


# -- imports: a plan over JOBS_IMPORT_THRESHOLD rows is previewed and committed here (tracker.imports) ------

def _import_job(params: dict):
    from tracker import text as texts
    from tracker.extensions import db
    from tracker.imports.models import ImportJob

    found = params.get("import_id")
    return db.session.get(ImportJob, found) if isinstance(found, int) and texts.in_id_range(found) else None


def _import_title(params: dict) -> str:
    job = _import_job(params)
    name = (job.filename or "the file") if job else "a file"
    return f"Import {name}: {'the import' if params.get('step') == 'commit' else 'the preview'}"


def _import_may_start(actor, params: dict) -> bool:
    from tracker.auth.models import Role

    job = _import_job(params)
    return (job is not None and params.get("step") in ("preview", "commit")
            and actor.has_role(job.partnership_id, Role.PLAN_MANAGER))


def _import_run(job, params: dict, progress: Progress) -> Result:
    from tracker.errors import RuleError
    from tracker.imports import services as imports
    from tracker.imports.safety import Limits
    from tracker.imports.views import page_path

    found = _import_job(params)
    if found is None:
        raise RuleError("The upload was deleted before it was read: upload the file again.")
    step = lambda done, total: progress.step(done, total, "Rows checked" if params["step"] == "preview"  # noqa: E731
                                             else "Rows imported")
    try:
        if params["step"] == "preview":
            imports.read_job(found, mapping=params.get("mapping"), plan_name=params.get("plan_name"),
                             use_suggested=params.get("use_suggested", True),
                             limits=Limits(max_bytes=params.get("max_bytes") or Limits().max_bytes), progress=step)
            counts = found.preview.get("counts", {})
            return Result(message=f"Read {found.rows_read:,} rows: {counts.get('create', 0):,} to create, "
                                  f"{counts.get('update', 0):,} to update. Check the preview, then confirm it.",
                          url=page_path("imports.preview", token=found.token))
        summary = imports.commit_job(found, job.owner_id, manager_id=params.get("manager_id"),
                                     skip_organisations=params.get("skip_organisations", ()), progress=step)
    except imports.ImportBlocked as blocked:
        raise RuleError(str(blocked)) from None
    return Result(message=f"Imported into {summary['plan_name']}: {summary['create']:,} actions created, "
                          f"{summary['update']:,} updated, {summary['unchanged']:,} unchanged.",
                  url=page_path("imports.assign_leads" if found.kind == "xlsx" else "imports.preview",
                                token=found.token))


IMPORT = JobKind(
    name="import",
    title=_import_title,
    may_start=_import_may_start,
    run=_import_run,
)

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (BACKUP, BENCHMARKING, PAPER, ISSUE_PAPERS, IMPORT)}
