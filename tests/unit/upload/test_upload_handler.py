"""The upload handler: an SQS event in, the batch item failures out (ReportBatchItemFailures)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from tests.support.events import LambdaContext, load_event
from tests.support.upload_world import World
from tra_core.domain.entry import Entry
from tra_core.domain.lifecycle import EntryStatus
from tra_core.myunisoft.errors import Transient
from tra_core.store.entries import UploadRequest
from upload import app as upload_app


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    world = World()
    monkeypatch.setattr(upload_app, "get_ports", lambda: world.ports)
    return world


def event_for(world: World, *entry_ids: str) -> dict[str, Any]:
    """``events/sqs_upload.json`` with one record per posted entry."""
    sample = load_event("sqs_upload")["Records"][0]
    records = []
    for delivery in world.post(*(world.entry(e) for e in entry_ids)):
        record = copy.deepcopy(sample)
        record.update(
            messageId=delivery.message_id, receiptHandle=delivery.receipt_handle, body=delivery.body
        )
        records.append(record)
    return {"Records": records}


def test_the_sample_event_is_an_upload_request_wrapping_an_entry() -> None:
    # Given the sample event shared with sam local
    body = load_event("sqs_upload")["Records"][0]["body"]

    # Then it reads as an upload request naming its connection and file, holding a valid entry
    request = UploadRequest.model_validate_json(body)
    assert (request.connection_id, request.society_id, request.entry_id) == (
        "c0123456789abcdef0123",
        2101,
        "e-2026-000123",
    )
    assert Entry.model_validate(request.entry).total == Decimal("120.00")


def test_uploaded_entries_leave_no_batch_item_failure(world: World) -> None:
    # When the handler receives two entries of one file
    answer = upload_app.lambda_handler(event_for(world, "a", "b"), LambdaContext())

    # Then both are uploaded in one archive and no message comes back
    assert answer == {"batchItemFailures": []}
    assert {world.record(e).status for e in ("a", "b")} == {EntryStatus.UPLOADED}
    assert len(world.myunisoft.calls) == 1


def test_a_transient_failure_hands_its_message_back_with_a_backoff(world: World) -> None:
    # Given MyUnisoft failing once
    world.myunisoft.script = [Transient("down", status=502)]
    event = event_for(world, "a")

    # When the handler runs
    answer = upload_app.lambda_handler(event, LambdaContext())

    # Then the message is reported as failed, its visibility set to the first backoff
    message_id = event["Records"][0]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert world.queue.delays == {event["Records"][0]["receiptHandle"]: 10.0}


def test_an_unreadable_record_is_dead_lettered_and_the_others_proceed(world: World) -> None:
    # Given a batch with a record that is not an upload request
    event = event_for(world, "a")
    broken = copy.deepcopy(event["Records"][0])
    broken.update(messageId="broken", body='{"not": "an upload"}')
    event["Records"].append(broken)

    # When the handler runs
    answer = upload_app.lambda_handler(event, LambdaContext())

    # Then nothing comes back: the entry is uploaded, the unreadable body is in the dead-letter queue
    assert answer == {"batchItemFailures": []}
    assert world.queue.dead == ['{"not": "an upload"}']
    assert world.record("a").status is EntryStatus.UPLOADED
