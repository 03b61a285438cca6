"""The fate of each queue message of one client file: done (deleted), back later, or dead-lettered.

A message is decided once. The worker reports as batch item failures the messages it scheduled for
a retry (SQS hands them back after the visibility it set) and any left undecided. A message that
only waits for MyUnisoft's budget is *postponed* instead: queued again as a new message delivered
after the delay, and the received one deleted, so that however long a firm's backlog keeps it
waiting, SQS's receive count (which leads to the dead-letter queue) does not grow
(docs/architecture.md §8).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tra_core.store.entries import UploadRequest
from tra_core.store.ports import UploadQueue

logger = logging.getLogger(__name__)

#: SQS's longest delivery delay; a longer wait is a retry (the message's own visibility).
MAX_POSTPONE_S = 900


@dataclass(frozen=True)
class Delivery:
    """One received message: its SQS identity and its request (``None`` when unreadable)."""

    message_id: str
    receipt_handle: str
    body: str
    request: UploadRequest | None


@dataclass
class Report:
    """What one invocation did: the messages to hand back (batch item failures) and counts."""

    failed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


class Fates:
    """The messages of one client file, by entry id, and what becomes of each."""

    def __init__(self, deliveries: Iterable[Delivery], queue: UploadQueue, report: Report):
        self.queue = queue
        self.report = report
        self.deliveries: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            assert delivery.request is not None
            self.deliveries[delivery.request.entry_id].append(delivery)
        self.verdicts: dict[str, float | None] = {}
        """message id → ``None`` (done: delete it) or the delay before it comes back."""

    def _ours(self, entry_ids: Iterable[str]) -> list[Delivery]:
        return [d for entry_id in entry_ids for d in self.deliveries.get(entry_id, [])]

    def done(self, entry_ids: Iterable[str]) -> None:
        """The entries' messages are finished with: they are deleted."""
        for delivery in self._ours(entry_ids):
            self.verdicts[delivery.message_id] = None

    def retry(self, entry_ids: Iterable[str], delay_s: float) -> None:
        """The entries' undecided messages come back after ``delay_s`` seconds."""
        for delivery in self._ours(entry_ids):
            if delivery.message_id not in self.verdicts:
                self.queue.retry_later(delivery.receipt_handle, delay_s)
                self.verdicts[delivery.message_id] = delay_s
                self.report.counts["retried"] += 1

    def postpone(self, entry_ids: Iterable[str], delay_s: float) -> None:
        """The entries' undecided messages are queued again, delivered after ``delay_s`` seconds,
        and the received ones deleted: waiting spends neither an attempt nor a receive."""
        going = [d for d in self._ours(entry_ids) if d.message_id not in self.verdicts]
        if not going:
            return
        if delay_s > MAX_POSTPONE_S:
            self.retry((d.request.entry_id for d in going if d.request is not None), delay_s)
            return
        try:
            self.queue.send([d.request for d in going if d.request is not None], delay_s)
        except Exception:  # the queue refused: the received messages come back by their visibility
            logger.warning("could not queue postponed messages again", exc_info=True)
            self.retry((d.request.entry_id for d in going if d.request is not None), delay_s)
            return
        for delivery in going:
            self.verdicts[delivery.message_id] = None
        self.report.counts["postponed"] += len(going)

    def dead_letter(self, entry_ids: Iterable[str]) -> None:
        """The entries' messages go to the dead-letter queue (their entries are ``failed``)."""
        for delivery in self._ours(entry_ids):
            self.queue.dead_letter(delivery.body)
            self.verdicts[delivery.message_id] = None
            self.report.counts["dead_lettered"] += 1

    def retry_undecided(self, delay_s: float) -> None:
        """Bring back after ``delay_s`` the messages the run left undecided (after an unexpected
        error, or an entry that changed under the run), so the next delivery looks at them again."""
        for deliveries in self.deliveries.values():
            for delivery in deliveries:
                if delivery.message_id not in self.verdicts:
                    self.report.counts["undecided"] += 1
                    try:
                        self.queue.retry_later(delivery.receipt_handle, delay_s)
                    except Exception:  # the queue itself may be the trouble; SQS brings it back anyway
                        logger.warning("could not schedule a retry", exc_info=True)
                        return
                    self.verdicts[delivery.message_id] = delay_s

    def unfinished(self) -> list[str]:
        """Messages to report as failures: those scheduled for a retry, and any left undecided
        (when even scheduling failed: they come back after the queue's visibility timeout)."""
        return [
            d.message_id
            for deliveries in self.deliveries.values()
            for d in deliveries
            if self.verdicts.get(d.message_id, -1.0) is not None
        ]
