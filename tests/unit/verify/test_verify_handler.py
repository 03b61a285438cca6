"""The verification worker's handler: SQS records parsed into requests, one use case call, metrics and
batch item failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.events import LambdaContext
from tests.support.verifying import VerifyWorld
from tra_core.domain.verification import Verification
from verify import app as verify_app

EVENT = Path(__file__).resolve().parents[3] / "events" / "sqs_verify.json"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> VerifyWorld:
    world = VerifyWorld()
    monkeypatch.setattr(verify_app, "get_ports", lambda: world.verify_ports)
    return world


def test_the_sample_event_is_read_and_names_entries_unknown_here(world: VerifyWorld) -> None:
    # Given the sample event (its entries are not in this world's store)
    event = json.loads(EVENT.read_text(encoding="utf-8"))

    # When the handler runs, then the message is done: nothing to verify, nothing handed back
    assert verify_app.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert world.export.calls == []


def test_a_request_of_the_upload_worker_verifies_its_entry_and_an_unreadable_one_is_dropped(
    world: VerifyWorld,
) -> None:
    # Given an entry uploaded by the worker, its request, and a message no one can read
    world.run(world.post(world.entry("e-1")))
    [(request, _)] = world.verify_queue.sent
    world.verify_queue.sent = []
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    good = {**event["Records"][0], "messageId": "m-1", "body": request.model_dump_json()}
    bad = {**event["Records"][0], "messageId": "m-2", "body": "not json"}

    # When the handler runs on both
    answer = verify_app.lambda_handler({"Records": [good, bad]}, LambdaContext())

    # Then the entry is verified and neither message comes back
    assert answer == {"batchItemFailures": []}
    copy = world.record("e-1").myunisoft
    assert copy is not None and copy.verification is Verification.VERIFIED
