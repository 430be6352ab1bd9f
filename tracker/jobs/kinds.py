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

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (BACKUP, BENCHMARKING)}
KINDS[IMPORT.name] = IMPORT
