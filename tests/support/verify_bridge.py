"""Drive verified delivery through the real handlers in integration tests: the upload worker queues
read-backs on the stack's verification queue and the real verification worker drains it.

``VerifyBridge`` extends ``UploadBridge`` with the verification function's environment (fast checks:
no delay, no interval) and ``drain`` that runs both workers until both queues are empty.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.sqs import load_handler
from tests.support.fixtures import DEMO_SECRET, EmulatorControl, Stack
from tests.support.upload_bridge import UploadBridge
from tests.support.upload_poller import UploadPoller

#: Checks at once, three of them: a lost entry is ``not_found`` within one drain.
TEST_VERIFY_SETTINGS = {
    "VERIFY_DELAY_SECONDS": "0",
    "VERIFY_INTERVAL_SECONDS": "0",
    "VERIFY_MAX_CHECKS": "3",
}
MAD_ROUTE = {"method": "GET", "path": "/api/v1/mad/entries"}


class VerifyBridge(UploadBridge):
    """The API, refresh, upload and verification handlers in this process, against one test stack."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch, **settings: str):
        super().__init__(stack, monkeypatch, **{**TEST_VERIFY_SETTINGS, **settings})
        for name, value in stack.environment("VerifyFunction").items():
            monkeypatch.setenv(name, value)
        for name, value in {**TEST_VERIFY_SETTINGS, **settings}.items():
            monkeypatch.setenv(name, value)
        reset_verify_caches()
        handler = load_handler(stack.template["Resources"]["VerifyFunction"]["Properties"]["Handler"])
        self.verify_poller = UploadPoller(
            stack.ref("VerifyQueue"), handler, batch_size=10, client=stack.session.client("sqs")
        )

    def drain(self, *, rounds: int = 10) -> None:
        """Run the upload worker, then the verification worker, until neither has work left."""
        for _ in range(rounds):
            uploaded = self.drain_uploads().received
            self.verify_poller.stats.received = 0
            verified = self.verify_poller.drain(idle_s=0.3, max_s=60.0).received
            if not uploaded and not verified:
                return

    def myunisoft(self, file_id: str, entry_id: str) -> dict[str, Any]:
        """The entry detail's ``myunisoft`` part."""
        copy: dict[str, Any] = self.entry_status(file_id, entry_id)["myunisoft"]
        return copy


def reset_verify_caches() -> None:
    import verify.wiring

    verify.wiring.reset()


def exported_entries(emulator: EmulatorControl, society_id: int, api_key: str = "demo-firm-key") -> list[Any]:
    """MyUnisoft's export of the dossier's entries of 2026, read as the bridge's key would."""
    response = httpx.get(
        f"{emulator.url}/api/v1/mad/entries",
        params={"version": "1.0.0", "startDate": "2026-01-01", "endDate": "2026-12-31"},
        headers={
            "Authorization": f"Bearer {api_key}",
            "X-Third-Party-Secret": DEMO_SECRET,
            "society-id": str(society_id),
        },
        timeout=10.0,
    )
    response.raise_for_status()
    entries: list[Any] = response.json()
    return entries


def narrow_key(emulator: EmulatorControl, token: str, remove: list[dict[str, str]]) -> None:
    """Take routes off a key's allow-list (``POST /_emulator/keys/{token}/routes``)."""
    response = httpx.post(
        f"{emulator.url}/_emulator/keys/{token}/routes", json={"remove": remove}, timeout=10.0
    )
    response.raise_for_status()


def close_account(emulator: EmulatorControl, society_id: int, number: str) -> None:
    """Close an account in MyUnisoft only (the bridge's references still say it is open)."""
    response = httpx.post(
        f"{emulator.url}/_emulator/dossiers/{society_id}/accounts",
        json={"number": number, "label": number, "closed": True},
        timeout=10.0,
    )
    response.raise_for_status()
