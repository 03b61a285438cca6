"""The refresh queue (SQS): one message per file to refresh, or per connection to rediscover."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tra_core.store.records import RefreshRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_BATCH = 10


class RefreshQueueError(RuntimeError):
    """SQS refused some messages of a batch."""


class SqsRefreshQueue:
    def __init__(self, client: SQSClient, queue_url: str):
        self._client = client
        self._queue_url = queue_url

    def send(self, requests: Sequence[RefreshRequest]) -> int:
        sent = 0
        for start in range(0, len(requests), _BATCH):
            chunk = requests[start : start + _BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "MessageBody": r.model_dump_json()} for i, r in enumerate(chunk)],
            )
            failed = answer.get("Failed", [])
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise RefreshQueueError(
                    f"{len(failed)} refresh messages were not queued ({', '.join(codes)})"
                )
            sent += len(chunk)
        return sent
