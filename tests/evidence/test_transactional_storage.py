"""Nothing stored on refusal: an evidence file is kept under a temporary name until the transaction commits,
moved into place after the commit, and removed when the transaction (or its savepoint) rolls back or its commit
fails, at every door that takes evidence (the evidence page, the recommendation closure page, the services)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from tests.conftest import sign_in_client
from tests.evidence.test_evidence import FakeS3
from tests.scrutiny.helpers import PDF, audit_world
from tracker.errors import RuleError
from tracker.evidence import services, storage
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.plans.models import ProgressUpdate


@pytest.fixture
def w(make_app, tmp_path):
    app = make_app(EVIDENCE_STORAGE=str(tmp_path / "evidence"))
    with app.app_context():
        world = audit_world()
        world["app"], world["dir"] = app, tmp_path / "evidence"
        world["action"] = world["rec"].actions[0]
        yield world


def files(w) -> list[str]:
    return sorted(p.name for p in w["dir"].rglob("*") if p.is_file()) if w["dir"].exists() else []


def rows() -> int:
    return db.session.scalar(select(func.count(Evidence.id)))


@pytest.fixture
def failing_commit(w):
    """Every database COMMIT fails (as a lost connection or a serialisation failure would)."""
    def boom(connection):
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    event.listen(db.engine, "commit", boom)
    yield
    event.remove(db.engine, "commit", boom)


def test_the_file_is_temporary_until_the_commit_then_in_place(w):
    evidence = services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
    (name,) = files(w)
    assert ".pending-" in name and storage.pending_keys(db.session()) == [evidence.storage_key]
    db.session.commit()
    assert files(w) == [evidence.storage_key.split("/")[-1]] and services.file_bytes(evidence) == PDF


def test_a_rollback_removes_the_file(w):
    services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
    db.session.rollback()
    assert files(w) == [] and rows() == 0


def test_a_refusal_after_the_upload_removes_the_file(w):
    def write():
        services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
        raise RuleError("Refused later in the same request.")

    with w["app"].test_request_context():
        from tracker.doors import commit_or_refuse

        outcome = commit_or_refuse(write)
    assert not outcome.ok and files(w) == [] and rows() == 0


def test_a_savepoint_rolled_back_removes_only_its_file(w):
    kept = services.add_evidence("action", w["action"].id, filename="kept.pdf", data=PDF, actor=w["officer"])
    with pytest.raises(RuleError):
        with db.session.begin_nested():
            services.add_evidence("action", w["action"].id, filename="gone.pdf", data=PDF, actor=w["officer"])
            raise RuleError("Refused.")
    db.session.commit()
    assert files(w) == [kept.storage_key.split("/")[-1]] and rows() == 1


def test_a_failed_commit_leaves_no_file_and_no_row(w, failing_commit):
    services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
    with pytest.raises(OperationalError):
        db.session.commit()
    db.session.rollback()
    assert files(w) == [] and rows() == 0


def test_the_evidence_page_stores_nothing_when_the_commit_fails(w, failing_commit):
    client = sign_in_client(w["app"], w["officer"])
    response = client.post(f"/evidence/action/{w['action'].id}/add", data={
        "file": (io.BytesIO(PDF), "minutes.pdf"), "title": "Minutes"}, content_type="multipart/form-data")
    assert response.status_code == 500
    assert files(w) == [] and rows() == 0


def test_the_closure_page_stores_nothing_when_the_commit_fails(w, failing_commit):
    client = sign_in_client(w["app"], w["officer"])
    rec = w["rec"]
    response = client.post(f"/audit-recommendations/recommendations/{rec.id}/complete", data={
        "action_id": str(w["action"].id), "narrative": "Reconciled.", "title": "Proof",
        "file": (io.BytesIO(PDF), "proof.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 500
    assert files(w) == [] and rows() == 0


def test_the_closure_page_stores_nothing_when_the_update_is_refused(w):
    client = sign_in_client(w["app"], w["officer"])
    response = client.post(f"/audit-recommendations/recommendations/{w['rec'].id}/complete", data={
        "action_id": str(w["action"].id), "narrative": "bad\x00text", "title": "Proof",
        "file": (io.BytesIO(PDF), "proof.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert files(w) == [] and rows() == 0
    assert db.session.scalar(select(func.count(ProgressUpdate.id))) == 0


def test_s3_keeps_nothing_after_a_rollback(w):
    backend = storage.from_setting("s3://evidence-bucket/tracker", "/unused")
    backend._client = fake = FakeS3()
    w["app"].extensions["evidence_storage"] = backend
    services.add_evidence("action", w["action"].id, filename="a.pdf", data=PDF, actor=w["officer"])
    assert len(fake.objects) == 1
    db.session.rollback()
    assert fake.objects == {} and rows() == 0
