"""The upload worker answers AWS's own SQS sample event (``sam local generate-event sqs receive-message``).

Its body, ``Hello from SQS!``, is not an upload request: the message is put on the dead-letter queue
(kept for a person to look at, never retried in vain) and the batch reports no failure.
"""

from __future__ import annotations

import pytest

from tests.support.events import LambdaContext, load_event
from tests.support.upload_world import World
from upload import app as upload_app


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    world = World()
    monkeypatch.setattr(upload_app, "get_ports", lambda: world.ports)
    return world


def test_sams_sqs_message_that_is_not_ours_is_dead_lettered_without_a_crash(world: World) -> None:
    # Given SAM's SQS sample event
    event = load_event("aws/sqs_receive_message")

    # When the upload worker gets it
    answer = upload_app.lambda_handler(event, LambdaContext())

    # Then the message is set aside on the dead-letter queue, nothing is uploaded, nothing comes back
    assert answer == {"batchItemFailures": []}
    assert world.queue.dead == ["Hello from SQS!"]
    assert world.myunisoft.calls == []


def test_a_body_of_json_that_is_not_an_object_is_dead_lettered_too(world: World) -> None:
    # Given SAM's sample whose body is JSON, but not one of our messages
    event = load_event("aws/sqs_receive_message")
    bodies = ["null", "[1, 2]", '"text"', "{", "\u00e9\udcff"]
    records = [dict(event["Records"][0], messageId=f"m{i}", body=body) for i, body in enumerate(bodies)]

    # When the upload worker gets them in one batch
    answer = upload_app.lambda_handler({"Records": records}, LambdaContext())

    # Then each is set aside, none crashes the batch
    assert answer == {"batchItemFailures": []}
    assert world.queue.dead == bodies
