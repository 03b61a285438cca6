"""Supporting documents in the attachments bucket: presigned uploads, then reads by the upload worker.

The hub asks for an upload slot (``POST /files/{file_id}/attachments``), PUTs the document to the
presigned URL, and names it in its entries by ``s3_key``. The key holds the client file and the
SHA-256 the hub declared, ``attachments/<connection>/<society>/<sha256>/<file name>``, so:

- an entry can only name documents of its own client file (the prefix is checked at intake and by
  the worker), never another tenant's;
- the worker checks the bytes it reads against the declared hash: a document replaced or
  corrupted after it was declared is refused, not sent.

This module names the documents (no I/O); ``tra_core.store.s3_objects`` reads and writes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SHA256 = re.compile(r"[0-9a-f]{64}")


def attachment_prefix(connection_id: str, society_id: int) -> str:
    """Where every document of a client file is stored."""
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
    """The SHA-256 of ``data`` as 64 lowercase hex digits (as declared by the hub)."""
    return hashlib.sha256(data).hexdigest()
