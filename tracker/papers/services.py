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
