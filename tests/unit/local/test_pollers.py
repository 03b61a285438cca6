"""The SQS pollers settle batches the way Lambda's SQS event source mapping does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from moto import mock_aws

from local.pollers import QueuePoller, failed_message_ids, sqs_record
from local.topology import QueueMapping
from tests.support.events import load_event

BATCH = ["m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("payload", "report", "failed"),
    [
        (None, True, set()),
        ({}, True, set()),
        ({"batchItemFailures": []}, True, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, True, {"m2"}),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, False, set()),  # not reported: ignored
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, True, set(BATCH)),  # malformed: whole batch
        ({"batchItemFailures": [{"itemIdentifier": "other"}]}, True, set(BATCH)),
        ({"batchItemFailures": [{"nope": 1}]}, True, set(BATCH)),
        ({"batchItemFailures": "m1"}, True, set(BATCH)),
    ],
)
def test_batch_item_failures_follow_lambdas_rules(payload: Any, report: bool, failed: set[str]) -> None:
    assert failed_message_ids(payload, BATCH, report) == failed


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-3")


def _queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


class _Function:
    """A handler stand-in: records each event, answers with ``answer(event)``."""

    def __init__(self, answer: Any = None):
        self.events: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(self, function: str, event: dict[str, Any], timeout: float | None) -> Any:
        self.events.append(event)
        return self.answer(event) if callable(self.answer) else self.answer


def _poller(sqs: Any, url: str, arn: str, function: _Function, **mapping: Any) -> QueuePoller:
    settings = {"report_item_failures": True, "batch_size": 10, **mapping}
    return QueuePoller(
        mapping=QueueMapping(name="Q", function="Worker", queue="Queue", **settings),
        queue_url=url,
        queue_arn=arn,
        invoke=function,
        sqs=sqs,
        wait_s=0,
    )


def _count(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_records_have_the_shape_lambda_sends(sqs: Any) -> None:
    # Given a message with a string and a binary attribute
    url, arn = _queue(sqs, "shape")
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"kind": "refresh"}',
        MessageAttributes={
            "trace": {"DataType": "String", "StringValue": "abc"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    message = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])[
        "Messages"
    ][0]

    # When it becomes an event record
    record = sqs_record(message, arn)

    # Then it has the sample event's keys, Lambda's camel-case attributes, and Powertools parses it
    sample = load_event("sqs_refresh")["Records"][0]
    assert set(sample) <= set(record)
    assert set(sample["attributes"]) <= set(record["attributes"])
    assert record["messageAttributes"]["trace"] == {
        "stringValue": "abc",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["awsRegion"] == "eu-west-3"
    parsed = SqsModel.model_validate({"Records": [record]})
    assert parsed.Records[0].body == '{"kind": "refresh"}'


def test_success_deletes_and_reported_failures_stay_until_the_visibility_timeout(sqs: Any) -> None:
    # Given three messages and a function that reports the second one failed
    url, arn = _queue(sqs, "partial", VisibilityTimeout="1")
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def fail_b(event: dict[str, Any]) -> dict[str, Any]:
        ids = [r["messageId"] for r in event["Records"] if r["body"] == "b"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}

    function = _Function(fail_b)
    poller = _poller(sqs, url, arn, function)

    # When one batch is polled
    assert poller.poll_once() == 3

    # Then a and c are gone, b is in flight, and it comes back after the queue's visibility timeout
    assert _count(sqs, url) == (0, 1)
    assert (poller.stats.deleted, poller.stats.failed) == (2, 1)
    time.sleep(1.2)
    assert poller.poll_once() == 1
    assert function.events[-1]["Records"][0]["body"] == "b"
    assert function.events[-1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_a_function_error_fails_the_whole_batch_and_batch_size_is_honoured(sqs: Any) -> None:
    url, arn = _queue(sqs, "errors", VisibilityTimeout="60")
    for index in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))

    def crash(event: dict[str, Any]) -> Any:
        raise RuntimeError("worker crashed")

    poller = _poller(sqs, url, arn, _Function(crash), batch_size=3)

    # When a batch is polled and the function raises
    assert poller.poll_once() == 3

    # Then nothing was deleted and the error is recorded
    assert _count(sqs, url) == (1, 3)
    assert poller.stats.function_errors == 1
    assert poller.stats.last_error == "worker crashed"


def test_without_report_item_failures_an_answer_is_a_success(sqs: Any) -> None:
    url, arn = _queue(sqs, "plain")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    poller = _poller(
        sqs, url, arn, _Function({"batchItemFailures": [{"itemIdentifier": "x"}]}), report_item_failures=False
    )
    poller.poll_once()
    assert _count(sqs, url) == (0, 0)


def test_messages_failing_max_receive_count_times_go_to_the_dead_letter_queue(sqs: Any) -> None:
    # Given a queue whose redrive policy allows 2 receives, and a function that always fails
    dlq_url, dlq_arn = _queue(sqs, "dead")
    url, arn = _queue(
        sqs,
        "work",
        VisibilityTimeout="30",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    function = _Function(
        lambda event: {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    )
    poller = _poller(sqs, url, arn, function)
    poller.retry_delay_s = 0  # local shortcut: do not wait 30 s between attempts

    # When it is polled until it stops coming back
    received = [poller.poll_once() for _ in range(4)]

    # Then the function saw it twice, and the queue's redrive policy moved it to the DLQ
    assert received == [1, 1, 0, 0]
    assert len(function.events) == 2
    assert _count(sqs, url) == (0, 0)
    assert _count(sqs, dlq_url) == (1, 0)


def test_a_started_poller_drains_its_queue_and_stops_promptly(sqs: Any) -> None:
    url, arn = _queue(sqs, "threaded")
    for index in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    function = _Function(None)
    poller = _poller(sqs, url, arn, function).start()
    deadline = time.monotonic() + 10
    while poller.stats.deleted < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    poller.stop()
    assert poller.stats.deleted == 12
    assert max(len(e["Records"]) for e in function.events) <= 10
    assert time.monotonic() - started < 3


def test_a_batching_window_gathers_more_than_one_receive_up_to_the_batch_size(sqs: Any) -> None:
    # Given 25 messages and a mapping of 20 per batch with a one-second batching window
    url, arn = _queue(sqs, "window")
    for index in range(25):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    function = _Function(None)
    poller = _poller(sqs, url, arn, function, batch_size=20, batching_window_s=1)

    # When two batches are polled
    assert poller.poll_once() == 20
    assert poller.poll_once() == 5

    # Then the first event held 20 records (two receives), the second the 5 left after the window
    assert [len(event["Records"]) for event in function.events] == [20, 5]


class _Crowd:
    """A handler stand-in that counts the batches inside it at once; the first ``gather`` wait for
    each other (a barrier), so a mapping that cannot run that many together fails them."""

    def __init__(self, gather: int):
        self.barrier = threading.Barrier(gather, timeout=15)
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0
        self.calls = 0

    def __call__(self, function: str, event: dict[str, Any], timeout: float | None) -> Any:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.calls += 1
            first = self.calls <= self.barrier.parties
        try:
            if first:
                self.barrier.wait()  # BrokenBarrierError: fewer ran together than expected
            else:
                time.sleep(0.01)  # long enough for the other pollers to pile in, were they allowed
            return None
        finally:
            with self.lock:
                self.inside -= 1


def test_a_mapping_runs_up_to_its_maximum_concurrency_and_never_more(sqs: Any) -> None:
    # Given 40 messages and a mapping of 3 concurrent batches of 2 messages
    url, arn = _queue(sqs, "concurrent")
    for start in range(0, 40, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        )
    crowd = _Crowd(gather=3)
    poller = _poller(sqs, url, arn, crowd, batch_size=2, max_concurrency=3)
    poller.concurrency = 3

    # When its pollers drain the queue
    poller.start()
    deadline = time.monotonic() + 30
    while poller.stats.deleted < 40 and poller.stats.function_errors == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    poller.stop()

    # Then three batches were in the function together (the barrier let them through), never four,
    # and every message was handled once
    assert poller.stats.function_errors == 0, poller.stats.last_error
    assert crowd.most_inside == 3
    assert poller.stats.peak_in_flight == 3
    assert poller.stats.deleted == 40
    assert _count(sqs, url) == (0, 0)


def test_a_disabled_mapping_receives_nothing_until_enabled_again(sqs: Any) -> None:
    # Given a started poller switched off (UpdateEventSourceMapping Enabled=false)
    url, arn = _queue(sqs, "switched")
    function = _Function(None)
    poller = _poller(sqs, url, arn, function).start()
    poller.enable(False)
    time.sleep(0.3)  # a receive begun before the switch may still finish empty

    # When messages arrive while it is off
    for index in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    time.sleep(1.0)
    untouched = (_count(sqs, url), len(function.events))

    # Then they wait on the queue; switched on, the poller drains them
    poller.enable(True)
    deadline = time.monotonic() + 10
    while poller.stats.deleted < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    poller.stop()
    assert untouched == ((5, 0), 0)
    assert poller.stats.deleted == 5
