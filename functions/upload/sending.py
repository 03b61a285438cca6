"""Sending a batch whose lease the run holds, and settling its entries from MyUnisoft's answer.

The batch is uploaded with ``HascodeVerif=true`` and ``mandatory_docs=1``. Each POST is counted on
the batch before it starts and its answer recorded after (see ``tra_core.store.batches``), so a
crash never loses track of an upload that may have reached MyUnisoft: ``IMPORT25`` for such a batch
means it is there.
"""

from __future__ import annotations

from tra_core.domain.errors import TraError
from tra_core.myunisoft.errors import RateLimited
from tra_core.store.batches import BatchRecord, BatchStatus
from tra_core.store.errors import budget_wait_s
from upload.answers import ANSWERED, Answer, Outcome, classify
from upload.file_run import FileRun
from upload.settling import (
    INTERRUPTED,
    key_refused,
    settle_failed,
    settle_rejected,
    settle_uploaded,
    transient,
    wait_out_maintenance,
)


def send(
    run: FileRun, batch: BatchRecord, archive: bytes | None, unsettled: int, posted: BatchRecord | None = None
) -> bool:
    """Upload a batch whose lease the run holds, and settle its entries from the answer.

    ``posted``: the batch with this POST already counted (a new batch is claimed with its first
    POST counted, which saves a write); otherwise the POST is counted here before it starts.
    ``True`` when MyUnisoft refused an archive of several entries: the caller bisects it.
    """
    if posted is None and batch.round_attempts >= run.policy.max_attempts:
        # Earlier senders crashed mid-upload too often: stop here rather than loop.
        run.ports.batches.release(batch.batch_id, run.owner)
        settle_failed(run, batch, INTERRUPTED, unsettled)
        return False
    if archive is None:
        archive = run.ports.archives.get(batch.archive_key)
    if posted is None:
        posted = run.ports.batches.record_post(batch.batch_id, run.owner)
    if posted is None:
        run.fates.retry((m.entry_id for m in batch.members), 1.0)
        return False
    run.count("posts")
    try:
        result = run.uploader().upload_tra(
            run.society_id,
            archive,
            hascode_verif=True,
            mandatory_docs=True,
            already_attempted=batch.may_be_imported,
        )
    except ANSWERED as exc:
        return settle_answer(run, batch, posted, classify(exc), unsettled)
    return settle_answer(run, batch, posted, classify(result), unsettled)


def settle_answer(
    run: FileRun, batch: BatchRecord, posted: BatchRecord, answer: Answer, unsettled: int
) -> bool:
    """Record the answer on the batch, then settle its entries (``True``: bisect the batch)."""
    batches, owner, now = run.ports.batches, run.owner, run.ports.clock()
    members = [m.entry_id for m in batch.members]
    if answer.outcome is Outcome.IMPORTED:
        assert answer.result is not None
        request_id = answer.result.request_id
        batches.settle(batch.batch_id, owner, now=now, status=BatchStatus.UPLOADED, request_id=request_id)
        run.count("already_imported" if answer.result.already_imported else "imported")
        settle_uploaded(run, batch.model_copy(update={"request_id": request_id}), unsettled, counted=True)
        return False
    assert answer.error is not None
    if answer.outcome is Outcome.NOT_NOW:
        batches.settle(batch.batch_id, owner, now=now, free=True)
        run.fates.postpone(members, wait_for(run, answer.error))
        run.count("rate_limited")
    elif answer.outcome is Outcome.MAINTENANCE:
        batches.settle(batch.batch_id, owner, now=now, free=True)
        wait_out_maintenance(run, batch, answer.error)
    elif answer.outcome is Outcome.KEY_REFUSED:
        batches.settle(batch.batch_id, owner, now=now, free=True)
        key_refused(run, batch, answer.error, unsettled)
    elif answer.outcome in (Outcome.REFUSED, Outcome.FILE_REFUSED):
        batches.settle(batch.batch_id, owner, now=now, status=BatchStatus.REJECTED, error=answer.issue)
        if answer.outcome is Outcome.REFUSED and len(batch.members) > 1:
            return True
        settle_rejected(run, batch, answer.issue, unsettled, counted=True)
    else:
        batches.settle(batch.batch_id, owner, now=now)
        transient(run, posted, answer.error, unsettled)
    return False


def wait_for(run: FileRun, exc: TraError) -> float:
    """How long to wait before a 429 or a busy budget clears (never less than a second): a 429
    until its reset, a busy budget until a little before it has room (``UploadPolicy.budget_delay``)."""
    wait = budget_wait_s(exc, run.ports.clock().timestamp())
    if wait is None:
        return 2.0
    return wait if isinstance(exc, RateLimited) else run.policy.budget_delay(wait)
