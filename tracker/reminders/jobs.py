"""The reminders run: the scheduled job and `flask reminders send` call the same function."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from tracker import timeutil
from tracker.extensions import db
from tracker.periods import is_working_day
from tracker.reminders import sendlog, services
from tracker.reminders.services import Reminder

log = logging.getLogger("tracker.reminders")


@dataclass
class RunReport:
    today: dt.date
    working_day: bool
    due: list[Reminder] = field(default_factory=list)  # not yet in the send log
    already_logged: int = 0
    delivery: sendlog.DeliveryReport | None = None


def run(today: dt.date | None = None, *, dry_run: bool = False) -> RunReport:
    """Decide what is due (phase 1, one transaction), then send what the log holds (phase 2).

    With dry_run, only decide and report: nothing is written and nothing is sent.
    """
    today = today or timeutil.today()
    report = RunReport(today=today, working_day=is_working_day(today))
    if not report.working_day:
        log.info("%s is not a working day: no reminders.", today)
        return report
    candidates = services.due_reminders(today)
    report.due = services.unsent(candidates)
    report.already_logged = len(candidates) - len(report.due)
    if dry_run:
        db.session.rollback()
        return report
    sendlog.record(report.due)
    db.session.commit()
    report.delivery = sendlog.deliver()
    log.info("Reminders for %s: %s new, %s sent, %s failed.", today, len(report.due),
             report.delivery.sent, report.delivery.failed)
    return report


def scheduled_run() -> None:
    """The scheduler's daily job (see tracker.scheduler.jobs.JOBS)."""
    run()
