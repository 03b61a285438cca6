"""Drive notifications through the real parts in integration tests.

``NotifyBridge`` extends the upload bridge with the two notification functions running in this
process: the relay fed by the test table's own DynamoDB Local stream (``local.streams``, as Lambda's
stream mapping would) and the delivery worker fed by the webhook queue (``local.pollers``, which
leaves the visibility the worker sets, so the worker's backoff is what runs). A rule on the stack's
EventBridge bus (moto) copies every event to a queue the test reads.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from local.pollers import QueuePoller
from local.sqs import load_handler
from local.streams import StreamPoller
from local.topology import read_topology
from tests.support.events import LambdaContext
from tests.support.fixtures import Stack
from tests.support.upload_bridge import UploadBridge

#: Short backoff and retry window, and the loopback receiver allowed (as the local stack does).
TEST_WEBHOOK_SETTINGS = {
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "1",
    "WEBHOOK_RETRY_FOR_SECONDS": "600",
    "WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
}


def reset_notify_caches() -> None:
    import notify.wiring

    notify.wiring.reset()


class NotifyBridge(UploadBridge):
    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch, **settings: str):
        super().__init__(stack, monkeypatch)
        stack.use("RelayFunction", monkeypatch)
        stack.use("DeliveryFunction", monkeypatch)
        for name, value in {**TEST_WEBHOOK_SETTINGS, **settings}.items():
            monkeypatch.setenv(name, value)
        reset_notify_caches()
        topology = read_topology(stack.template, stack.resources.parameters)
        handlers = {name: load_handler(f.handler) for name, f in topology.functions.items()}
        self.invocations = 0

        def invoke(function: str, event: dict[str, Any], _timeout: float | None) -> Any:
            self.invocations += 1
            return handlers[function](event, LambdaContext())

        (stream,) = topology.streams
        self.stream = StreamPoller(
            mapping=stream,
            stream_arn=stack.resources.get_att(stream.table, "StreamArn"),
            invoke=invoke,
            streams=stack.session.client("dynamodbstreams"),
            retry_wait_s=0.05,
        )
        (deliveries,) = [m for m in topology.queues if m.function == "DeliveryFunction"]
        self.deliveries = QueuePoller(
            mapping=deliveries,
            queue_url=stack.ref("WebhookQueue"),
            queue_arn=stack.resources.get_att("WebhookQueue", "Arn"),
            invoke=invoke,
            sqs=stack.session.client("sqs"),
            wait_s=0,
        )
        self.bus_queue = self._bus_rule()

    def _bus_rule(self) -> str:
        """A queue that receives a copy of every event put on the stack's bus."""
        sqs, events = self.stack.session.client("sqs"), self.stack.session.client("events")
        url = sqs.create_queue(QueueName=f"bus-copy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = self.stack.ref("EventBus")
        events.put_rule(
            Name="copy-all", EventBusName=bus, EventPattern=json.dumps({"source": ["myunisoft-bridge"]})
        )
        events.put_targets(Rule="copy-all", EventBusName=bus, Targets=[{"Id": "copy", "Arn": arn}])
        return str(url)

    def register(self, url: str, *, tenant: str | None = None) -> str:
        """PUT /webhook; the secret."""
        answer = self.call("PUT", "/webhook", {"url": url}, tenant=tenant)
        assert answer.status == 200, answer.body
        return str(answer.body["secret"])

    def relay(self, *, idle_s: float = 0.3) -> None:
        """Hand every change of the table's stream so far to the relay."""
        self.stream.drain(idle_s=idle_s, max_s=60)

    def deliver(self, *, until: float = 0.5, max_s: float = 60.0) -> None:
        """Run the delivery worker until the webhook queue stayed empty for ``until`` seconds."""
        deadline = time.monotonic() + max_s
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.deliveries.poll_once():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= until:
                return
            else:
                time.sleep(0.05)

    def flush(self) -> None:
        """Relay the stream, then deliver what it queued."""
        self.relay()
        self.deliver()

    def bus_events(self) -> list[dict[str, Any]]:
        """Every event the bus copied to the test's queue so far (EventBridge envelopes)."""
        sqs = self.stack.session.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=self.bus_queue, MaxNumberOfMessages=10, VisibilityTimeout=600
            )
            messages = answer.get("Messages", [])
            if not messages:
                return found
            found.extend(json.loads(m["Body"]) for m in messages)

    def dead_webhooks(self) -> list[dict[str, Any]]:
        sqs = self.stack.session.client("sqs")
        answer = sqs.receive_message(
            QueueUrl=self.stack.ref("WebhookDeadLetterQueue"),
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            MessageAttributeNames=["All"],
        )
        return [
            {"body": json.loads(m["Body"]), "reason": m["MessageAttributes"]["reason"]["StringValue"]}
            for m in answer.get("Messages", [])
        ]


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == event_type]
