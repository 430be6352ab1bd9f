"""Long papers off the request and the draft papers on the plan page (issue 14, follow-up points 2 and 3)."""
from __future__ import annotations

import datetime as dt
import html
import io
from urllib.parse import quote_plus as url_quote_plus

import docx
import pypdf
import pytest

from tests.workbooks.test_services import _committee_with_meeting
from tracker.errors import NotAllowed
from tracker.extensions import db
from tracker.jobs import services as jobs
from tracker.jobs.models import Job, JobState
from tracker.workbooks.models import IssuedWorkbook
from tracker.workbooks.views import draft_quarter


def test_the_plan_page_offers_the_draft_workbook_pdf_and_covering_report(app, world, client_as):
    client = client_as(world.viewer)
    quarter = url_quote_plus(draft_quarter().label, safe="/")
    page = html.unescape(client.get(f"/plans/{world.plan.id}").get_data(as_text=True))
    for kind in ("pdf", "docx"):
        assert f"/plans/{world.plan.id}/papers/{kind}?quarter={quarter}" in page
    assert f"/plans/{world.plan.id}/workbook?quarter=" in page and "Download the draft paper" in page
    listing = client.get("/plans").get_data(as_text=True)
    assert f"/plans/{world.plan.id}/papers/pdf" in listing and f"/plans/{world.plan.id}/papers/docx" in listing

    pdf = client.get(f"/plans/{world.plan.id}/papers/pdf?quarter=Q2+2023/24")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].endswith("Draft-Home-action-plan-Q2-2023-24-paper.pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    assert reader.metadata.title.startswith("DRAFT: Home action plan")
    assert all("DRAFT" in p.extract_text() for p in reader.pages)
    report = client.get(f"/plans/{world.plan.id}/papers/docx?quarter=Q2+2023/24")
    assert report.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.data)).paragraphs)
    assert text.startswith("DRAFT") and "Q2 2023/24" in text
    assert client_as(world.outsider).get(f"/plans/{world.plan.id}/papers/pdf").status_code == 404
    assert db.session.query(Job).count() == 0  # a short plan: built in the request


def test_a_long_plans_draft_is_built_by_a_job_and_downloaded_from_its_page(app, world, client_as):
    app.config["JOBS_PAPERS_THRESHOLD"] = 1  # the plan has two actions
    client = client_as(world.viewer)
    page = client.get(f"/plans/{world.plan.id}/papers/docx?quarter=Q2+2023/24")
    assert page.status_code == 200 and b"built in the background" in page.data
    assert db.session.query(Job).count() == 0  # a GET changes nothing: the button starts it
    assert b'name="quarter" value="Q2 2023/24"' in page.data
    assert b"built in the background" in client.get(f"/plans/{world.plan.id}/workbook").data

    started = client.post(f"/plans/{world.plan.id}/papers/docx/job", data={"quarter": "Q2 2023/24"})
    job = db.session.query(Job).one()
    assert started.status_code == 302 and started.headers["Location"].endswith(f"/jobs/{job.id}")
    db.session.refresh(job)
    assert job.kind == "paper" and job.state == JobState.DONE, job.message  # JOBS_IMMEDIATE: run at once
    assert job.title == "Draft covering report for Home action plan, Q2 2023/24"
    progress = client.get(f"/jobs/{job.id}")
    assert f"/jobs/{job.id}/result".encode() in progress.data
    result = client.get(f"/jobs/{job.id}/result")
    assert result.status_code == 200
    assert result.headers["Content-Disposition"].endswith("Draft-Home-action-plan-Q2-2023-24-covering-report.docx")
    content = result.data
    result.close()
    assert "DRAFT" in docx.Document(io.BytesIO(content)).paragraphs[0].text
    # A forged quarter falls back to the default one; another partnership's plan is not found.
    assert client.post(f"/plans/{world.plan.id}/papers/pdf/job", data={"quarter": "Q9\r\n"}).status_code == 302
    assert client_as(world.outsider).post(f"/plans/{world.plan.id}/papers/pdf/job").status_code == 404
    assert db.session.query(Job).count() == 2


@pytest.mark.parametrize("params", [
    {"plan_id": None, "quarter": "Q2 2023/24", "kind": "pdf"},
    {"plan_id": 2 ** 63, "quarter": "Q2 2023/24", "kind": "pdf"},
    {"plan_id": True, "quarter": "Q2 2023/24", "kind": "pdf"},
    {"quarter": "Q2 2023/24", "kind": "exe"},
    {"quarter": "not a quarter", "kind": "pdf"},
])
def test_a_paper_job_refuses_forged_parameters(app, world, params):
    params = {"plan_id": world.plan.id, **params}
    with pytest.raises(NotAllowed):
        jobs.start("paper", actor=world.viewer, params=params)
    with pytest.raises(NotAllowed):  # another partnership's plan
        jobs.start("paper", actor=world.outsider, params={"plan_id": world.plan.id, "quarter": "Q2 2023/24",
                                                          "kind": "pdf"})
    db.session.rollback()
    assert db.session.query(Job).count() == 0


def test_issuing_a_long_set_runs_as_a_job_and_leads_back_to_the_committee(app, world, client_as):
    committee = _committee_with_meeting(world, dt.date(2023, 10, 25))
    meeting = committee.meetings[0]
    app.config["JOBS_PAPERS_THRESHOLD"] = 1
    client = client_as(world.manager)
    started = client.post(f"/committees/{committee.id}/meetings/{meeting.id}/issue")
    job = db.session.query(Job).one()
    assert started.headers["Location"].endswith(f"/jobs/{job.id}")
    db.session.refresh(job)
    assert job.kind == "issue_papers" and job.state == JobState.DONE, job.message
    assert job.message == "Issued 1 set of papers." and job.result_url == f"/committees/{committee.id}#issued"
    [issued] = db.session.query(IssuedWorkbook).filter_by(meeting_id=meeting.id).all()
    assert {p.kind for p in issued.papers} == {"pdf", "docx"}
    assert f'href="/committees/{committee.id}#issued"'.encode() in client.get(f"/jobs/{job.id}").data
    with pytest.raises(NotAllowed):  # a viewer may not issue, whatever the parameters say
        jobs.start("issue_papers", actor=world.viewer, params={"committee_id": committee.id,
                                                               "meeting_id": meeting.id})


def test_a_pdf_goes_to_the_background_sooner_than_a_workbook_or_report(app, world, client_as):
    """The PDF's page layout costs far more per action: its own, lower threshold (a set holds a PDF too)."""
    app.config["JOBS_PDF_THRESHOLD"] = 1  # the plan has two actions; JOBS_PAPERS_THRESHOLD stays 5,000
    client = client_as(world.viewer)
    page = client.get(f"/plans/{world.plan.id}/papers/pdf?quarter=Q2+2023/24")
    assert page.status_code == 200 and b"built in the background" in page.data
    assert b"more than 1, so its draft" in page.data
    report = client.get(f"/plans/{world.plan.id}/papers/docx?quarter=Q2+2023/24")
    assert report.status_code == 200 and report.mimetype.endswith("wordprocessingml.document")
    workbook = client.get(f"/plans/{world.plan.id}/workbook?quarter=Q2+2023/24")
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    committee = _committee_with_meeting(world, dt.date(2023, 10, 25))
    started = client_as(world.manager).post(f"/committees/{committee.id}/meetings/{committee.meetings[0].id}/issue")
    job = db.session.query(Job).one()
    assert started.headers["Location"].endswith(f"/jobs/{job.id}") and job.kind == "issue_papers"
