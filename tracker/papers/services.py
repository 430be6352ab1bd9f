"""The committee's papers, built from one WorkbookData snapshot: the workbook, the PDF paper, the covering report.

Pure apart from reading the settings: the snapshot is gathered by tracker.workbooks.services.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app

from tracker.workbooks.data import WorkbookData

FORMATS = ("xlsx", "pdf", "docx")
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
KIND_NAMES = {"xlsx": "workbook", "pdf": "paper", "docx": "covering report"}


@dataclass(frozen=True)
class Paper:
    kind: str  # one of FORMATS
    filename: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def filename(plan_name: str, quarter: str, kind: str, *, draft: bool = False) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{plan_name} {quarter}").strip("-")[:150]
    suffix = {"xlsx": "", "pdf": "-paper", "docx": "-covering-report"}[kind]
    return ("Draft-" if draft else "") + f"{stem}{suffix}.{kind}"


def build(data: WorkbookData, kind: str = "xlsx") -> bytes:
    """One of the papers as bytes."""
    if kind == "xlsx":
        from tracker.workbooks.builder import build_workbook

        return build_workbook(data)
    if kind == "pdf":
        from tracker.papers.pdf import build_pdf

        return build_pdf(data)
    if kind == "docx":
        from tracker.papers.report import build_report

        config = current_app.config
        return build_report(data, template=config.get("PAPERS_REPORT_TEMPLATE") or None,
                            report_by=config.get("PAPERS_REPORT_BY") or "Chief Officer")
    raise ValueError(f"Choose one of {', '.join(FORMATS)}.")


def build_set(data: WorkbookData) -> list[Paper]:
    """The three papers, from the same snapshot."""
    return [Paper(kind, filename(data.plan_name, data.quarter, kind, draft=data.draft), build(data, kind))
            for kind in FORMATS]


# ---------------------------------------------------------------------------
# Long papers off the request: more actions than JOBS_PAPERS_THRESHOLD (JOBS_PDF_THRESHOLD for a PDF or a
# set) are built by a background job
# (tracker.jobs.kinds PAPER and ISSUE_PAPERS), smaller ones in the request.
# ---------------------------------------------------------------------------


def action_count(plan_ids) -> int:
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.plans.models import Action

    ids = list(plan_ids)
    if not ids:
        return 0
    return db.session.scalar(select(func.count(Action.id)).where(Action.plan_id.in_(ids))) or 0


def job_threshold(kind: str = "set") -> int:
    """How many actions a paper of this kind ("xlsx", "pdf", "docx", or "set": all three) may cover and still
    be built while a web request waits: the PDF's page layout is far slower than a workbook or a report."""
    config = current_app.config
    paper = int(config.get("JOBS_PAPERS_THRESHOLD", 5000))
    if kind in ("pdf", "set"):
        return min(paper, int(config.get("JOBS_PDF_THRESHOLD", 500)))
    return paper


def needs_a_job(plan_ids, kind: str = "set") -> bool:
    """Whether papers of this kind for these plans are too long to build while a web request waits."""
    return action_count(plan_ids) > job_threshold(kind)


def draft_paper(plan, quarter, kind: str) -> tuple[str, bytes]:
    """Today's figures for a quarter as one paper marked DRAFT (not stored, not issued): (file name, bytes)."""
    from tracker.workbooks.services import workbook_data

    if kind not in FORMATS:
        raise ValueError(f"Choose one of {', '.join(FORMATS)}.")
    data = workbook_data(plan, quarter, draft=True)
    return filename(plan.name, quarter.label, kind, draft=True), build(data, kind)


def issue_meeting_papers(committee, meeting, *, actor_id: int | None, step=None) -> list:
    """Issue the set of papers of each of the committee's plans for a meeting now (never twice): the newly
    issued sets. `step(done, total, message)` hears of each plan done (a job's progress)."""
    from tracker.workbooks import services as workbooks

    quarter = workbooks.quarter_for_meeting(meeting)
    plans = list(committee.plans)
    created = []
    for done, plan in enumerate(plans):
        if step:
            step(done, len(plans), f"Building the papers for {plan.name}")
        workbook, is_new = workbooks.issue_workbook(plan, quarter, committee=committee, meeting=meeting,
                                                    actor_id=actor_id)
        if is_new:
            created.append(workbook)
    if step:
        step(len(plans), len(plans), "Issued")
    return created
