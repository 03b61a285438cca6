"""Reference snapshots in S3: ``references/<connection>/<society>/<version>.json.gz``.

A snapshot is written once and never changed (``If-None-Match: *``: of two refreshes racing for
the same version, the first object stays); the file item points at the current version. The gzip
header carries no timestamp, so the same snapshot always gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from tra_core.store.errors import SnapshotExists
from tra_core.store.records import ReferenceSnapshot

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def snapshot_key(connection_id: str, society_id: int, version: int) -> str:
    return f"references/{connection_id}/{society_id}/{version}.json.gz"


def encode_snapshot(snapshot: ReferenceSnapshot) -> bytes:
    payload = json.dumps(snapshot.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return gzip.compress(payload.encode("utf-8"), mtime=0)


def decode_snapshot(data: bytes) -> ReferenceSnapshot:
    return ReferenceSnapshot.model_validate_json(gzip.decompress(data))


class S3Snapshots:
    def __init__(self, client: S3Client, bucket: str):
        self._client = client
        self._bucket = bucket

    def save(self, snapshot: ReferenceSnapshot) -> str:
        key = snapshot_key(snapshot.connection_id, snapshot.society_id, snapshot.version)
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=encode_snapshot(snapshot),
                ContentType="application/json",
                ContentEncoding="gzip",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
                raise SnapshotExists(key) from None
            raise
        return key

    def load(self, connection_id: str, society_id: int, version: int) -> ReferenceSnapshot | None:
        try:
            answer = self._client.get_object(
                Bucket=self._bucket, Key=snapshot_key(connection_id, society_id, version)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        return decode_snapshot(answer["Body"].read())
