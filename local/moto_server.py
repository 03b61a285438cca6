"""moto's server for the local stack, with SQS queue attributes computed only when read.

moto builds every attribute of a queue whenever any one is read, and three of them
(``ApproximateNumberOfMessages``, ``...NotVisible``, ``...Delayed``) walk every message of the
queue. It reads one attribute per message sent (``ContentBasedDeduplication``) and per message
received (``MessageRetentionPeriod``), so each call costs the queue's depth and a receive of 10
messages from a queue of 3,000 took 2.7 s here (a send of 10, 0.9 s): a backlog of thousands of
entries, the very thing the scale benchmarks build, measured moto rather than the bridge.

:func:`patch` swaps ``Queue.attributes`` for a read-only mapping with the same keys and values,
each computed when it is read; nothing else of moto changes. The local stack starts moto with
``python -m local.moto_server`` (same arguments as ``moto.server``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue


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


def _attributes(queue: Queue) -> QueueAttributes:
    return QueueAttributes(queue)


def patch() -> None:
    """Make every moto queue's ``attributes`` lazy (idempotent)."""
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]


def main(argv: list[str] | None = None) -> None:
    """``moto.server``'s command line, with the patch applied first."""
    from moto import server

    patch()
    server.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
