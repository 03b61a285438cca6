"""AWS requests per uploaded entry, by service and operation, priced at eu-west-3's list prices.

Verified delivery and events are on: the API, upload, verification, relay and delivery handlers
run in this process against the local services (moto, DynamoDB Local, the emulator, a webhook
receiver) and every botocore call they make is counted (``tests.support.aws_costs``). Two shapes:
a backlog (200 entries of one file posted at once) and a trickle (entries posted one at a time,
each uploaded, verified and notified before the next). The figures are printed for
docs/benchmarks.md ("Cost per entry"); the test asserts only that every entry was uploaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.receiver import WebhookReceiver
from tests.support import bridge as bridge_module
from tests.support import notify_bridge, upload_bridge, verify_bridge
from tests.support.aws_costs import AwsMeter
from tests.support.fixtures import Stack
from tests.support.notify_bridge import NotifyBridge
from tests.support.upload_bridge import entry
from tests.support.verify_bridge import VerifyBridge

pytestmark = pytest.mark.integration

BACKLOG = 200
TRICKLE = 10


class MeteredBridge(NotifyBridge, VerifyBridge):
    """Every function of an upload in this process: API, upload, verification, relay, delivery."""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def metered_bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> tuple[MeteredBridge, AwsMeter]:
    meter = AwsMeter()
    meter.install(monkeypatch)
    for module in (bridge_module, upload_bridge, verify_bridge, notify_bridge):
        loader: Callable[[str], Any] = module.load_handler
        monkeypatch.setattr(
            module, "load_handler", lambda name, loader=loader: meter.wrap(function_name(name), loader(name))
        )
    import api.app

    monkeypatch.setattr(api.app, "lambda_handler", meter.wrap("api", api.app.lambda_handler))
    return MeteredBridge(stack, monkeypatch), meter


def function_name(handler: str) -> str:
    """``upload`` for ``upload.app.lambda_handler``, ``notify.relay`` for ``notify.app.relay_handler``."""
    package, _, function = handler.split(".")
    return package if function == "lambda_handler" else f"{package}.{function.removesuffix('_handler')}"


def memory_mb(stack: Stack) -> int:
    return int(stack.template["Globals"]["Function"]["MemorySize"])


@pytest.mark.parametrize("shape", ["backlog", "trickle"])
def test_aws_requests_and_dollars_per_thousand_uploaded_entries(
    shape: str,
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    receiver: WebhookReceiver,
    record_property: Callable[[str, object], None],
) -> None:
    # Given a connected firm with a webhook, the onboarding's work done
    bridge, meter = metered_bridge(stack, monkeypatch)
    bridge.register(receiver.url)
    file_id = bridge.onboard()["files"][0]["file_id"]
    bridge.drain()
    bridge.flush()
    meter.reset()

    # When entries are posted (at once, or one at a time) and go all the way to verified and notified
    count = BACKLOG if shape == "backlog" else TRICKLE
    raws = [entry(f"c-{i:04d}", reference=f"C-{i:04d}", label=f"Invoice {i}") for i in range(count)]
    for posted in [raws] if shape == "backlog" else [[raw] for raw in raws]:
        assert bridge.post_entries(file_id, posted).status == 202
        bridge.drain()
        bridge.flush()

    # Then every entry is uploaded and verified; the requests and their price are reported
    listed = bridge.list_entries(file_id)
    assert sorted(e["status"] for e in listed) == ["uploaded"] * count
    assert {e["myunisoft"]["verification"] for e in listed} == {"verified"}
    meter.lambda_units(memory_mb(stack))
    dollars = meter.report(count, f"{shape} (durations measured in-process against local services)")
    record_property(f"dollars_per_1000_{shape}", round(sum(dollars.values()), 5))
