"""Evidence: content checks, refusals that store nothing, append-only versions, download only to those who see."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.conftest import sign_in_client
from tests.scrutiny.helpers import PDF, PNG, audit_world, office_file
from tracker.errors import NotAllowed, NotFound, RuleError
from tracker.evidence import checks, services, storage
from tracker.evidence.models import Evidence
from tracker.extensions import db


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"), EVIDENCE_MAX_BYTES=64 * 1024)
    with app.app_context():
        world = audit_world()
        world["app"], world["dir"] = app, tmp_path / "evidence"
        world["action"] = world["rec"].actions[0]
        yield world


def stored_files(w) -> list:
    return [p for p in w["dir"].rglob("*") if p.is_file()] if w["dir"].exists() else []


REFUSED = [
    ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, "not a PDF"),
    ("report.docx", office_file("word", macro=True), "macros"),
    ("report.docx", office_file("word", content_type_macro=True), "macros"),
    ("budget.xlsx", office_file("sheet", content_type_macro=True), "macros"),
    ("budget.xlsx", office_file("sheet", macro=True), "macros"),
    ("big.pdf", PDF + b"0" * (65 * 1024), "larger than"),
    ("../../etc/passwd.pdf", PDF, "folder path"),
    ("C:\\Users\\me\\report.pdf", PDF, "folder path"),
    ("sub/report.pdf", PDF, "folder path"),
    ("bad\nname.pdf", PDF, "not allowed"),
    ("image.pdf", PNG, "does not end in .png"),
    ("empty.pdf", b"", "empty"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "97-2003"),
]


def test_refused_uploads_store_nothing(w):
    """A renamed executable, macro files renamed .docx/.xlsx, an oversized file, a name with a path..."""
    for name, data, message in REFUSED:
        with pytest.raises(RuleError) as refused:
            services.add_evidence("action", w["action"].id, filename=name, data=data, actor=w["officer"])
        assert message in refused.value.message, name
        db.session.rollback()
        assert db.session.scalar(select(func.count(Evidence.id))) == 0
        assert stored_files(w) == []


@pytest.mark.parametrize("name,data,kind", [
    ("plan.pdf", PDF, checks.PDF), ("photo.PNG", PNG, checks.PNG), ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"0" * 20,
                                                                     checks.JPEG),
    ("note.docx", office_file("word"), checks.DOCX), ("sheet.xlsx", office_file("sheet"), checks.XLSX),
    ("slides.pptx", office_file("slides"), checks.PPTX)])
def test_accepted_kinds_are_read_from_content(name, data, kind):
    assert checks.check_upload(name, data)[1] is kind


def test_upload_is_stored_outside_the_database_and_versions_are_kept(w):
    first = services.add_evidence("action", w["action"].id, filename="v1.pdf", data=PDF, title="Contract",
                                  actor=w["officer"])
    db.session.commit()
    assert len(stored_files(w)) == 1 and first.size == len(PDF)
    second = services.add_evidence("action", w["action"].id, filename="v2.pdf", data=PDF + b"2",
                                   replaces_id=first.id, actor=w["officer"])
    db.session.commit()
    assert second.version == 2 and second.title == "Contract"
    current = services.for_item("action", w["action"].id)
    assert [e.id for e in current] == [second.id] and [e.id for e in current[0].history] == [first.id]
    assert len(stored_files(w)) == 2
    with pytest.raises(RuleError):  # replace the latest version only
        services.add_evidence("action", w["action"].id, filename="v3.pdf", data=PDF, replaces_id=first.id,
                              actor=w["officer"])
    db.session.rollback()
    with pytest.raises(Exception):  # append-only
        first.title = "changed"
        db.session.flush()
    db.session.rollback()


def test_links_and_who_may_add(w):
    link = services.add_evidence("recommendation", w["rec"].id, url="https://intranet.example.scot/recon",
                                 actor=w["officer"])
    assert link.url.startswith("https://") and not link.is_file
    for bad in ("javascript:alert(1)", "ftp://x.example", "https://a.example/\nx"):
        with pytest.raises(RuleError):
            services.add_evidence("recommendation", w["rec"].id, url=bad, actor=w["officer"])
    for nobody in (w["viewer"], w["auditor"], w["colleague"]):
        with pytest.raises(NotAllowed):
            services.add_evidence("action", w["action"].id, url="https://x.example", actor=nobody)
    with pytest.raises(NotFound):
        services.add_evidence("action", w["action"].id, url="https://x.example", actor=w["outsider"])
    with pytest.raises(NotFound):
        services.add_evidence("action", 2**40, url="https://x.example", actor=w["manager"])


def test_download_only_to_those_who_may_see_the_item(w):
    evidence = services.add_evidence("action", w["action"].id, filename="recon.pdf", data=PDF, actor=w["officer"])
    db.session.commit()
    url = f"/evidence/{evidence.id}/download"
    for person in ("viewer", "auditor", "officer", "manager"):
        response = sign_in_client(w["app"], w[person]).get(url)
        assert response.status_code == 200, person
        assert response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "recon.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf"
    for person in ("outsider", "other_auditor"):
        assert sign_in_client(w["app"], w[person]).get(url).status_code == 404
    assert w["app"].test_client().get(url).status_code == 302
    assert sign_in_client(w["app"], w["viewer"]).get("/evidence/99999999999999999999/download").status_code == 404


def test_upload_page_refuses_a_renamed_macro_file_and_keeps_nothing(w):
    client = sign_in_client(w["app"], w["officer"])
    response = client.post(f"/evidence/action/{w['action'].id}/add", data={
        "file": (io.BytesIO(office_file("word", macro=True)), "innocent.docx")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and b"macros" in response.data
    assert stored_files(w) == [] and db.session.scalar(select(func.count(Evidence.id))) == 0
    response = client.post(f"/evidence/action/{w['action'].id}/add", data={
        "file": (io.BytesIO(PDF), "minutes.pdf"), "title": "Minutes"}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(f"/actions/{w['action'].id}")
    assert b"Minutes" in page.data and b"Evidence" in page.data


class FakeS3:
    def __init__(self):
        self.objects = {}

    def put_object(self, Bucket, Key, Body):
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def delete_object(self, Bucket, Key):
        self.objects.pop((Bucket, Key), None)

    def copy_object(self, Bucket, Key, CopySource):
        self.objects[(Bucket, Key)] = self.objects[(CopySource["Bucket"], CopySource["Key"])]


def test_s3_storage_with_a_fake_client(w):
    backend = storage.from_setting("s3://evidence-bucket/tracker", "/unused")
    assert isinstance(backend, storage.S3Storage) and backend.bucket == "evidence-bucket"
    backend._client = fake = FakeS3()
    w["app"].extensions["evidence_storage"] = backend
    evidence = services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
    db.session.commit()
    assert list(fake.objects) == [("evidence-bucket", f"tracker/{evidence.storage_key}")]  # no temporary copy
    assert services.file_bytes(evidence) == PDF
    assert stored_files(w) == []


def test_rating_page_shows_its_evidence_block(w):
    from tests import factories
    from tracker.selfeval import services as selfeval

    round_ = selfeval.create_round(partnership=w["home"], framework=factories.msg(), title="MSG 2026",
                                   actor_id=w["manager"].id)
    rating = round_.ratings[0]
    services.add_evidence("rating", rating.id, url="https://example.scot/minutes", title="Workshop minutes",
                          actor=w["manager"])
    db.session.commit()
    page = sign_in_client(w["app"], w["viewer"]).get(
        f"/self-evaluation/rounds/{round_.id}/proposals/{rating.item_id}")
    assert page.status_code == 200 and b"Workshop minutes" in page.data and b"Evidence files and links" in page.data
    with pytest.raises(NotAllowed):
        services.add_evidence("rating", rating.id, url="https://example.scot/x", actor=w["officer"])
