"""Small builders for the audit recommendation tests."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

from tests import factories
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.scrutiny import services


def audit_world():
    home = factories.partnership("Home IJB")
    other = factories.partnership("Other IJB")
    manager = factories.user(home, Role.PLAN_MANAGER, email="manager@example.scot", name="Mina Manager")
    officer = factories.user(home, Role.LEAD_OFFICER, email="officer@example.scot", name="Olive Officer")
    colleague = factories.user(home, Role.LEAD_OFFICER, email="colleague@example.scot")
    viewer = factories.user(home, Role.VIEWER, email="viewer@example.scot")
    auditor = factories.user(home, Role.AUDITOR, email="auditor@example.scot", name="Audrey Auditor")
    outsider = factories.user(other, Role.PLAN_MANAGER, email="outsider@example.scot")
    other_auditor = factories.user(other, Role.AUDITOR, email="oauditor@example.scot")
    plan = factories.plan(home, "Audit actions", manager=manager)
    scheme = services.schemes(home.id)[0]
    report = services.create_report(partnership_id=home.id, plan_id=plan.id, title="Carers funding",
                                    issued_on=dt.date(2026, 3, 31), scheme_id=scheme.id, assurance="limited",
                                    actor=manager)
    rec = services.add_recommendation(report, ref="R1", text="Reconcile carers funding quarterly.", grade="1",
                                      response="Quarterly reconciliation", agreed_date=dt.date(2026, 9, 30),
                                      lead_officer_id=officer.id, actor=manager)
    db.session.commit()
    return dict(home=home, other=other, manager=manager, officer=officer, colleague=colleague, viewer=viewer,
                auditor=auditor, outsider=outsider, other_auditor=other_auditor, plan=plan, report=report, rec=rec)


def office_file(main: str = "word", macro: bool = False, content_type_macro: bool = False) -> bytes:
    """A minimal Office Open XML package: word (docx), sheet (xlsx) or slides (pptx)."""
    parts = {"word": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml."
                      + ("document.macroEnabled.main+xml" if content_type_macro else "document.main+xml")),
             "sheet": ("xl/workbook.xml", "application/vnd."
                       + ("ms-excel.sheet.macroEnabled.main+xml" if content_type_macro else
                          "openxmlformats-officedocument.spreadsheetml.sheet.main+xml")),
             "slides": ("ppt/presentation.xml",
                        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")}
    path, content_type = parts[main]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/' + path + '" ContentType="'
                         + content_type + '"/></Types>')
        archive.writestr(path, "<x/>")
        if macro:
            archive.writestr(path.split("/")[0] + "/vbaProject.bin", b"\x00VBA")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
