"""Verified delivery, as the upload worker starts it: each accepted archive queues one read-back.

The request names the archive's entry versions and is delivered after ``verify_delay_s`` (MyUnisoft
may show an import a little late), to the verification worker (``verify.use_cases``). It is queued
*before* the entries are settled ``uploaded``: a crash in between re-settles the batch on the next
delivery and queues it again (the worker ignores what is already verified), while a request queued
after could be lost with the crash. The entries are settled with verification ``pending``.
"""

from __future__ import annotations

from typing import Any

from tra_core.domain.verification import Verification
from tra_core.store.batches import BatchRecord
from tra_core.store.entries import MyUnisoftCopy
from tra_core.store.verification import VerifyMember, VerifyRequest
from upload.file_run import FileRun

PENDING = MyUnisoftCopy(verification=Verification.PENDING)


def on_upload(run: FileRun, batch: BatchRecord) -> dict[str, Any]:
    """Queue the read-back of an accepted batch; the values that make its entries ``pending``
    (none when verification is off)."""
    queue = run.ports.verifications
    if queue is None:
        return {}
    request = VerifyRequest(
        tenant=run.tenant,
        connection_id=run.connection_id,
        society_id=run.society_id,
        entries=tuple(VerifyMember(entry_id=m.entry_id, version=m.version) for m in batch.members),
        queued_at=run.ports.clock(),
    )
    queue.send([request], delay_s=run.policy.verify_delay_s)
    run.count("verifications_queued")
    return {"myunisoft": PENDING.as_item()}
