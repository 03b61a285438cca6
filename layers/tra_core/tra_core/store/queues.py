"""The bridge's SQS queues (refresh, upload and verification): one adapter for sending, pacing retries and
dead-lettering messages.

Retries are paced by the message's visibility: the upload worker sets how long a message stays
hidden (the backoff, or the time until MyUnisoft's rate-limit window resets) and reports it as a
batch item failure, so SQS hands it back then. An entry that exhausted its attempts is ``failed``
and its message is moved to the dead-letter queue by the worker itself, where an operator can
replay it (the queue's redrive policy also catches messages no worker could ever read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from tra_core.store.errors import QueueError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_BATCH = 10
MAX_VISIBILITY_S = 43_200
"""SQS's limit on a message's visibility timeout (12 hours)."""
MAX_DELAY_S = 900
"""SQS's limit on a message's delay (15 minutes)."""


class SqsQueue:
    """One queue (and its dead-letter queue, when the worker moves messages there itself).

    ``kind`` names the messages in errors ("refresh", "upload").
    """

    def __init__(
        self, client: SQSClient, queue_url: str, dead_letter_url: str | None = None, *, kind: str = "queue"
    ):
        self._client = client
        self._queue_url = queue_url
        self._dead_letter_url = dead_letter_url
        self._kind = kind

    def __repr__(self) -> str:
        return f"SqsQueue(queue_url={self._queue_url!r})"

    def send(self, requests: Sequence[BaseModel], delay_s: float = 0.0) -> int:
        """Queue the requests (as JSON), each hidden for ``delay_s`` seconds first (rounded up, at most
        SQS's 15 minutes); returns how many were sent (raises if SQS refused any)."""
        sent = 0
        delay = min(max(int(-(-delay_s // 1)), 0), MAX_DELAY_S)
        for start in range(0, len(requests), _BATCH):
            chunk = requests[start : start + _BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": r.model_dump_json(), "DelaySeconds": delay}
                    for i, r in enumerate(chunk)
                ],
            )
            failed = answer.get("Failed", [])
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise QueueError(f"{len(failed)} {self._kind} messages were not queued ({', '.join(codes)})")
            sent += len(chunk)
        return sent

    def retry_later(self, receipt_handle: str, delay_s: float) -> None:
        """Hide a received message for ``delay_s`` seconds (rounded up), then SQS delivers it again."""
        seconds = min(max(int(-(-delay_s // 1)), 0), MAX_VISIBILITY_S)
        self._client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def dead_letter(self, body: str) -> None:
        """Put a message's body on the dead-letter queue (the caller then deletes the original)."""
        if self._dead_letter_url is None:
            raise QueueError("no dead-letter queue is configured")
        self._client.send_message(QueueUrl=self._dead_letter_url, MessageBody=body)
