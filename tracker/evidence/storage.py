"""Where evidence files are kept: a directory (the instance folder's `evidence` by default) or an S3 bucket.

EVIDENCE_STORAGE names it: empty for <instance folder>/evidence, a directory path, or s3://bucket/prefix for
an S3-compatible bucket (EVIDENCE_S3_ENDPOINT_URL for one that is not Amazon's; credentials as boto3 finds
them). boto3 is imported only when a bucket is used. Keys are made by the tracker, never from a file's name.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app


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
