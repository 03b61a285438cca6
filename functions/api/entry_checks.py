"""The checks every posted body of entries goes through before anything is stored (docs/architecture.md §3.4).

The body (decoded at the edge, ``api.request``) holds one entry or a list: at most
``MAX_ENTRIES_PER_REQUEST`` entries, each valid against the entry schema (docs/architecture.md
§3.1), naming documents of this client file only, once per request, and small enough to travel in
one queue message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import InvalidRequest, RequestTooLarge
from tra_core.domain.entry import Entry, parse_entries
from tra_core.domain.errors import EntryProblem
from tra_core.store.attachments import parse_attachment_key
from tra_core.store.records import ClientFile

MAX_ENTRIES_PER_REQUEST = 500
MAX_PAGE = 1000
"""Most entries of one page of ``GET .../entries``."""
MAX_ENTRY_BYTES = 200_000
"""An entry travels in one SQS message (at most 256 KiB with its envelope)."""


def attachment_problems(entries: Sequence[Entry], file: ClientFile) -> list[EntryProblem]:
    """In the service, a document is named by the ``s3_key`` the bridge gave for *this* client file."""
    problems: list[EntryProblem] = []
    for entry in entries:
        for index, attachment in enumerate(entry.attachments, start=1):
            where = f"attachments[{index}].s3_key"
            ref = None if attachment.s3_key is None else parse_attachment_key(attachment.s3_key)
            if ref is None:
                problems.append(
                    EntryProblem(
                        code="ATTACHMENT_SOURCE",
                        message="must be the s3_key answered by POST /files/{file_id}/attachments "
                        "(local paths are for the tra command only)",
                        entry_id=entry.entry_id,
                        field=where,
                    )
                )
            elif (ref.connection_id, ref.society_id) != (file.connection_id, file.society_id):
                problems.append(
                    EntryProblem(
                        code="ATTACHMENT_FOREIGN",
                        message="names a document uploaded for another client file",
                        entry_id=entry.entry_id,
                        field=where,
                    )
                )
    return problems


def repeated_problems(entries: Sequence[Entry]) -> list[EntryProblem]:
    """One problem per entry id posted more than once in the same request."""
    versions: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        versions[entry.entry_id].append(entry.version)
    return [
        EntryProblem(
            code="ENTRY_REPEATED",
            message=f"the entry appears {len(seen)} times in this request (versions "
            f"{', '.join(str(v) for v in sorted(seen))}): send only its latest version",
            entry_id=entry_id,
        )
        for entry_id, seen in versions.items()
        if len(seen) > 1
    ]


def size_problems(entries: Sequence[Entry]) -> list[EntryProblem]:
    """One problem per entry too large for one upload-queue message."""
    return [
        EntryProblem(
            code="ENTRY_TOO_LARGE",
            message=f"the entry is larger than {MAX_ENTRY_BYTES} bytes: split it",
            entry_id=entry.entry_id,
        )
        for entry in entries
        if len(entry.model_dump_json()) > MAX_ENTRY_BYTES
    ]


@dataclass(frozen=True)
class CheckedEntries:
    """The entries of a body that passed the entry schema, and every problem found."""

    entries: list[Entry]
    problems: list[EntryProblem]


def check_entries(raw: object, file: ClientFile) -> CheckedEntries:
    """The checks of ``POST .../entries``, which the preview runs too (one code path).

    ``raw`` is the decoded body: one entry or a list. Too many entries refuse the whole request
    (``RequestTooLarge``); any other problem is listed, entry by entry.
    """
    if isinstance(raw, list) and len(raw) > MAX_ENTRIES_PER_REQUEST:
        raise RequestTooLarge(
            f"At most {MAX_ENTRIES_PER_REQUEST} entries per request; send the others in further requests.",
            details={"entries": len(raw)},
        )
    entries, problems = parse_entries(raw)
    problems.extend(attachment_problems(entries, file))
    problems.extend(repeated_problems(entries))
    problems.extend(size_problems(entries))
    return CheckedEntries(entries, problems)


def refusal(problems: Sequence[EntryProblem]) -> InvalidRequest:
    """What ``POST .../entries`` answers when the checks found problems: all of them, nothing stored."""
    count = len(problems)
    return InvalidRequest(
        f"The entries were not accepted: {count} problem{'s' if count > 1 else ''} to fix. "
        "Nothing was stored.",
        code="INVALID_ENTRIES",
        details={"problems": [p.as_dict() for p in problems]},
    )
