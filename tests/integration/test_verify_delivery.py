"""Verified delivery through the real handlers, DynamoDB Local, moto and the MyUnisoft emulator over
HTTP: uploaded entries are read back from MyUnisoft's export and matched."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_bridge import KINDS, emulator_fault, emulator_imports, entry, upload_requests
from tests.support.verify_bridge import MAD_ROUTE, VerifyBridge, close_account, exported_entries, narrow_key

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> VerifyBridge:
    return VerifyBridge(stack, monkeypatch)


def society_of(file_id: str) -> int:
    return int(file_id.rsplit(".", 1)[1])


def by_id(exported: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["producerId"]: e for e in exported}


def test_entries_of_every_kind_are_verified_with_myunisofts_ids(
    bridge: VerifyBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm and one entry of each kind, uploaded in one archive
    file_id = bridge.onboard()["files"][0]["file_id"]
    assert bridge.post_entries(file_id, [entry(f"e-{k}", k) for k in KINDS]).status == 202

    # When the upload worker and then the verification worker run
    bridge.drain()

    # Then each entry is verified, its id the producerId of the exported entry of its journal and date
    [imported] = emulator_imports(emulator)
    exported = by_id(exported_entries(emulator, society_of(file_id)))
    assert sorted(exported) == sorted(imported["entry_ids"])
    for kind, raw in KINDS.items():
        copy = bridge.myunisoft(file_id, f"e-{kind}")
        assert copy["verification"] == "verified" and copy["verified_at"], copy
        found = exported[copy["entry_id"]]
        assert (found["journal"]["customerReferenceCode"], found["date"]) == (raw["journal"], raw["date"])
    # And the list shows it, and the connection counts them
    listed = bridge.list_entries(file_id)
    assert {e["myunisoft"]["verification"] for e in listed} == {"verified"}
    connection = bridge.call("GET", f"/connections/{file_id.rsplit('.', 1)[0]}").body
    assert connection["verification"] == {"pending": 0, "verified": 4, "not_found": 0, "unavailable": 0}


def test_twins_in_one_archive_are_verified_with_two_different_ids(
    bridge: VerifyBridge, emulator: EmulatorControl
) -> None:
    # Given two identical bank fees of one day, posted together
    file_id = bridge.onboard()["files"][0]["file_id"]
    twins = [entry(f"fee-{n}", "bank_transaction") for n in (1, 2)]
    assert bridge.post_entries(file_id, twins).status == 202

    # When both workers run
    bridge.drain()

    # Then both are verified, with the two different ids MyUnisoft gave them
    ids = {bridge.myunisoft(file_id, f"fee-{n}")["entry_id"] for n in (1, 2)}
    assert len(ids) == 2 and ids <= set(by_id(exported_entries(emulator, society_of(file_id))))


def test_a_lost_import_is_not_found_and_never_sent_again(
    bridge: VerifyBridge, emulator: EmulatorControl
) -> None:
    # Given MyUnisoft answering success to the next upload but importing nothing
    file_id = bridge.onboard()["files"][0]["file_id"]
    emulator_fault(emulator, route="/api/v1/TRA/partial", lose=True, count=1)
    assert bridge.post_entries(file_id, entry("e-lost")).status == 202

    # When both workers run (three checks, at once in tests)
    bridge.drain()

    # Then the entry stays uploaded, its verification not_found, and it was sent once only
    status = bridge.entry_status(file_id, "e-lost")
    assert status["status"] == "uploaded"
    assert status["myunisoft"] == {"verification": "not_found", "entry_id": None, "verified_at": None}
    assert len(upload_requests(emulator)) == 1
    reads = [r for r in emulator.requests() if r["path"] == "/api/v1/mad/entries"]
    assert len(reads) == 3
    connection = bridge.call("GET", f"/connections/{file_id.rsplit('.', 1)[0]}").body
    assert connection["verification"]["not_found"] == 1


def test_a_partially_committed_archive_imports_each_good_entry_once_and_rejects_the_bad_one(
    bridge: VerifyBridge, emulator: EmulatorControl
) -> None:
    # Given MyUnisoft committing archives in part, and five entries of which one names an account
    # MyUnisoft closed after the bridge read the references
    file_id = bridge.onboard()["files"][0]["file_id"]
    emulator.configure(commit_mode="partial")
    close_account(emulator, society_of(file_id), "625100")
    raws = [entry(f"p-{n}", reference=f"P-{n}", label=f"Invoice {n}") for n in range(1, 5)]
    raws.append(entry("p-bad", "expense_report"))
    assert bridge.post_entries(file_id, raws).status == 202

    # When both workers run
    bridge.drain()

    # Then each good entry is imported exactly once, uploaded and verified
    exported = exported_entries(emulator, society_of(file_id))
    assert len(exported) == 4
    ids = {bridge.myunisoft(file_id, f"p-{n}")["entry_id"] for n in range(1, 5)}
    assert ids == {e["producerId"] for e in exported}
    assert {bridge.entry_status(file_id, f"p-{n}")["status"] for n in range(1, 5)} == {"uploaded"}
    # And the bad one is rejected with MyUnisoft's code, after being sent alone once more
    bad = bridge.entry_status(file_id, "p-bad")
    assert bad["status"] == "rejected" and bad["last_error"]["myunisoft_code"] == "COMPTE32", bad
    assert bad["myunisoft"] is None
    assert len(upload_requests(emulator)) == 2


def test_a_key_without_the_export_leaves_uploads_alone_and_verification_unavailable(
    bridge: VerifyBridge, emulator: EmulatorControl
) -> None:
    # Given a firm whose key may upload but not read the export
    file_id = bridge.onboard()["files"][0]["file_id"]
    narrow_key(emulator, "demo-firm-key", [MAD_ROUTE])
    assert bridge.post_entries(file_id, [entry("e-1"), entry("e-2", "sale")]).status == 202

    # When both workers run
    bridge.drain()

    # Then the entries are uploaded and imported, their verification unavailable
    assert len(emulator_imports(emulator)) == 1
    for entry_id in ("e-1", "e-2"):
        status = bridge.entry_status(file_id, entry_id)
        assert status["status"] == "uploaded"
        assert status["myunisoft"]["verification"] == "unavailable"
