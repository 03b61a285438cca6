"""moto's server for the local stack, with its SQS queues' costs proportional to what a call reads.

moto builds every attribute of a queue whenever any one is read, and three of them
(``ApproximateNumberOfMessages``, ``...NotVisible``, ``...Delayed``) walk every message of the
queue. It reads one attribute per message sent (``ContentBasedDeduplication``) and per message
received (``MessageRetentionPeriod``), so each call costs the queue's depth and a receive of 10
messages from a queue of 3,000 took 2.7 s here (a send of 10, 0.9 s): a backlog of thousands of
entries, the very thing the scale benchmarks build, measured moto rather than the bridge.

Two more costs grow with the depth: every receive first lists every visible message of the queue
(walking all of them, in flight and delayed included) to hand out at most ten, and every deleted
message is looked for twice through the whole queue, building a list of receipt handles for each
message on the way (10 ms per receive of 10 from 5,000 messages, several ms per delete). Worse, a
delete rebuilds the message list without the lock a send appends under, so a message sent during
a delete could be lost: a scale run sends and deletes thousands of messages at once.

:func:`patch` swaps ``Queue.attributes`` for a read-only mapping with the same keys and values,
each computed when it is read; ``Queue.messages`` for a lazy view (iterating stops where the
caller stops; ``len`` and truth as before); and ``Queue.delete_message`` for one pass under the
queue's lock, with the same answers. The local stack starts moto with ``python -m
local.moto_server`` (same arguments as ``moto.server``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue


class QueueAttributes(Mapping[str, Any]):
    """A queue's attributes as moto's ``Queue.attributes`` gives them, each computed on access."""

    def __init__(self, queue: Queue):
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]
            names += queue.KMS_ATTRIBUTES
        if queue.policy:
            names.append("Policy")
        if queue.redrive_policy:
            names.append("RedrivePolicy")
        self._names = dict.fromkeys(names)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        # As moto: a set policy overrides the base attribute of the same name (if any).
        if name == "Policy" and self._queue.policy:
            value: Any = self._queue.policy
        elif name == "RedrivePolicy" and self._queue.redrive_policy:
            value = json.dumps(self._queue.redrive_policy)
        else:
            value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class VisibleMessages:
    """The queue's visible, not delayed messages in order, as moto's ``Queue.messages`` lists them,
    found only as far as the caller iterates."""

    def __init__(self, queue: Queue):
        self._queue = queue

    def __iter__(self) -> Iterator[Message]:
        # The list a delete replaces stays whole for whoever iterates it; an append shows or not.
        for message in self._queue._messages:
            if message.visible and not message.delayed:
                yield message

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _attributes(queue: Queue) -> QueueAttributes:
    return QueueAttributes(queue)


def _messages(queue: Queue) -> VisibleMessages:
    return VisibleMessages(queue)


def _delete_message(queue: Queue, receipt_handle: str) -> None:
    """moto's ``Queue.delete_message``: one pass, under the lock sends append under."""
    if receipt_handle in queue.deleted_messages:
        return  # deleting twice is fine, as on SQS
    with queue._messages_lock:
        kept: list[Message] = []
        found = False
        for message in queue._messages:
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
                found = True
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
            else:
                kept.append(message)
        if not found:
            raise ReceiptHandleIsInvalid()
        queue._messages = kept


def patch() -> None:
    """Make moto's queues' attributes and visible messages lazy and its deletes one pass (idempotent)."""
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]
    Queue.messages = property(_messages)  # type: ignore[assignment,method-assign]
    Queue.delete_message = _delete_message  # type: ignore[assignment,method-assign]


def main(argv: list[str] | None = None) -> None:
    """``moto.server``'s command line, with the patch applied first."""
    from moto import server

    patch()
    server.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
