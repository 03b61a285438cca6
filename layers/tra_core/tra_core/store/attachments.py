"""Supporting documents in the attachments bucket: presigned uploads, then reads by the upload worker.

The hub asks for an upload slot (``POST /files/{file_id}/attachments``), PUTs the document to the
presigned URL, and names it in its entries by ``s3_key``. The key holds the client file and the
SHA-256 the hub declared, ``attachments/<connection>/<society>/<sha256>/<file name>``, so:

- an entry can only name documents of its own client file (the prefix is checked at intake and by
  the worker), never another tenant's;
- the worker checks the bytes it reads against the declared hash: a document replaced or
  corrupted after it was declared is refused, not sent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_SHA256 = re.compile(r"[0-9a-f]{64}")


def attachment_prefix(connection_id: str, society_id: int) -> str:
    return f"attachments/{connection_id}/{society_id}/"


def attachment_key(connection_id: str, society_id: int, sha256: str, name: str) -> str:
    """Where a document of a client file is stored (``name`` must already be a safe file name)."""
    return f"{attachment_prefix(connection_id, society_id)}{sha256.lower()}/{name}"


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """What an attachment key says: its client file, the declared SHA-256 and the stored name."""

    connection_id: str
    society_id: int
    sha256: str
    name: str


def parse_attachment_key(key: str) -> AttachmentRef | None:
    """The parts of a key made by :func:`attachment_key`, or ``None`` for any other key."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] != "attachments" or not parts[2].isdigit():
        return None
    if not _SHA256.fullmatch(parts[3]) or not parts[4] or parts[4] in {".", ".."}:
        return None
    return AttachmentRef(parts[1], int(parts[2]), parts[3], parts[4])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(answer["ContentLength"])

    def read(self, key: str) -> bytes | None:
        """The document's bytes, or ``None`` when nothing is stored under ``key``."""
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        data: bytes = answer["Body"].read()
        return data
