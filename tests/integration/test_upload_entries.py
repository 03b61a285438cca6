"""Entries through the real handlers, DynamoDB Local, moto and the MyUnisoft emulator over HTTP:
intake, the upload worker, statuses, rejections, retries, rate limiting and key revocation."""

from __future__ import annotations

import pytest

from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_bridge import (
    KINDS,
    PDF,
    UploadBridge,
    emulator_fault,
    emulator_imports,
    entry,
    upload_requests,
)
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import read_tra

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> UploadBridge:
    return UploadBridge(stack, monkeypatch)


def test_one_entry_of_each_kind_with_a_pdf_goes_from_queued_to_uploaded(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm and one entry of each kind, each with its own PDF uploaded by the hub
    file_id = bridge.onboard()["files"][0]["file_id"]
    entries = []
    for kind in KINDS:
        key = bridge.upload_document(file_id, f"piece-{kind}.pdf", PDF + kind.encode())
        entries.append(
            entry(f"e-{kind}", kind, attachments=[{"filename": f"piece-{kind}.pdf", "s3_key": key}])
        )

    # When the hub posts them
    posted = bridge.post_entries(file_id, entries)

    # Then they are accepted and readable as queued
    assert posted.status == 202, posted.body
    assert [e["status"] for e in posted.body["entries"]] == ["queued"] * 4
    assert bridge.entry_status(file_id, "e-purchase")["status"] == "queued"

    # When the upload worker runs
    stats = bridge.drain_uploads()

    # Then every entry is uploaded with MyUnisoft's request id, the .tra md5 and one attempt
    assert (stats.failed, stats.errors) == (0, 0)
    for kind in KINDS:
        status = bridge.entry_status(file_id, f"e-{kind}")
        assert status["status"] == "uploaded", status
        assert status["attempts"] == 1
        assert status["request_id"] and status["uploaded_at"] and len(status["tra_md5"]) == 32
    # And MyUnisoft holds a .tra our linter accepts, whose G lines name PDFs present in the archive
    imports = emulator_imports(emulator)
    assert len(imports) == 1
    imported = imports[0]
    tra = imported["tra"].encode("cp1252")
    assert lint_tra(tra) == []
    documents = [line.document for line in read_tra(tra).lines if line.is_document]
    assert sorted(documents) == sorted(f"piece-{kind}.pdf" for kind in KINDS)
    assert set(documents) <= set(imported["attachments"])
    assert sorted(imported["linked_attachments"]) == sorted(documents)
    assert (imported["hascode_verif"], imported["mandatory_docs"]) == (True, True)
    assert bridge.entry_status(file_id, "e-sale")["tra_md5"] == imported["md5"]
    # And the connection counts them
    connection = bridge.call("GET", f"/connections/{file_id.rsplit('.', 1)[0]}").body
    assert connection["entries"]["uploaded"] == 4


def test_every_rejection_reason_is_kept_with_its_message_and_every_entry_has_a_status(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm, a document named as an unaccepted type in its entry, and one never uploaded
    file_id = bridge.onboard()["files"][0]["file_id"]
    pdf_key = bridge.upload_document(file_id, "facture.pdf", PDF)
    missing_key = pdf_key.replace(pdf_key.split("/")[3], "0" * 64)

    def line(account: str, side: str, amount: str = "10.00", subsidiary: str | None = None) -> dict[str, str]:
        return {"account": account, side: amount, **({"subsidiary": subsidiary} if subsidiary else {})}

    supplier = line("401000", "credit", subsidiary="EDF")
    bad = {
        "ACCOUNT_UNKNOWN": entry("r-account", lines=[supplier, line("699999", "debit")]),
        "ACCOUNT_CLOSED": entry("r-closed", lines=[supplier, line("471000", "debit")]),
        # A missing third party or fiscal year alone is created or waited for (test_upload_third_parties,
        # test_upload_waiting); alongside a mistake of the entry, every reason is kept.
        "SUBSIDIARY_UNKNOWN": entry(
            "r-sub", lines=[line("401000", "credit", subsidiary="NOBODY"), line("471000", "debit")]
        ),
        "JOURNAL_UNKNOWN": entry("r-journal", journal="XYZ"),
        "JOURNAL_BLOCKED": entry("r-blocked", journal="ACA"),
        "JOURNAL_ACCOUNT_FORBIDDEN": entry(
            "r-purchase-41", lines=[line("411000", "credit", subsidiary="DURAND"), line("606100", "debit")]
        ),
        "BANK_ACCOUNT_MISSING": entry(
            "r-bank",
            "bank_transaction",
            lines=[line("401000", "debit", subsidiary="EDF"), line("606100", "credit")],
        ),
        "JOURNAL_OPENING_BALANCE": entry("r-an", journal="AN"),
        "FISCAL_YEAR_CLOSED": entry("r-closed-year", date="2025-06-30"),
        "FISCAL_YEAR_MISSING": entry("r-no-year", date="2031-03-01", journal="XYZ"),
        "ATTACHMENT_TYPE": entry("r-exe", attachments=[{"filename": "macro.exe", "s3_key": pdf_key}]),
        "ATTACHMENT_MISSING": entry(
            "r-missing", attachments=[{"filename": "facture.pdf", "s3_key": missing_key}]
        ),
    }
    sales_40x = entry(
        "r-sale-40", "sale", lines=[line("401000", "debit", subsidiary="EDF"), line("706000", "credit")]
    )
    myunisoft_refused = entry("r-myunisoft", reference="REFUSED-BY-MYUNISOFT")

    # When the hub posts them (the one MyUnisoft refuses alone, after the others)
    assert bridge.post_entries(file_id, [*bad.values(), sales_40x]).status == 202
    bridge.drain_uploads()
    emulator_fault(
        emulator,
        route="/api/v1/TRA/partial",
        status=400,
        code="ECR10",
        message="La période est bloquée pour la saisie",
        count=1,
    )
    assert bridge.post_entries(file_id, myunisoft_refused).status == 202
    bridge.drain_uploads()

    # Then each is rejected with its reason, a sentence an accountant understands, and nothing was sent
    for code, raw in bad.items():
        status = bridge.entry_status(file_id, raw["entry_id"])
        assert status["status"] == "rejected", (code, status)
        assert code in [p["code"] for p in status["problems"]], (code, status["problems"])
        assert all(len(p["message"]) > 20 for p in status["problems"])
    assert [p["code"] for p in bridge.entry_status(file_id, "r-sale-40")["problems"]] == [
        "JOURNAL_ACCOUNT_FORBIDDEN"
    ]
    # And MyUnisoft's refusal is kept with its code and message verbatim
    refused = bridge.entry_status(file_id, "r-myunisoft")
    assert refused["status"] == "rejected"
    assert refused["last_error"]["myunisoft_code"] == "ECR10"
    assert refused["last_error"]["myunisoft_message"] == "La période est bloquée pour la saisie"
    assert refused["last_error"]["request_id"]
    assert len(upload_requests(emulator)) == 1
    assert emulator_imports(emulator) == []
    # And nothing is lost: every posted entry has a status
    listed = {e["entry_id"]: e["status"] for e in bridge.list_entries(file_id)}
    assert listed == {raw["entry_id"]: "rejected" for raw in [*bad.values(), sales_40x, myunisoft_refused]}
    assert len(bridge.list_entries(file_id, status="rejected")) == len(listed)

    # And an unbalanced entry never gets that far: intake answers 400 with the reason
    unbalanced = entry("r-unbalanced", lines=[supplier, line("606100", "debit", "9.99")])
    answer = bridge.post_entries(file_id, unbalanced)
    assert (answer.status, answer.error_code) == (400, "INVALID_ENTRIES")
    assert [p["code"] for p in answer.body["error"]["details"]["problems"]] == ["UNBALANCED"]


def test_two_http_500_then_success_give_uploaded_with_three_attempts(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given MyUnisoft's upload answers 500 twice
    file_id = bridge.onboard()["files"][0]["file_id"]
    emulator_fault(emulator, route="/api/v1/TRA/partial", status=500, count=2)

    # When an entry is posted and the worker runs (retries come back through the queue)
    bridge.post_entries(file_id, entry("e-1"))
    stats = bridge.drain_uploads()

    # Then it is uploaded after three attempts, and imported once
    status = bridge.entry_status(file_id, "e-1")
    assert (status["status"], status["attempts"]) == ("uploaded", 3)
    assert stats.failed == 2
    assert [r["status"] for r in upload_requests(emulator)] == [500, 500, 200]
    assert len(emulator_imports(emulator)) == 1


def test_a_429_storm_delays_uploads_without_failing_any(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl
) -> None:
    # Given a worker sending one entry per archive, and MyUnisoft answering the next 12 uploads 429
    # (another application spends the key's budget), then limiting the key far below our budget
    bridge = UploadBridge(stack, monkeypatch, UPLOAD_BATCH_MAX_ENTRIES="1")
    created = bridge.onboard()
    files = [f["file_id"] for f in created["files"]]
    emulator_fault(emulator, route="/api/v1/TRA/partial", status=429, code="ERR-TOO-MANY-REQUEST", count=12)
    emulator.configure(rate_limit=6)
    entries = {file_id: [entry(f"s-{i}", reference=f"STORM-{i}") for i in range(6)] for file_id in files}

    # When 18 entries are posted and the worker runs
    for file_id, raws in entries.items():
        assert bridge.post_entries(file_id, raws).status == 202
    stats = bridge.drain_uploads(max_s=90)

    # Then MyUnisoft answered 429 many times, yet every entry is uploaded, none failed, one attempt each
    answers = [r["status"] for r in upload_requests(emulator)]
    assert answers.count(429) >= 12
    assert answers.count(200) == 18
    assert stats.errors == 0
    for file_id, raws in entries.items():
        for raw in raws:
            status = bridge.entry_status(file_id, raw["entry_id"])
            assert (status["status"], status["attempts"]) == ("uploaded", 1), status
    assert len(emulator_imports(emulator)) == 18


def test_a_revoked_key_parks_entries_until_a_new_key_is_put(
    bridge: UploadBridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm whose key the firm then revokes
    created = bridge.onboard()
    connection_id = created["connection_id"]
    files = [f["file_id"] for f in created["files"]]
    emulator.revoke("demo-firm-key")

    # When entries are posted to two files and the worker runs
    for file_id in files[:2]:
        bridge.post_entries(file_id, [entry("k-1"), entry("k-2", "sale")])
    bridge.drain_uploads()

    # Then they wait for a key (not failed), and the connection says why
    for file_id in files[:2]:
        for entry_id in ("k-1", "k-2"):
            status = bridge.entry_status(file_id, entry_id)
            assert status["status"] == "waiting_for_key", status
            assert status["last_error"]["code"] in {"KEY_REVOKED", "CONNECTION_NOT_ACTIVE"}
    connection = bridge.call("GET", f"/connections/{connection_id}").body
    assert connection["status"] == "revoked"
    assert connection["entries"]["waiting_for_key"] == 4
    refused = upload_requests(emulator)
    assert len(refused) == 1 and refused[0]["code"] == "ERR-API-TOKEN-NOT-FOUND"

    # When a new key of the same firm is put
    replaced = bridge.call("PUT", f"/connections/{connection_id}/key", {"api_key": "demo-firm-key-2"})
    assert replaced.status == 200, replaced.body
    bridge.drain_refresh_queue()
    stats = bridge.drain_uploads()

    # Then every parked entry is uploaded with the new key
    assert stats.errors == 0
    for file_id in files[:2]:
        for entry_id in ("k-1", "k-2"):
            status = bridge.entry_status(file_id, entry_id)
            assert status["status"] == "uploaded", status
            assert status["attempts"] == 1
    assert {i["society_id"] for i in emulator_imports(emulator)} == {
        int(f.rsplit(".", 1)[1]) for f in files[:2]
    }
    assert bridge.call("GET", f"/connections/{connection_id}").body["entries"]["uploaded"] == 4
