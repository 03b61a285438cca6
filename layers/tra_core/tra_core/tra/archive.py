"""The TRA+PJ archive: one ``.TRA`` file and its supporting documents at the zip root.

MyUnisoft's ``POST /api/v1/TRA/partial`` takes a zip with the ``.TRA`` and the attachments at the
root of the archive (``myunisoft-api.md`` §11; ``tra-format.md`` §5), each named on a ``G`` line
of the TRA. The archive is deterministic: the same entries and documents always give the same
bytes (fixed timestamps and permissions, fixed order, fixed compression), so a retried upload
re-sends identical bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import Protocol

from tra_core.domain.errors import TraError
from tra_core.domain.text import fit_encoding

DEFAULT_TRA_NAME = "ECRITURES.TRA"
MAX_NAME_LENGTH = 100
ALLOWED_EXTENSIONS = frozenset(
    {
        "pdf",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "tif",
        "tiff",
        "bmp",
        "heic",
        "webp",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "odt",
        "ods",
        "csv",
        "txt",
    }
)
"""Document types accepted in an archive (MyUnisoft's document uploads take office documents,
PDFs and images; ``myunisoft-api.md`` §11 leaves the TRA+PJ list silent)."""

MAX_DOCUMENT_BYTES = 15 * 1024 * 1024
"""Per-document limit: MyUnisoft's smallest documented document limit (15 MB, §11)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class _NamedAttachment(Protocol):
    @property
    def filename(self) -> str: ...


class _EntryWithAttachments(Protocol):
    @property
    def attachments(self) -> Sequence[_NamedAttachment]: ...


class ArchiveError(TraError):
    """A document cannot go into the archive (wrong type, too large, unreadable)."""

    code = "ATTACHMENT_INVALID"


def safe_name(filename: str) -> str:
    """A bare, cp1252- and zip-safe file name: ``[A-Za-z0-9._-]``, at most 100 characters.

    Accents are transliterated (``facture été.pdf`` → ``facture_ete.pdf``); any directory part
    is dropped; the extension is kept when the name must be shortened.
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    ascii_name = fit_encoding(base, "ascii")
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")
    if not cleaned:
        cleaned = "document"
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            cleaned = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            cleaned = cleaned[:MAX_NAME_LENGTH]
    return cleaned


def plan_attachment_names(
    entries: Sequence[_EntryWithAttachments], reserved: Sequence[str] = (DEFAULT_TRA_NAME,)
) -> list[list[str]]:
    """The name of every attachment at the zip root, per entry, in order.

    Names are ``safe_name`` of the given file names, made unique without regard to case (a
    second ``facture.pdf`` becomes ``facture-2.pdf``); ``reserved`` names (the ``.TRA``) are
    never reused. Deterministic: it depends only on the order of the entries.
    """
    taken = {name.lower() for name in reserved}
    plan: list[list[str]] = []
    for entry in entries:
        names: list[str] = []
        for attachment in entry.attachments:
            name = safe_name(attachment.filename)
            stem, dot, ext = name.rpartition(".")
            if not dot:
                stem, ext = name, ""
            candidate, counter = name, 1
            while candidate.lower() in taken:
                counter += 1
                suffix = f"-{counter}"
                candidate = stem[: MAX_NAME_LENGTH - len(suffix) - len(ext) - 1] + suffix
                candidate += f".{ext}" if dot else ""
            taken.add(candidate.lower())
            names.append(candidate)
        plan.append(names)
    return plan


def check_document(name: str, size: int, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
    """Business rule: a document must be of an allowed type and at most ``max_bytes`` long.

    Raises ``ArchiveError`` (codes ``ATTACHMENT_TYPE``, ``ATTACHMENT_TOO_LARGE``,
    ``ATTACHMENT_EMPTY``) with a sentence naming the document.
    """
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise ArchiveError(
            f"Document {name!r} is not of an accepted type ({', '.join(sorted(ALLOWED_EXTENSIONS))}).",
            code="ATTACHMENT_TYPE",
            details={"document": name},
        )
    if size == 0:
        raise ArchiveError(
            f"Document {name!r} is empty.", code="ATTACHMENT_EMPTY", details={"document": name}
        )
    if size > max_bytes:
        raise ArchiveError(
            f"Document {name!r} is {size} bytes long, over the {max_bytes}-byte limit.",
            code="ATTACHMENT_TOO_LARGE",
            details={"document": name, "size": size},
        )


def build_archive(
    tra_bytes: bytes,
    documents: Sequence[tuple[str, bytes]],
    *,
    tra_name: str = DEFAULT_TRA_NAME,
    max_document_bytes: int = MAX_DOCUMENT_BYTES,
) -> bytes:
    """Zip the ``.TRA`` and the documents, all at the archive root, deterministically.

    ``documents`` are ``(name, content)`` pairs, with the names planned by
    ``plan_attachment_names`` (the ones the ``G`` lines carry). Each document is checked with
    ``check_document`` first; duplicate or unsafe names are refused.
    """
    seen = {tra_name.lower()}
    for name, content in documents:
        if name != safe_name(name) or name.lower() in seen:
            raise ArchiveError(
                f"Document name {name!r} is not a unique, safe name at the archive root.",
                code="ATTACHMENT_NAME",
                details={"document": name},
            )
        seen.add(name.lower())
        check_document(name, len(content), max_bytes=max_document_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, content in ((tra_name, tra_bytes), *documents):
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read the same everywhere
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buffer.getvalue()
