"""Reading an entry's supporting documents for its archive, each checked before it is sent.

A document must be named by the ``s3_key`` the bridge gave for this client file, be stored, be of
an accepted type and size, and hold the bytes whose SHA-256 the hub declared. Every reason a
document is refused is kept on the entry.
"""

from __future__ import annotations

from tra_core.domain.entry import Attachment, Entry
from tra_core.store.attachments import parse_attachment_key, sha256_hex
from tra_core.store.entries import EntryIssue
from tra_core.store.ports import DocumentStore
from tra_core.tra.archive import ArchiveError, check_document, safe_name


def read_documents(
    entry: Entry, file: tuple[str, int], documents: DocumentStore, *, max_bytes: int
) -> tuple[list[bytes], list[EntryIssue]]:
    """The entry's documents from the store (``file`` is its connection and dossier id), each
    checked (its file, type, size and declared hash), and the issues of those refused."""
    found: list[bytes] = []
    issues: list[EntryIssue] = []
    for index, attachment in enumerate(entry.attachments, start=1):
        read = _read_document(attachment, file, documents, max_bytes)
        if isinstance(read, bytes):
            found.append(read)
        else:
            code, message = read
            issues.append(EntryIssue(code=code, message=message, field=f"attachments[{index}]"))
    return found, issues


def _read_document(
    attachment: Attachment, file: tuple[str, int], documents: DocumentStore, max_bytes: int
) -> bytes | tuple[str, str]:
    """One document's bytes, or why it is refused (a code and a sentence)."""
    name = attachment.filename
    key = attachment.s3_key
    ref = None if key is None else parse_attachment_key(key)
    if key is None or ref is None:
        return (
            "ATTACHMENT_SOURCE",
            f"document {name!r} must be named by the s3_key the bridge gave "
            "for it (POST /files/{file_id}/attachments)",
        )
    if (ref.connection_id, ref.society_id) != file:
        return "ATTACHMENT_FOREIGN", f"document {name!r} was uploaded for another client file"
    size = documents.size(key)
    if size is None:
        return (
            "ATTACHMENT_MISSING",
            f"document {name!r} was never uploaded (or has expired): upload it "
            "to the URL the bridge gave, then retry the entry",
        )
    try:
        check_document(safe_name(name), size, max_bytes=max_bytes)
    except ArchiveError as exc:
        return exc.code, exc.message
    data = documents.read(key)
    if data is None:
        return "ATTACHMENT_MISSING", f"document {name!r} could not be read"
    if sha256_hex(data) != ref.sha256:
        return (
            "ATTACHMENT_CHECKSUM",
            f"document {name!r} differs from the one declared (its SHA-256 does not match): upload it again",
        )
    return data
