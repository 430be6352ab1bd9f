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

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (BACKUP,)}
