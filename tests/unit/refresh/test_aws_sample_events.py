"""The refresh handlers answer AWS's own sample events (``sam local generate-event``) cleanly.

``events/aws/`` holds them verbatim: a scheduled event without ``version`` (EventBridge adds one,
SAM's sample does not), and an SQS message whose body is not one of ours.
"""

from __future__ import annotations

import pytest

from refresh import app as refresh_app
from refresh.use_cases import RefreshPorts
from tests.support.events import LambdaContext, load_event
from tests.support.fakes import InMemoryQueue
from tra_core.store.records import Connection


@pytest.fixture
def handlers(ports: RefreshPorts, monkeypatch: pytest.MonkeyPatch) -> RefreshPorts:
    monkeypatch.setattr(refresh_app, "get_ports", lambda: ports)
    return ports


def test_sams_scheduled_event_without_version_fans_out(
    handlers: RefreshPorts, connection: Connection
) -> None:
    # Given SAM's scheduled event, which carries no "version"
    event = load_event("aws/scheduled_event")
    assert "version" not in event

    # When the schedule handler gets it
    answer = refresh_app.schedule_handler(event, LambdaContext())

    # Then the nightly fan-out runs: one rediscovery and one refresh per file are queued
    assert answer == {"connections": 1, "files": 2, "messages": 3}
    queue = handlers.queue
    assert isinstance(queue, InMemoryQueue)
    assert len(queue.sent) == 3


def test_the_projects_scheduled_event_with_version_still_fans_out(
    handlers: RefreshPorts, connection: Connection
) -> None:
    answer = refresh_app.schedule_handler(load_event("eventbridge_schedule"), LambdaContext())

    assert answer == {"connections": 1, "files": 2, "messages": 3}


def test_sams_sqs_message_that_is_not_ours_is_a_batch_item_failure(handlers: RefreshPorts) -> None:
    # Given SAM's SQS sample, whose body is "Hello from SQS!"
    event = load_event("aws/sqs_receive_message")

    # When the refresh worker gets it
    answer = refresh_app.worker_handler(event, LambdaContext())

    # Then that message alone comes back (and reaches the dead-letter queue after its attempts),
    # nothing was queued or refreshed, and the handler did not crash
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    queue = handlers.queue
    assert isinstance(queue, InMemoryQueue)
    assert queue.sent == []


def test_bodies_of_json_that_is_not_a_refresh_request_are_batch_item_failures(handlers: RefreshPorts) -> None:
    # Given SAM's sample record carrying bodies that are not refresh requests
    sample = load_event("aws/sqs_receive_message")["Records"][0]
    bodies = ["null", "[1, 2]", '"text"', "{", "\u00e9\udcff", '{"kind": "refresh"}']
    records = [dict(sample, messageId=f"m{i}", body=body) for i, body in enumerate(bodies)]

    # When the refresh worker gets them in one batch
    answer = refresh_app.worker_handler({"Records": records}, LambdaContext())

    # Then each comes back alone, and nothing was refreshed
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m{i}"} for i in range(len(bodies))]}
