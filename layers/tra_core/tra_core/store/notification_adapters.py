"""Where events go: the stack's EventBridge bus, and the webhook delivery queue (docs/architecture.md §9).

``EventBridgeBus`` puts each event with ``source`` ``myunisoft-bridge``, ``detail-type`` its type
and ``detail`` its JSON, ten per call (EventBridge's limit). ``SqsDeliveryQueue`` carries one
message per event and webhook; the delivery worker hands a failed message back with its own
visibility (the backoff) and moves one that ran out of time to the dead-letter queue itself.
A call that does not store everything raises, so the stream consumer retries the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tra_core.domain.events import EVENT_SOURCE, Event
from tra_core.store.notifications import DeliveryRequest, PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_BATCH = 10


class EventBridgeBus:
    def __init__(self, client: object, bus_name: str):
        self._client = client
        self._bus = bus_name

    def __repr__(self) -> str:
        return f"EventBridgeBus({self._bus!r})"

    def put(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), _BATCH):
            chunk = events[start : start + _BATCH]
            answer = self._client.put_events(  # type: ignore[attr-defined]
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": event.type.value,
                        "Detail": event.to_json(),
                        "EventBusName": self._bus,
                        "Time": event.occurred_at,
                        "Resources": [],
                    }
                    for event in chunk
                ]
            )
            if int(answer.get("FailedEntryCount", 0)):
                raise PublishFailed(
                    f"EventBridge refused {answer['FailedEntryCount']} of {len(chunk)} events"
                )


class SqsDeliveryQueue:
    def __init__(self, client: SQSClient, queue_url: str, dead_letter_url: str | None = None):
        self._client = client
        self._url = queue_url
        self._dead_letter_url = dead_letter_url

    def __repr__(self) -> str:
        return f"SqsDeliveryQueue({self._url!r})"

    def send(self, requests: Sequence[DeliveryRequest]) -> None:
        for start in range(0, len(requests), _BATCH):
            chunk = requests[start : start + _BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": r.model_dump_json()} for i, r in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise PublishFailed(f"SQS refused {len(answer['Failed'])} of {len(chunk)} deliveries")

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        """The message comes back after ``delay_s`` seconds (at most SQS's 12 hours)."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(delay_s, 43_200))
        )

    def dead_letter(self, body: str, reason: str) -> None:
        if self._dead_letter_url is None:
            raise PublishFailed("no dead-letter queue is configured for webhook deliveries")
        self._client.send_message(
            QueueUrl=self._dead_letter_url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )
