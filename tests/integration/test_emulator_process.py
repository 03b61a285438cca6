"""The emulator as a separate process, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.fixtures import DEMO_SECRET
from emulator.testing import build_tra_archive
from tra_core.myunisoft import MyUnisoftClient

pytestmark = pytest.mark.integration
StartEmulator = Callable[..., str]

# The example entry of docs/architecture.md §3.1 (the unit tests' conftest is out of reach here).
PURCHASE: dict[str, Any] = {
    "entry_id": "e-2026-000123",
    "kind": "purchase",
    "journal": "ACH",
    "date": "2026-11-20",
    "reference": "F2026-0042",
    "label": "EDF electricity November 2026 meter 12345",
    "due_date": "2026-12-20",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "debit": "0", "credit": "120.00"},
        {"account": "606100", "debit": "100.00", "credit": "0"},
        {"account": "445660", "debit": "20.00", "credit": "0"},
    ],
    "attachments": [
        {"filename": "facture-edf.pdf", "path": "docs/facture-edf.pdf", "content_type": "application/pdf"}
    ],
}


def test_health_on_a_free_port(emulator_url: str) -> None:
    # Given the emulator started with `myunisoft-emulator --port 0`
    # When its health route is called over HTTP
    response = httpx.get(f"{emulator_url}/api/partners/health")

    # Then it answers 200 with JSON and a request id
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["request-id"].startswith("req-")


def test_client_over_http_and_dropped_connection(emulator_url: str) -> None:
    # Given a client of the demo firm and an upload whose answer will be lost
    with MyUnisoftClient(emulator_url, DEMO_SECRET, "demo-firm-key") as client:
        assert client.key_info(extended=True).is_activated
        assert [s.society_id for s in client.list_societies()] == [2101, 2102, 2103]
        httpx.post(f"{emulator_url}/_emulator/faults", json={"route": "/api/v1/TRA/partial", "drop": True})

        # When the archive is uploaded
        result = client.upload_tra(2101, build_tra_archive([PURCHASE]))

    # Then the real socket was closed, the retry met IMPORT25, and MyUnisoft holds one import
    assert result.already_imported and result.attempts == 2
    imports = httpx.get(f"{emulator_url}/_emulator/imports").json()
    assert [i["society_id"] for i in imports] == [2101]


def test_command_line_options(start_emulator: StartEmulator, tmp_path: Path) -> None:
    # Given a fixture file adding a firm and a key, plus generated dossiers and a fast rate limit
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(
        json.dumps(
            {
                "firms": [{"schema_id": 90, "name": "CABINET FICHIER"}],
                "dossiers": [{"society_id": 9001, "schema_id": 90, "name": "SARL FICHIER"}],
                "keys": [{"token": "file-key", "schema_id": 90}],
            }
        ),
        encoding="utf-8",
    )
    url = start_emulator(
        "--fixtures", str(fixtures), "--dossiers", "5", "--rate-limit", "100", "--rate-window", "1"
    )
    headers = {"X-Third-Party-Secret": DEMO_SECRET}

    # Then each option took effect
    own = httpx.get(f"{url}/api/v1/society", headers={**headers, "Authorization": "Bearer file-key"}).json()
    assert [s["name"] for s in own["society_array"]] == ["SARL FICHIER"]
    demo = httpx.get(f"{url}/api/v1/society", headers={**headers, "Authorization": "Bearer demo-firm-key"})
    assert demo.json()["row_numbers"] == 8
    assert demo.headers["X-Rate-Limit-Total"] == "100"


def test_bad_fixture_file_is_reported(start_emulator: StartEmulator, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RuntimeError, match="cannot load the fixtures"):
        start_emulator("--fixtures", str(broken))


def test_slow_upload_times_out_and_the_retry_does_not_import_twice(emulator_url: str) -> None:
    # Given an upload that MyUnisoft answers only after 1 s, and a client that waits 0.3 s
    httpx.post(f"{emulator_url}/_emulator/faults", json={"route": "/api/v1/TRA/partial", "delay_s": 1.0})
    with MyUnisoftClient(
        emulator_url, DEMO_SECRET, "demo-firm-key", timeout=0.3, upload_timeout=0.3
    ) as client:
        # When the archive is uploaded
        result = client.upload_tra(2101, build_tra_archive([PURCHASE]))

    # Then the retry succeeded (or met IMPORT25), and once the slow call finishes there is one import
    assert result.attempts >= 2
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        calls = [
            r
            for r in httpx.get(f"{emulator_url}/_emulator/requests").json()
            if r["path"].endswith("/partial")
        ]
        if len(calls) >= 2 and all(r["status"] for r in calls):
            break
        time.sleep(0.05)
    imports = httpx.get(f"{emulator_url}/_emulator/imports").json()
    assert len(imports) == 1
