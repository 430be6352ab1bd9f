"""Where evidence files are kept: a directory (the instance folder's `evidence` by default) or an S3 bucket.

EVIDENCE_STORAGE names it: empty for <instance folder>/evidence, a directory path, or s3://bucket/prefix for
an S3-compatible bucket (EVIDENCE_S3_ENDPOINT_URL for one that is not Amazon's; credentials as boto3 finds
them). boto3 is imported only when a bucket is used. Keys are made by the tracker, never from a file's name.

Storing is transactional (`put_after_commit`): a file is written under a temporary key while the database
transaction is open, moved to its key when the transaction commits, and removed when it (or the savepoint it
was written in) rolls back, so a refused or failed write leaves neither a row nor a file.
"""
from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)


class DirectoryStorage:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        path = (self.directory / key).resolve()
        if self.directory.resolve() not in path.parents:
            raise ValueError("storage key outside the evidence directory")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def move(self, key: str, new_key: str) -> None:
        os.replace(self._path(key), self._path(new_key))


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        self.bucket, self.prefix, self.endpoint_url = bucket, prefix.strip("/"), endpoint_url
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import boto3  # only when a bucket is configured

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url or None)
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def move(self, key: str, new_key: str) -> None:
        self.client.copy_object(Bucket=self.bucket, Key=self._key(new_key),
                                CopySource={"Bucket": self.bucket, "Key": self._key(key)})
        self.delete(key)


def from_setting(setting: str | None, instance_path: str, endpoint_url: str | None = None):
    setting = (setting or "").strip()
    if setting.startswith("s3://"):
        bucket, _, prefix = setting[5:].partition("/")
        return S3Storage(bucket, prefix, endpoint_url)
    return DirectoryStorage(setting or Path(instance_path) / "evidence")


def storage():
    """The app's evidence storage (one per app; tests may set app.extensions['evidence_storage'])."""
    app = current_app
    if "evidence_storage" not in app.extensions:
        app.extensions["evidence_storage"] = from_setting(app.config.get("EVIDENCE_STORAGE"), app.instance_path,
                                                          app.config.get("EVIDENCE_S3_ENDPOINT_URL"))
    return app.extensions["evidence_storage"]


# ------------------------------------------------------------------------------------ transactional writes
PENDING = "evidence_pending_files"


@dataclass
class _Pending:
    backend: object
    temporary: str
    key: str
    transaction: SessionTransaction | None


def put_after_commit(session: Session, key: str, data: bytes) -> None:
    """Store `data` as `key` once the session's transaction commits (under a temporary key until then)."""
    backend = storage()
    temporary = f"{key}.pending-{uuid.uuid4().hex}"
    backend.put(temporary, data)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append(_Pending(backend, temporary, key, transaction))


def pending_keys(session: Session) -> list[str]:
    return [p.key for p in session.info.get(PENDING, [])]


def _discard(entries: list[_Pending]) -> None:
    for entry in entries:
        try:
            entry.backend.delete(entry.temporary)
        except Exception:  # noqa: BLE001  (a file left over is logged, never a failed request)
            log.exception("Could not remove the uncommitted evidence file %s", entry.temporary)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for entry in session.info.pop(PENDING, []):
        try:
            entry.backend.move(entry.temporary, entry.key)
        except Exception:  # noqa: BLE001
            log.exception("Could not move the committed evidence file %s into place", entry.key)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    entries = session.info.get(PENDING)
    if entries and previous_transaction.nested:
        gone = [e for e in entries if _within(e.transaction, previous_transaction)]
        session.info[PENDING] = [e for e in entries if e not in gone]
        _discard(gone)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (rolled back, closed, or its commit failed)."""
    if transaction.parent is None and session.info.get(PENDING):
        _discard(session.info.pop(PENDING))
