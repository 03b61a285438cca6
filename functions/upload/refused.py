"""A refused archive of several entries is never split blindly: MyUnisoft may have kept some of them.

MyUnisoft answers one error per file and no per-line report, and ``TRA/partial`` may import the
valid entries of a refused file (docs/myunisoft-assumptions.md, A15). Re-sending those in smaller
archives would import them twice (new bytes: ``HascodeVerif`` cannot tell). So before the halves
are formed, the file's entries are read back (``verify.readback``): those MyUnisoft holds are
settled ``uploaded`` and ``verified`` with their MyUnisoft id; only the others are split again.

When the read-back must wait (the budget, a 429, maintenance, a failure that may pass), the messages
come back later and the batch, kept ``rejected``, is checked then. When the key cannot read the
export at all, the check is skipped and the archive is split as before (the risk is documented).
"""

from __future__ import annotations

from tra_core.domain.lifecycle import OPEN_STATUSES, Transition
from tra_core.myunisoft.errors import (
    ConcurrencyLimited,
    Maintenance,
    MyUnisoftError,
    RateLimited,
    Transient,
)
from tra_core.store.batches import BatchRecord
from tra_core.store.entries import EntryRecord
from tra_core.store.errors import RateBudgetBusy
from upload.file_run import FileRun
from upload.sending import wait_for
from verify.readback import find_sent, read_back, sent_entry, verified_change

#: Answers after which the read-back is tried again later rather than skipped.
PUT_OFF = (RateLimited, ConcurrencyLimited, Maintenance, Transient, RateBudgetBusy)


def settle_kept(
    run: FileRun, batch: BatchRecord, records: list[EntryRecord], unsettled: int
) -> list[EntryRecord] | None:
    """Settle the members of the refused ``batch`` that MyUnisoft kept; the others (to split), or
    ``None`` when the read-back must wait (their messages come back later)."""
    exports, ids = run.ports.exports, run.ports.ids
    if exports is None or ids is None or run.api_key is None or not records:
        return records
    sent = [sent_entry(r) for r in records]
    reader = exports.open(run.api_key)
    try:
        found = read_back(reader, run.society_id, sent)
    except PUT_OFF as exc:
        run.fates.retry((r.entry_id for r in records), wait_for(run, exc))
        run.count("refused_check_put_off")
        return None
    except MyUnisoftError:
        run.count("refused_unchecked")  # the key cannot read the export: split as before
        return records
    finally:
        reader.close()
    now = run.ports.clock()
    kept: set[str] = set()
    for item in find_sent(ids, records, sent, found):
        change = verified_change(
            item,
            now,
            transition=Transition.UPLOAD,
            expect_status=OPEN_STATUSES,
            expect_batch=batch.batch_id,
            set_values={"tra_md5": batch.tra_md5, "uploaded_at": now.isoformat(), "last_error": None},
            add_attempts=1 + unsettled,
        )
        if ids.claim(change, item.producer_id, now):
            kept.add(item.record.entry_id)
    run.count("kept_by_refused_archive", len(kept))
    run.fates.done(kept)
    return [r for r in records if r.entry_id not in kept]
