from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from tracker.auth.models import Role
from tracker.plans.permissions import plan_or_404
from tracker.committees.services import can_view_committee
from tracker.extensions import db
from tracker.papers import services as papers
from tracker.papers.services import KIND_NAMES, MIMETYPES
from tracker.periods import FinancialQuarter
from tracker.timeutil import today
from tracker.workbooks import returns, services
from tracker.workbooks.builder import build_workbook
from tracker.workbooks.models import IssuedWorkbook, ReturnUpload

bp = Blueprint("workbooks", __name__)


def _xlsx(content: bytes, filename: str):
    response = send_file(io.BytesIO(content), mimetype=services.XLSX_MIMETYPE, as_attachment=True,
                         download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _issued_or_404(workbook_id: int) -> IssuedWorkbook:
    """An issued set the current user may open: the partnership's users and the committee's members."""
    workbook = db.session.get(IssuedWorkbook, workbook_id)
    allowed = workbook is not None and (
        current_user.role_in(workbook.plan.partnership_id) is not None
        or (workbook.committee is not None and can_view_committee(current_user, workbook.committee)))
    if not allowed:
        abort(404)
    return workbook


@bp.route("/workbooks/<int:workbook_id>/papers")
@login_required
def paper_set(workbook_id: int):
    """One issued set: the workbook, the PDF paper and the covering report, with their checksums."""
    workbook = _issued_or_404(workbook_id)
    return render_template("workbooks/paper_set.html", workbook=workbook, papers=workbook.papers)


@bp.route("/workbooks/<int:workbook_id>/papers/<any(pdf, docx):kind>")
@login_required
def paper_download(workbook_id: int, kind: str):
    """A paper of an issued set, exactly as issued."""
    workbook = _issued_or_404(workbook_id)
    paper = next((p for p in workbook.papers if p.kind == kind), None)
    if paper is None:
        abort(404)
    response = send_file(io.BytesIO(paper.content), mimetype=MIMETYPES[paper.kind], as_attachment=True,
                         download_name=paper.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Checksum-SHA256"] = paper.sha256
    return response


@bp.route("/workbooks/<int:workbook_id>/download")
@login_required
def download(workbook_id: int):
    """An issued workbook, exactly as issued: for committee members and the partnership's users."""
    workbook = _issued_or_404(workbook_id)
    response = _xlsx(workbook.content, workbook.filename)
    response.headers["X-Checksum-SHA256"] = workbook.sha256
    return response


def draft_quarter() -> FinancialQuarter:
    """The quarter a draft shows unless one is asked for: the last whole quarter."""
    return FinancialQuarter.containing(today()).previous()


def _asked_quarter(value: str | None) -> FinancialQuarter:
    try:
        return FinancialQuarter.parse(value or "")
    except ValueError:
        return draft_quarter()


def _in_the_background(plan, quarter: FinancialQuarter, kind: str):
    """A long plan's draft is built by a background job: a page with the button that starts it."""
    return render_template("workbooks/build_in_background.html", plan=plan, quarter=quarter, kind=kind,
                           kind_name=KIND_NAMES[kind], threshold=papers.job_threshold(kind),
                           count=papers.action_count([plan.id]))


@bp.route("/plans/<int:plan_id>/workbook")
@login_required
def draft(plan_id: int):
    """Today's figures for a quarter as a workbook (a draft: not stored, not issued)."""
    plan = plan_or_404(plan_id)
    quarter = _asked_quarter(request.args.get("quarter"))
    if papers.needs_a_job([plan.id], "xlsx"):
        return _in_the_background(plan, quarter, "xlsx")
    content = build_workbook(services.workbook_data(plan, quarter, draft=True))
    return _xlsx(content, "Draft-" + services.workbook_filename(plan.name, quarter.label))


@bp.route("/plans/<int:plan_id>/papers/<any(pdf, docx):kind>")
@login_required
def draft_paper(plan_id: int, kind: str):
    """Today's figures for a quarter as the PDF paper or the covering report, marked DRAFT (not stored)."""
    plan = plan_or_404(plan_id)
    quarter = _asked_quarter(request.args.get("quarter"))
    if papers.needs_a_job([plan.id], kind):
        return _in_the_background(plan, quarter, kind)
    name, content = papers.draft_paper(plan, quarter, kind)
    response = send_file(io.BytesIO(content), mimetype=MIMETYPES[kind], as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/plans/<int:plan_id>/papers/<any(xlsx, pdf, docx):kind>/job", methods=["POST"])
@login_required
def draft_job(plan_id: int, kind: str):
    """Start building a long plan's draft paper in the background, and go to its progress page."""
    from tracker.jobs.views import start_and_follow

    plan = plan_or_404(plan_id)
    quarter = _asked_quarter(request.form.get("quarter"))
    return start_and_follow("paper", params={"plan_id": plan.id, "quarter": quarter.label, "kind": kind},
                            partnership_id=plan.partnership_id)


def _returns_plan(plan_id: int):
    plan = plan_or_404(plan_id)
    if not current_user.has_role(plan.partnership_id, Role.LEAD_OFFICER):
        abort(403)
    return plan


@bp.route("/plans/<int:plan_id>/returns", methods=["GET", "POST"])
@login_required
def returns_page(plan_id: int):
    """Download an update return, and upload it back for a preview."""
    plan = _returns_plan(plan_id)
    error = None
    if request.method == "POST":
        upload = request.files.get("return_file")
        if upload is None or not upload.filename:
            error = "Choose the filled-in return to upload."
        else:
            try:
                staged = returns.stage_upload(plan, current_user, upload.filename, upload.read())
            except returns.ReturnError as problem:
                error = str(problem)
            else:
                db.session.commit()
                return redirect(url_for(".return_preview", upload_id=staged.id))
    count = len(returns.return_actions(plan, current_user))
    return render_template("workbooks/returns.html", plan=plan, error=error, count=count,
                           is_manager=current_user.has_role(plan.partnership_id, Role.PLAN_MANAGER)), \
        400 if error else 200


@bp.route("/plans/<int:plan_id>/returns/download")
@login_required
def return_download(plan_id: int):
    plan = _returns_plan(plan_id)
    return _xlsx(returns.build_return(plan, current_user),
                 f"Update-return-{services.workbook_filename(plan.name, today().isoformat())}")


def _upload_or_404(upload_id: int) -> ReturnUpload:
    upload = db.session.get(ReturnUpload, upload_id)
    if upload is None or upload.user_id != current_user.id:
        abort(404)
    return upload


@bp.route("/returns/<int:upload_id>")
@login_required
def return_preview(upload_id: int):
    upload = _upload_or_404(upload_id)
    rows = returns.preview(upload, current_user)
    counts = {kind: sum(1 for r in rows if r.outcome == kind) for kind in ("apply", "conflict", "error", "unchanged")}
    return render_template("workbooks/preview.html", upload=upload, rows=rows, counts=counts)


@bp.route("/returns/<int:upload_id>/confirm", methods=["POST"])
@login_required
def return_confirm(upload_id: int):
    upload = _upload_or_404(upload_id)
    try:
        counts = returns.apply(upload, current_user)
    except returns.ReturnError as error:
        flash(str(error), "error")
        return redirect(url_for(".returns_page", plan_id=upload.plan_id))
    db.session.commit()
    message = f"Recorded {counts['apply']} progress update(s)."
    if counts["conflict"]:
        message += f" {counts['conflict']} row(s) were not applied because the action changed meanwhile."
    flash(message, "success" if not counts["conflict"] else "warning")
    return redirect(url_for(".returns_page", plan_id=upload.plan_id))


@bp.app_context_processor
def workbook_links():
    """Lets the plans list offer the update return to the people who can send one."""

    def can_send_return(plan) -> bool:
        return current_user.is_authenticated and current_user.has_role(plan.partnership_id, Role.LEAD_OFFICER)

    return {"can_send_return": can_send_return, "draft_quarter": draft_quarter}
