"""Entries waiting for their client file's references go on after each refresh of that file.

Business rule (docs/architecture.md §4): an entry that is right but names what the file lacks (a
fiscal year; a third party the bridge may not create) waits as ``waiting_for_references``. After
every refresh of its file (nightly, or ``POST /files/{id}/refresh``), changed or not, each waiting
entry is queued again (``RESUME``) with a new upload message: the worker checks it afresh against
the new references, so it goes on when nothing is missing any more, and waits again otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.store.entries import UploadRequest
from tra_core.store.ports import EntryRepository, UploadQueue


def resume_waiting(
    connection_id: str,
    society_id: int,
    *,
    entries: EntryRepository,
    uploads: UploadQueue,
    clock: Callable[[], datetime],
) -> int:
    """Queue again every entry of the file that waits for references; how many were queued."""
    now = clock()
    requests: list[UploadRequest] = []
    for record in entries.list_by_status(connection_id, EntryStatus.WAITING_FOR_REFERENCES):
        if record.society_id != society_id:
            continue
        resumed = entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.RESUME,
            expect_status=[EntryStatus.WAITING_FOR_REFERENCES],
            remove=("problems",),
        )
        if resumed is not None:
            requests.append(UploadRequest.of(resumed, "refreshed", now))
    return uploads.send(requests) if requests else 0
