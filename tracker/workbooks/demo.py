"""Demo data: a past Carers Partnership meeting whose papers were issued, so there is a workbook to download."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker.committees.models import Committee, Meeting
from tracker.demo.services import DUNDEE, DemoContext
from tracker.extensions import db
from tracker.workbooks import services

PAST_MEETING = dt.date(2026, 10, 28)


def load_demo_workbooks(ctx: DemoContext) -> None:
    committee = db.session.scalar(select(Committee).where(
        Committee.partnership_id == ctx.partnerships[DUNDEE].id, Committee.name == "Dundee Carers Partnership"))
    if committee is None:
        return
    meeting = next((m for m in committee.meetings if m.held_on == PAST_MEETING), None)
    if meeting is None:
        meeting = Meeting(committee=committee, held_on=PAST_MEETING,
                          title=f"{committee.name} {PAST_MEETING:%B %Y}")
        db.session.add(meeting)
        db.session.flush()
    for plan in committee.plans:
        services.issue_workbook(plan, services.quarter_for_meeting(meeting), committee=committee, meeting=meeting,
                                as_at=services.papers_due(meeting))
