"""The local stack's moto server: queue attributes computed on demand, the same as moto's."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from moto.sqs.models import Queue

from local.moto_server import QueueAttributes, patch

ORIGINAL = Queue.attributes
ORIGINAL_MESSAGES = Queue.messages
ORIGINAL_DELETE = Queue.delete_message


def test_the_lazy_attributes_equal_motos_for_every_kind_of_queue() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-3")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sqs.create_queue(
            QueueName="work",
            Attributes={
                "VisibilityTimeout": "1800",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
                "KmsMasterKeyId": "alias/aws/sqs",
                "Policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
            },
        )
        sqs.create_queue(QueueName="work.fifo", Attributes={"FifoQueue": "true"})
        work = sqs.get_queue_url(QueueName="work")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=work,
            Entries=[{"Id": str(i), "MessageBody": "x", "DelaySeconds": i % 2} for i in range(6)],
        )
        sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=2)
        from moto.sqs.models import sqs_backends

        for queue in sqs_backends["123456789012"]["eu-west-3"].queues.values():
            expected = ORIGINAL.fget(queue)  # type: ignore[attr-defined]
            lazy = QueueAttributes(queue)
            assert dict(lazy) == expected
            assert (
                lazy.get("ApproximateNumberOfMessagesDelayed")
                == expected["ApproximateNumberOfMessagesDelayed"]
            )
            assert lazy.get("NoSuchAttribute") is None


def test_a_patched_server_answers_as_before() -> None:
    patch()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="eu-west-3")
            url = sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "0"})["QueueUrl"]
            assert sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "0"})["QueueUrl"] == url
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)]
            )
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert len(got) == 3
            assert attributes["ApproximateNumberOfMessagesNotVisible"] == "3"
            assert attributes["DelaySeconds"] == "0"
    finally:
        Queue.attributes = ORIGINAL  # type: ignore[method-assign]
        Queue.messages = ORIGINAL_MESSAGES  # type: ignore[method-assign]
        Queue.delete_message = ORIGINAL_DELETE  # type: ignore[method-assign]


def test_a_patched_queue_hands_out_deletes_and_counts_as_moto_does() -> None:
    patch()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="eu-west-3")
            url = sqs.create_queue(QueueName="deep")["QueueUrl"]
            for start in range(0, 40, 10):
                sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {
                            "Id": str(i),
                            "MessageBody": f"m{start + i}",
                            "DelaySeconds": 60 if start == 0 else 0,
                        }
                        for i in range(10)
                    ],
                )
            # the ten delayed ones are skipped, the others handed out in order, ten at a time
            first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            assert [m["Body"] for m in first + second] == [f"m{i}" for i in range(10, 30)]
            deleted = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first)],
            )
            assert len(deleted["Successful"]) == 10
            again = sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": first[0]["ReceiptHandle"]}]
            )
            assert len(again["Successful"]) == 1  # deleting twice is no error
            unknown = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": "nope"}])
            assert [f["Code"] for f in unknown["Failed"]] == ["ReceiptHandleIsInvalid"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            counts = [attributes[f"ApproximateNumberOfMessages{s}"] for s in ("", "NotVisible", "Delayed")]
            assert counts == ["10", "10", "10"]
            rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            assert [m["Body"] for m in rest] == [f"m{i}" for i in range(30, 40)]
    finally:
        Queue.attributes = ORIGINAL  # type: ignore[method-assign]
        Queue.messages = ORIGINAL_MESSAGES  # type: ignore[method-assign]
        Queue.delete_message = ORIGINAL_DELETE  # type: ignore[method-assign]
