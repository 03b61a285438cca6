"""Entry intake through the real API handler and DynamoDB Local: versions, schema problems, preview,
listing, tenancy, and a failed entry retried from the dead-letter queue."""

from __future__ import annotations

import json

import pytest

from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_bridge import UploadBridge, emulator_fault, emulator_imports, entry, upload_requests
from tra_core.store.entries import UploadRequest

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> UploadBridge:
    return UploadBridge(stack, monkeypatch, UPLOAD_MAX_ATTEMPTS="2")


def test_intake_answers_every_problem_then_queues_and_keeps_versions_in_order(bridge: UploadBridge) -> None:
    # Given a connected firm
    file_id = bridge.onboard()["files"][0]["file_id"]

    # When a list with problems is posted
    bad = bridge.post_entries(
        file_id, [entry("a", journal="ACHATS"), entry("b", currency="USD"), {"entry_id": "c"}]
    )

    # Then every problem is answered, naming its entry, and nothing is stored
    assert (bad.status, bad.error_code) == (400, "INVALID_ENTRIES")
    codes = {(p["entry_id"], p["code"]) for p in bad.body["error"]["details"]["problems"]}
    assert {("a", "JOURNAL_TOO_LONG"), ("b", "CURRENCY_UNSUPPORTED"), ("c", "FIELD_REQUIRED")} <= codes
    assert bridge.list_entries(file_id) == []

    # When version 2 is posted, then version 2 again, then version 1
    first = bridge.post_entries(file_id, entry("a", version=2))
    again = bridge.post_entries(file_id, entry("a", version=2))
    older = bridge.post_entries(file_id, entry("a", version=1))

    # Then the repeat is a no-op and the older version is refused with the stored one named
    assert (first.status, first.body["entries"][0]["outcome"]) == (202, "queued")
    assert (again.status, again.body["entries"][0]["outcome"]) == (202, "unchanged")
    assert (older.status, older.error_code) == (409, "VERSION_OUTDATED")
    assert older.body["error"]["details"]["entries"] == [{"entry_id": "a", "stored_version": 2}]

    # And the queue holds the entry itself, wrapped with its connection and file
    sqs = bridge.stack.session.client("sqs")
    message = sqs.receive_message(QueueUrl=bridge.stack.ref("UploadQueue"), MaxNumberOfMessages=10)[
        "Messages"
    ]
    requests = [UploadRequest.model_validate_json(m["Body"]) for m in message]
    assert {(r.entry_id, r.version, r.society_id) for r in requests} == {
        ("a", 2, int(file_id.rsplit(".", 1)[1]))
    }


def test_the_preview_checks_against_the_files_references_and_sends_nothing(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm whose references were fetched
    file_id = bridge.onboard()["files"][0]["file_id"]

    # When the hub previews a good entry and one posting to a closed fiscal year
    answer = bridge.call(
        "POST", f"/files/{file_id}/entries/preview", [entry("ok"), entry("old", date="2025-03-01")]
    )

    # Then the TRA of the good one, and the reason for the other, come back; nothing was stored or sent
    assert answer.status == 200
    assert answer.body["valid"] is False
    assert answer.body["references_version"] == 1
    assert [(e["entry_id"], e["valid"]) for e in answer.body["entries"]] == [("ok", True), ("old", False)]
    assert answer.body["entries"][1]["problems"][0]["code"] == "FISCAL_YEAR_CLOSED"
    assert answer.body["tra"].startswith("***S5EXPJRLSTD") and "F2026-0042" in answer.body["tra"]
    assert bridge.list_entries(file_id) == []
    assert upload_requests(emulator) == []


def test_entries_are_listed_by_status_page_by_page_and_hidden_from_other_tenants(
    bridge: UploadBridge,
) -> None:
    # Given five entries of a file, two of them rejected
    file_id = bridge.onboard()["files"][0]["file_id"]
    raws = [entry(f"p-{i}") for i in range(3)] + [entry(f"x-{i}", journal="XYZ") for i in range(2)]
    bridge.post_entries(file_id, raws)
    bridge.drain_uploads()

    # Then pages of two cover them all, the filter finds the rejected ones, and another tenant sees nothing
    assert [e["entry_id"] for e in bridge.list_entries(file_id, limit=2)] == [
        "p-0",
        "p-1",
        "p-2",
        "x-0",
        "x-1",
    ]
    assert [e["entry_id"] for e in bridge.list_entries(file_id, status="rejected")] == ["x-0", "x-1"]
    assert bridge.get(f"/files/{file_id}/entries", status="lost").error_code == "INVALID_STATUS"
    other = bridge.call("GET", f"/files/{file_id}/entries/p-0", tenant="tenant-other")
    assert (other.status, other.error_code) == (404, "NOT_FOUND")


def test_a_failed_entry_is_dead_lettered_then_retried_with_the_same_archive(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given MyUnisoft failing every upload for a while (the worker allows 2 attempts here)
    file_id = bridge.onboard()["files"][0]["file_id"]
    emulator_fault(emulator, route="/api/v1/TRA/partial", status=503, count=2)

    # When an entry is posted and the worker runs
    bridge.post_entries(file_id, entry("f-1"))
    bridge.drain_uploads()

    # Then the entry is failed, says why, and its message waits in the dead-letter queue
    failed = bridge.entry_status(file_id, "f-1")
    assert (failed["status"], failed["attempts"]) == ("failed", 2)
    assert failed["last_error"]["code"] == "MYUNISOFT_UNAVAILABLE"
    dead = bridge.dead_letters()
    assert [json.loads(body)["entry"]["entry_id"] for body in dead] == ["f-1"]

    # When the accountant retries it once MyUnisoft is back
    retried = bridge.call("POST", f"/files/{file_id}/entries/f-1/retry")
    bridge.drain_uploads()

    # Then it is uploaded from the same frozen archive (the third POST of the same .tra), once
    assert retried.status == 202 and retried.body["status"] == "queued"
    status = bridge.entry_status(file_id, "f-1")
    assert (status["status"], status["attempts"]) == ("uploaded", 3)
    assert [r["status"] for r in upload_requests(emulator)] == [503, 503, 200]
    assert len(emulator_imports(emulator)) == 1
    assert status["tra_md5"] == emulator_imports(emulator)[0]["md5"]
