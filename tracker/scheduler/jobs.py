"""The scheduled jobs. To add one, append a line: Job(id, "module:function", cron fields).

The function takes no arguments and runs inside an app context; it must work out what is due
from the database (so a missed or repeated run does no harm) and commit its own work.
Cron fields are APScheduler CronTrigger fields, in Europe/London time.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    id: str
    target: str  # "module:function"
    cron: dict  # e.g. {"day_of_week": "mon-fri", "hour": 7, "minute": 0}

    def resolve(self) -> Callable[[], object]:
        module_path, attribute = self.target.split(":")
        return getattr(importlib.import_module(module_path), attribute)


JOBS = [
    Job("reminders", "tracker.reminders.jobs:scheduled_run", {"day_of_week": "mon-fri", "hour": 7, "minute": 0}),
    Job("workbooks", "tracker.workbooks.services:issue_due_workbooks", {"day_of_week": "mon-fri", "hour": 6, "minute": 30}),
    Job("backup", "tracker.backup.services:scheduled_backup", {"hour": 2, "minute": 15}),  # SQLite only, nightly
    Job("risk-reviews", "tracker.risks.jobs:scheduled_run", {"day_of_week": "mon-fri", "hour": 7, "minute": 10}),
    Job("outbox", "tracker.outbox.services:scheduled_send", {"minute": "*"}),  # queued e-mail, every minute
]
