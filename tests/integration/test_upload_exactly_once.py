"""Exactly once on MyUnisoft, with real processes: duplicate deliveries racing, and a worker killed
between MyUnisoft's import and its own status write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local.services import REPO_ROOT
from local.sqs import sqs_record
from tests.support.fixtures import EmulatorControl, Stack, worker_environment
from tests.support.holding_proxy import HoldingProxy
from tests.support.upload_bridge import (
    PDF,
    TEST_UPLOAD_SETTINGS,
    UploadBridge,
    emulator_imports,
    entry,
    upload_requests,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> UploadBridge:
    return UploadBridge(stack, monkeypatch)


def receive_one(bridge: UploadBridge) -> dict[str, Any]:
    """Take the upload queue's one message, as SQS hands it to a Lambda."""
    sqs = bridge.stack.session.client("sqs")
    url = bridge.stack.ref("UploadQueue")
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    messages = answer["Messages"]
    assert len(messages) == 1
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs_record(messages[0], arn, "eu-west-3")


def start_worker(
    bridge: UploadBridge, event_file: Path, *, start_at: float = 0.0, **environment: str
) -> subprocess.Popen[str]:
    """The upload handler invoked once, in its own process (a Lambda), with ``event_file``."""
    paths = [str(REPO_ROOT / "functions"), str(REPO_ROOT / "layers" / "tra_core"), str(REPO_ROOT)]
    env = {
        **worker_environment(bridge.stack, "UploadFunction"),
        **TEST_UPLOAD_SETTINGS,
        "PYTHONPATH": os.pathsep.join(paths),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **environment,
    }
    command = [
        sys.executable,
        "-m",
        "tests.support.invoke_handler",
        "upload.app.lambda_handler",
        str(event_file),
        "--start-at",
        str(start_at),
    ]
    return subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_the_same_message_delivered_three_times_at_once_is_imported_once(
    bridge: UploadBridge, emulator: EmulatorControl, tmp_path: Path
) -> None:
    # Given an entry with a document, whose message SQS hands to three Lambdas at the same moment
    file_id = bridge.onboard()["files"][0]["file_id"]
    key = bridge.upload_document(file_id, "facture.pdf", PDF)
    bridge.post_entries(file_id, entry("dup-1", attachments=[{"filename": "facture.pdf", "s3_key": key}]))
    record = receive_one(bridge)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"Records": [record]}), encoding="utf-8")

    # When the three deliveries run concurrently, each in its own process
    start_at = time.time() + 4.0
    workers = [start_worker(bridge, event_file, start_at=start_at) for _ in range(3)]
    answers = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    print("deliveries answered", answers)
    # (the event source mapping deletes the message once one delivery succeeded)
    if any(not a["batchItemFailures"] for a in answers):
        bridge.stack.session.client("sqs").delete_message(
            QueueUrl=bridge.stack.ref("UploadQueue"), ReceiptHandle=record["receiptHandle"]
        )
    bridge.drain_uploads()

    # Then MyUnisoft received one upload and imported it once; the entry is uploaded
    assert len(upload_requests(emulator)) == 1
    assert len(emulator_imports(emulator)) == 1
    status = bridge.entry_status(file_id, "dup-1")
    assert (status["status"], status["attempts"]) == ("uploaded", 1)
    # And at least one delivery stood back while another held the batch, or found it done
    assert sum(1 for a in answers if not a["batchItemFailures"]) >= 1


def test_a_worker_killed_after_the_post_is_finished_by_the_redelivery_with_one_import(
    bridge: UploadBridge, emulator: EmulatorControl, tmp_path: Path
) -> None:
    # Given an entry whose message a worker takes, behind a proxy that lets the upload reach MyUnisoft
    # but holds MyUnisoft's answer back
    file_id = bridge.onboard()["files"][0]["file_id"]
    bridge.post_entries(file_id, entry("kill-1"))
    record = receive_one(bridge)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"Records": [record]}), encoding="utf-8")
    proxy = HoldingProxy(emulator.url, "/api/v1/TRA/partial")
    with proxy.running():
        worker = start_worker(bridge, event_file, MYUNISOFT_BASE_URL=proxy.url)

        # When MyUnisoft has imported the archive and the worker is killed before it hears back
        assert proxy.arrived.wait(60), "the upload never reached the proxy"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        proxy.release.set()

    # Then MyUnisoft holds the entry, but the bridge still shows it being uploaded
    assert len(emulator_imports(emulator)) == 1
    assert bridge.entry_status(file_id, "kill-1")["status"] == "uploading"

    # When SQS delivers the message again (its visibility ran out) and the worker runs
    bridge.stack.session.client("sqs").change_message_visibility(
        QueueUrl=bridge.stack.ref("UploadQueue"), ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
    )
    stats = bridge.drain_uploads()

    # Then the frozen archive was sent again, MyUnisoft answered "already imported", and the entry is
    # uploaded: two POSTs, still one import
    assert stats.errors == 0
    status = bridge.entry_status(file_id, "kill-1")
    assert (status["status"], status["attempts"]) == ("uploaded", 2)
    answers = [(r["status"], r["code"]) for r in upload_requests(emulator)]
    assert answers == [(200, None), (400, "IMPORT25")]
    assert len(emulator_imports(emulator)) == 1
