"""Entries that wait for MyUnisoft instead of failing, through the real parts (the handlers, DynamoDB
Local, moto, the emulator over HTTP): a missing fiscal year, maintenance, identical entries, a re-sent
frozen batch, and a dossier that leaves the key's reach."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.dossiers import add_fiscal_year, hide_dossier
from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_bridge import (
    UploadBridge,
    emulator_fault,
    emulator_imports,
    entry,
    upload_requests,
)

pytestmark = pytest.mark.integration

#: Two bank fees of 5.00 on the same day, with the same reference and label.
FEE: dict[str, Any] = {
    "kind": "bank_transaction",
    "journal": "BQ",
    "date": "2026-11-23",
    "reference": "FRAIS-1123",
    "label": "Frais de tenue de compte",
    "lines": [{"account": "627000", "debit": "5.00"}, {"account": "512000", "credit": "5.00"}],
}


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> UploadBridge:
    return UploadBridge(stack, monkeypatch)


def test_an_entry_in_a_missing_fiscal_year_waits_until_the_year_is_added_and_a_refresh(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm whose dossier has no fiscal year for 2028, and a January 2028 entry
    connected = bridge.onboard()
    file_id = connected["files"][0]["file_id"]
    society_id = int(file_id.rsplit(".", 1)[1])
    bridge.post_entries(file_id, entry("jan-1", date="2028-01-05"))

    # When the worker runs
    bridge.drain_uploads()

    # Then the entry waits for the references with its problem listed, and nothing was sent
    status = bridge.entry_status(file_id, "jan-1")
    assert status["status"] == "waiting_for_references", status
    assert [p["code"] for p in status["problems"]] == ["FISCAL_YEAR_MISSING"]
    assert upload_requests(emulator) == []
    waiting = bridge.list_entries(file_id, status="waiting_for_references")
    assert [e["entry_id"] for e in waiting] == ["jan-1"]

    # When the accountant opens 2028 in MyUnisoft and the file is refreshed
    add_fiscal_year(emulator, society_id, "2028-01-01", "2028-12-31")
    assert bridge.call("POST", f"/files/{file_id}/refresh").status == 202
    bridge.drain_refresh_queue()
    bridge.drain_uploads()

    # Then the entry went on by itself
    status = bridge.entry_status(file_id, "jan-1")
    assert status["status"] == "uploaded", status
    assert len(emulator_imports(emulator)) == 1


def test_identical_twins_are_both_imported_in_separate_uploads_and_in_one(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm
    file_id = bridge.onboard()["files"][0]["file_id"]

    # When two identical bank fees are posted in two uploads, each handled before the next
    bridge.post_entries(file_id, {**FEE, "entry_id": "fee-1"})
    bridge.drain_uploads()
    bridge.post_entries(file_id, {**FEE, "entry_id": "fee-2"})
    bridge.drain_uploads()
    # And two more identical ones in one upload
    bridge.post_entries(file_id, [{**FEE, "entry_id": "fee-3"}, {**FEE, "entry_id": "fee-4"}])
    bridge.drain_uploads()

    # Then all four are uploaded, in three imports of different MD5s
    statuses = {e: bridge.entry_status(file_id, e) for e in ("fee-1", "fee-2", "fee-3", "fee-4")}
    assert {e: s["status"] for e, s in statuses.items()} == dict.fromkeys(statuses, "uploaded")
    imports = emulator_imports(emulator)
    assert len(imports) == 3 and len({i["md5"] for i in imports}) == 3
    assert sum(len(i["entry_ids"]) for i in imports) == 4
    assert [r["code"] for r in upload_requests(emulator)] == [None, None, None]


def test_a_resent_frozen_batch_meets_import25_and_is_taken_as_uploaded(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given MyUnisoft imports the first upload but the connection drops before it answers
    file_id = bridge.onboard()["files"][0]["file_id"]
    emulator_fault(emulator, route="/api/v1/TRA/partial", drop="after", count=1)
    bridge.post_entries(file_id, {**FEE, "entry_id": "fee-1"})

    # When the worker runs (and retries)
    bridge.drain_uploads()

    # Then the same bytes were sent again, refused as a duplicate, and the entry is uploaded once
    answers = [(r["status"], r["code"]) for r in upload_requests(emulator)]
    assert answers == [(0, "CONNECTION-DROPPED"), (400, "IMPORT25")]
    status = bridge.entry_status(file_id, "fee-1")
    assert (status["status"], status["attempts"]) == ("uploaded", 2)
    assert len(emulator_imports(emulator)) == 1


def test_a_long_maintenance_fails_no_entry_and_each_is_imported_once_after_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl
) -> None:
    # Given 3 attempts per entry and short waits: a maintenance that outlasts twice the attempts
    # stands for 30 minutes under the production settings (30 s doubling up to 15 min: 6 waits)
    bridge = UploadBridge(
        stack,
        monkeypatch,
        UPLOAD_MAX_ATTEMPTS="3",
        UPLOAD_RETRY_BASE_SECONDS="0.05",
        UPLOAD_RETRY_MAX_SECONDS="0.4",
    )
    file_id = bridge.onboard()["files"][0]["file_id"]
    bridge.post_entries(file_id, [entry("m-1"), entry("m-2", reference="F-M2")])
    emulator.maintenance(True)

    # When the worker meets the maintenance at least 6 times
    deadline = time.monotonic() + 60
    while sum(r["code"] == "ERR-API-UNDER-MAINTENANCE" for r in upload_requests(emulator)) < 6:
        assert time.monotonic() < deadline
        bridge.poller.poll_once()
        time.sleep(0.05)

    # Then no entry failed or spent an attempt: they are queued, waiting
    for entry_id in ("m-1", "m-2"):
        status = bridge.entry_status(file_id, entry_id)
        assert (status["status"], status["attempts"]) == ("queued", 0), status
        assert status["last_error"]["code"] == "MYUNISOFT_MAINTENANCE"
    assert bridge.dead_letters() == []

    # When the maintenance ends and the worker goes on
    emulator.maintenance(False)
    bridge.drain_uploads()

    # Then each entry was imported once
    for entry_id in ("m-1", "m-2"):
        assert bridge.entry_status(file_id, entry_id)["status"] == "uploaded"
    assert sum(len(i["entry_ids"]) for i in emulator_imports(emulator)) == 2


def test_a_dossier_hidden_from_the_key_is_flagged_by_the_next_discovery_and_its_entries_kept(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm with an uploaded entry in its second file
    connected = bridge.onboard()
    connection_id = connected["connection_id"]
    file = connected["files"][1]
    bridge.post_entries(file["file_id"], entry("kept-1"))
    bridge.drain_uploads()

    # When the dossier leaves the key's reach and the nightly discovery runs
    hide_dossier(emulator, file["society_id"])
    bridge.run_schedule()
    bridge.drain_refresh_queue()

    # Then the file is flagged as not visible, never deleted, and its entry keeps its status
    files = bridge.call("GET", f"/connections/{connection_id}/files").body["files"]
    [flagged] = [f for f in files if f["file_id"] == file["file_id"]]
    assert flagged["visible"] is False and flagged["not_visible_since"]
    assert bridge.entry_status(file["file_id"], "kept-1")["status"] == "uploaded"
    connection = bridge.call("GET", f"/connections/{connection_id}").body
    assert connection["files"]["visible"] == connection["files"]["total"] - 1
