"""New third parties through the real parts (the handlers, DynamoDB Local, moto, the emulator over
HTTP): created once in MyUnisoft, added to the file's references, entries uploaded and warned."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support.dossiers import add_account, chart, creation_calls
from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_bridge import UploadBridge, emulator_fault, emulator_imports, entry

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> UploadBridge:
    return UploadBridge(stack, monkeypatch)


def supplier_entry(entry_id: str, supplier: str = "NEWCO", **changes: Any) -> dict[str, Any]:
    lines = [
        {
            "account": "401000",
            "subsidiary": supplier,
            "credit": "120.00",
            "third_party": {"name": "NewCo SAS"},
        },
        {"account": "606100", "debit": "100.00"},
        {"account": "445660", "debit": "20.00"},
    ]
    return entry(entry_id, "purchase", lines=lines, **changes)


def references(bridge: UploadBridge, file_id: str) -> dict[str, Any]:
    answer = bridge.call("GET", f"/files/{file_id}/references")
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def subsidiary_numbers(bridge: UploadBridge, file_id: str) -> list[str]:
    return [a["number"] for a in references(bridge, file_id)["subsidiaries"]]


def test_a_new_supplier_and_a_new_customer_are_created_and_uploaded(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm, a purchase from a new supplier (with its SIREN) and a sale to a new customer
    file_id = bridge.onboard()["files"][0]["file_id"]
    society_id = int(file_id.rsplit(".", 1)[1])
    purchase = supplier_entry("buy-1")
    purchase["lines"][0]["third_party"]["siren"] = "552081317"
    sale = entry(
        "sell-1",
        "sale",
        lines=[
            {
                "account": "411000",
                "subsidiary": "ACME",
                "debit": "240.00",
                "third_party": {"name": "Acme SA"},
            },
            {"account": "706000", "credit": "200.00"},
            {"account": "445710", "credit": "40.00"},
        ],
    )
    assert {"401NEWCO", "411ACME"}.isdisjoint(subsidiary_numbers(bridge, file_id))

    # When the hub posts them and the worker runs
    assert bridge.post_entries(file_id, [purchase, sale]).status == 202
    stats = bridge.drain_uploads()

    # Then both are uploaded, each warned that its third party was created
    assert (stats.failed, stats.errors) == (0, 0)
    for entry_id, number in (("buy-1", "401NEWCO"), ("sell-1", "411ACME")):
        status = bridge.entry_status(file_id, entry_id)
        assert status["status"] == "uploaded", status
        created = [w for w in status["warnings"] if w["code"] == "SUBSIDIARY_CREATED"]
        assert [w["result"] for w in created] == [number]
    # And the accounts are in MyUnisoft's chart, with the third parties' names, created once each
    accounts = chart(emulator, society_id)
    assert (accounts["401NEWCO"], accounts["411ACME"]) == ("NewCo SAS", "Acme SA")
    assert sorted(c["status"] for c in creation_calls(emulator)) == [200, 200]
    # And in the file's references, the entries imported in one archive
    assert {"401NEWCO", "411ACME"} <= set(subsidiary_numbers(bridge, file_id))
    assert len(emulator_imports(emulator)) == 1
    # And the next refresh reads the same chart: nothing changed, no new version
    version = references(bridge, file_id)["version"]
    assert bridge.call("POST", f"/files/{file_id}/refresh").status == 202
    bridge.drain_refresh_queue()
    assert references(bridge, file_id)["version"] == version


def test_twenty_entries_of_one_batch_naming_a_new_supplier_make_one_creation_call(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given 20 purchases from the same new supplier, posted at once
    file_id = bridge.onboard()["files"][0]["file_id"]
    posted = bridge.post_entries(file_id, [supplier_entry(f"e-{n}", reference=f"F-{n}") for n in range(20)])
    assert posted.status == 202, posted.body

    # When the worker runs
    bridge.drain_uploads()

    # Then MyUnisoft received one creation call, and all 20 entries were uploaded with the warning
    assert len(creation_calls(emulator)) == 1
    for n in range(20):
        status = bridge.entry_status(file_id, f"e-{n}")
        assert status["status"] == "uploaded"
        assert [w["code"] for w in status["warnings"]].count("SUBSIDIARY_CREATED") == 1
    # And a later entry naming it costs no call: the file's references hold the account
    bridge.post_entries(file_id, supplier_entry("later", reference="F-later"))
    bridge.drain_uploads()
    assert len(creation_calls(emulator)) == 1
    assert bridge.entry_status(file_id, "later")["status"] == "uploaded"


def test_two_workers_racing_to_create_one_account_make_one_account(
    bridge: UploadBridge, emulator: EmulatorControl, stack: Stack
) -> None:
    # Given two entries naming the same new supplier, each in its own worker's hands, and MyUnisoft
    # slow to answer the creation, so that both workers call it before either has recorded it
    file_id = bridge.onboard()["files"][0]["file_id"]
    society_id = int(file_id.rsplit(".", 1)[1])
    bridge.post_entries(file_id, [supplier_entry("a", reference="F-A"), supplier_entry("b", reference="F-B")])
    emulator_fault(emulator, route="/api/v1/account", method="POST", delay_s=1.0, count=2)
    sqs = stack.session.client("sqs")
    received: list[dict[str, Any]] = []
    for _ in range(10):
        answer = sqs.receive_message(
            QueueUrl=stack.ref("UploadQueue"), MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        received.extend(answer.get("Messages", []))
        if len(received) >= 2:
            break
    assert len(received) == 2

    # When two workers handle one message each, at the same time
    failed: list[set[str]] = []
    workers = [
        threading.Thread(target=lambda m=message: failed.append(bridge.poller.invoke([m])))
        for message in received
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    # Then both called MyUnisoft's find-or-create, and MyUnisoft holds one account
    assert failed == [set(), set()]
    assert len(creation_calls(emulator)) == 2
    assert sum(1 for number in chart(emulator, society_id) if number == "401NEWCO") == 1
    # And both entries were uploaded, naming that account
    for entry_id in ("a", "b"):
        assert bridge.entry_status(file_id, entry_id)["status"] == "uploaded"
    for message in received:
        sqs.delete_message(QueueUrl=stack.ref("UploadQueue"), ReceiptHandle=message["ReceiptHandle"])


def test_with_creation_off_the_entry_waits_until_the_account_appears_and_a_refresh(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connection that does not let the bridge create third parties
    connected = bridge.onboard()
    connection_id, file_id = connected["connection_id"], connected["files"][0]["file_id"]
    society_id = int(file_id.rsplit(".", 1)[1])
    patched = bridge.call("PATCH", f"/connections/{connection_id}", {"create_missing_subsidiaries": False})
    assert patched.status == 200, patched.body
    assert patched.body["settings"] == {"create_missing_subsidiaries": False}

    # When an entry naming a missing supplier is posted and the worker runs
    bridge.post_entries(file_id, supplier_entry("e-1"))
    bridge.drain_uploads()

    # Then it waits for the references, its problem listed, nothing created or sent
    status = bridge.entry_status(file_id, "e-1")
    assert status["status"] == "waiting_for_references", status
    assert [p["code"] for p in status["problems"]] == ["SUBSIDIARY_UNKNOWN"]
    assert creation_calls(emulator) == [] and emulator_imports(emulator) == []
    counts = bridge.call("GET", f"/connections/{connection_id}").body["entries"]
    assert counts["waiting_for_references"] == 1

    # When the accountant creates the account in MyUnisoft and the file is refreshed
    add_account(emulator, society_id, "401NEWCO", "NewCo (created by hand)")
    assert bridge.call("POST", f"/files/{file_id}/refresh").status == 202
    bridge.drain_refresh_queue()
    bridge.drain_uploads()

    # Then the entry went on by itself, and the bridge created nothing
    assert bridge.entry_status(file_id, "e-1")["status"] == "uploaded"
    assert creation_calls(emulator) == []
    assert len(emulator_imports(emulator)) == 1
