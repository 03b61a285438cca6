"""The attachments bucket: the documents the hub uploads, and the frozen archives of the batches.

Documents are named by ``tra_core.store.attachments`` (presigned PUTs, then reads by the upload
worker); an archive is written once, under ``tra_core.store.batches.archive_key_for``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Documents:
    """Documents in the attachments bucket."""

    def __init__(self, client: S3Client, bucket: str):
        self._client = client
        self._bucket = bucket

    def __repr__(self) -> str:
        return f"S3Documents(bucket={self._bucket!r})"

    def presign_put(self, key: str, content_type: str, expires_s: int) -> str:
        """A URL the hub can PUT the document to (with this ``Content-Type``) for ``expires_s`` seconds."""
        url: str = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=expires_s,
            HttpMethod="PUT",
        )
        return url

    def size(self, key: str) -> int | None:
        """The document's size in bytes, or ``None`` when nothing is stored under ``key``."""
        try:
            answer = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return int(answer["ContentLength"])

    def read(self, key: str) -> bytes | None:
        """The document's bytes, or ``None`` when nothing is stored under ``key``."""
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        data: bytes = answer["Body"].read()
        return data


class S3Archives:
    """The frozen archives, written once: a second write of the same batch keeps the first bytes."""

    def __init__(self, client: S3Client, bucket: str):
        self._client = client
        self._bucket = bucket

    def __repr__(self) -> str:
        return f"S3Archives(bucket={self._bucket!r})"

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType="application/zip", IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"PreconditionFailed", "412"}:
                raise

    def get(self, key: str) -> bytes:
        answer = self._client.get_object(Bucket=self._bucket, Key=key)
        data: bytes = answer["Body"].read()
        return data
