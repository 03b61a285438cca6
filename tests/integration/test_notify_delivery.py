"""Webhook delivery through the real parts: retries with the same id, the dead-letter queue, a worker
killed after its status write, tenant isolation, and secret rotation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from local.receiver import WebhookReceiver
from local.services import REPO_ROOT
from local.sqs import sqs_record
from tests.support.fixtures import EmulatorControl, Stack, worker_environment
from tests.support.holding_proxy import HoldingProxy
from tests.support.notify_bridge import NotifyBridge, of_type
from tests.support.upload_bridge import TEST_UPLOAD_SETTINGS, entry

pytestmark = pytest.mark.integration


def fails(times: int, status: int = 503) -> WebhookReceiver:
    """A receiver answering ``status`` to the first ``times`` requests of each event, then 200."""
    return WebhookReceiver(lambda _event_id, before: status if before < times else 200)


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_with_the_same_id(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a webhook whose endpoint fails twice for each event before it accepts it
    bridge = NotifyBridge(stack, monkeypatch)
    with fails(2) as receiver:
        secret = bridge.register(receiver.url)

        # When the firm connects and the worker delivers (backoff of 1 s)
        bridge.connect("demo-firm-key")
        bridge.relay()
        bridge.deliver(until=2.5)

        # Then each event arrived three times with the same webhook-id, the third accepted
        by_id: dict[str, list[int]] = {}
        for delivery in receiver.deliveries:
            by_id.setdefault(delivery.event_id, []).append(delivery.status)
        assert by_id and all(statuses == [503, 503, 200] for statuses in by_id.values())
        # And every attempt carries the same body, signed for that attempt
        for delivery in receiver.deliveries:
            assert delivery.verify(secret)["id"] == delivery.event_id
        assert bridge.dead_webhooks() == []


def test_a_receiver_down_for_the_whole_window_is_dead_lettered_without_blocking_another_tenant(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two tenants: one whose endpoint is down for good, one whose endpoint works, and a short
    # retry window
    bridge = NotifyBridge(stack, monkeypatch, WEBHOOK_RETRY_FOR_SECONDS="6")
    with fails(10_000) as down, WebhookReceiver() as up:
        bridge.register(down.url, tenant="tenant-down")
        secret = bridge.register(up.url, tenant="tenant-up")

        # When both connect the firm and the worker runs past the window
        bridge.connect("demo-firm-key", tenant="tenant-down")
        bridge.connect("demo-firm-key", tenant="tenant-up")
        bridge.relay()
        bridge.deliver(until=8.0)

        # Then the working endpoint got its events, at once, and the other tenant's went to the DLQ
        assert up.verified(secret) and all(e["tenant"] == "tenant-up" for e in up.verified(secret))
        assert all(d.status == 200 for d in up.deliveries)
        dead = bridge.dead_webhooks()
        assert dead and {d["body"]["tenant"] for d in dead} == {"tenant-down"}
        assert {d["reason"] for d in dead} == {"the receiver answered HTTP 503"}
        assert {d["body"]["event_id"] for d in dead} == {d.event_id for d in down.deliveries}
        # after being retried within the window
        attempts = [sum(1 for d in down.deliveries if d.event_id == e["body"]["event_id"]) for e in dead]
        assert min(attempts) >= 2, attempts


def test_a_tenant_receives_only_its_own_events(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two tenants with a webhook each, and a third without one
    bridge = NotifyBridge(stack, monkeypatch)
    with WebhookReceiver() as first, WebhookReceiver() as second:
        first_secret = bridge.register(first.url, tenant="tenant-a")
        second_secret = bridge.register(second.url, tenant="tenant-b")

        # When all three connect the same firm
        ids = {
            t: bridge.connect("demo-firm-key", tenant=t).body["connection_id"]
            for t in ("tenant-a", "tenant-b", "tenant-c")
        }
        bridge.flush()

        # Then each endpoint got only its tenant's events, signed with its own secret
        for receiver, secret, tenant in (
            (first, first_secret, "tenant-a"),
            (second, second_secret, "tenant-b"),
        ):
            events = receiver.verified(secret)
            assert events and len(events) == len(receiver.deliveries)
            assert {e["tenant"] for e in events} == {tenant}
            assert {e["data"]["connection_id"] for e in events} == {ids[tenant]}
        # And the bus has every tenant's events
        assert {e["detail"]["tenant"] for e in bridge.bus_events()} == {"tenant-a", "tenant-b", "tenant-c"}


def test_after_a_rotation_deliveries_verify_with_the_old_and_the_new_secret(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a webhook whose secret the hub rotates
    bridge = NotifyBridge(stack, monkeypatch)
    with WebhookReceiver() as receiver:
        old = bridge.register(receiver.url)
        rotated = bridge.call("POST", "/webhook/secret")
        assert rotated.status == 200 and set(rotated.body) == {"secret"}
        new = rotated.body["secret"]
        assert new.startswith("whsec_") and new != old
        shown = bridge.call("GET", "/webhook")
        assert shown.status == 200 and set(shown.body) == {"url", "created_at"}

        # When events are delivered
        bridge.connect("demo-firm-key")
        bridge.flush()

        # Then each delivery carries two signatures, and each secret alone verifies it
        assert receiver.deliveries
        for delivery in receiver.deliveries:
            assert len(delivery.headers["webhook-signature"].split(" ")) == 2
            assert delivery.verify(old) == delivery.verify(new)


def test_a_deleted_webhook_gets_nothing_more(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    bridge = NotifyBridge(stack, monkeypatch)
    with WebhookReceiver() as receiver:
        bridge.register(receiver.url)
        bridge.connect("demo-firm-key")
        bridge.relay()
        assert bridge.call("DELETE", "/webhook").status == 204
        bridge.deliver()
        assert receiver.deliveries == []
        assert bridge.call("GET", "/webhook").status == 404


def test_a_worker_killed_right_after_its_status_write_still_sends_the_event(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, tmp_path: Path
) -> None:
    # Given an entry whose upload worker is held at MyUnisoft (after it wrote "uploading")
    bridge = NotifyBridge(stack, monkeypatch)
    with WebhookReceiver() as receiver:
        secret = bridge.register(receiver.url)
        file_id = bridge.onboard()["files"][0]["file_id"]
        bridge.post_entries(file_id, entry("kill-1"))
        sqs = stack.session.client("sqs")
        url = stack.ref("UploadQueue")
        (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        arn = stack.resources.get_att("UploadQueue", "Arn")
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps({"Records": [sqs_record(message, arn)]}), encoding="utf-8")
        paths = [str(REPO_ROOT / "functions"), str(REPO_ROOT / "layers" / "tra_core"), str(REPO_ROOT)]
        proxy = HoldingProxy(emulator.url, "/api/v1/TRA/partial")
        with proxy.running():
            env = {
                **worker_environment(stack, "UploadFunction"),
                **TEST_UPLOAD_SETTINGS,
                "PYTHONPATH": os.pathsep.join(paths),
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "MYUNISOFT_BASE_URL": proxy.url,
            }
            command = [
                sys.executable,
                "-m",
                "tests.support.invoke_handler",
                "upload.app.lambda_handler",
                str(event_file),
            ]
            worker = subprocess.Popen(
                command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

            # When the worker is killed before it can do anything after its status write
            assert proxy.arrived.wait(60), "the upload never reached the proxy"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            proxy.release.set()

        # Then the status change it committed still reaches the hub
        bridge.flush()
        changes = [e["data"] for e in of_type(receiver.verified(secret), "entry.status_changed")]
        assert {"entry_id": "kill-1", "previous_status": "queued", "status": "uploading"}.items() <= next(
            c for c in changes if c["status"] == "uploading"
        ).items()
