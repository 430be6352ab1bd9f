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

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (BACKUP, BENCHMARKING)}
