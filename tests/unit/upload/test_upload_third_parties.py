"""The upload worker creates the third parties entries name (over in-memory fakes): once per account,
added to the file's references, warned on each entry; refusals reject, creation off waits."""

from __future__ import annotations

from typing import Any

from tests.support.upload_world import SOCIETY, World
from tra_core.domain.lifecycle import EntryStatus
from tra_core.myunisoft.errors import AccountRefused, BusinessRejection, Maintenance, RateLimited
from tra_core.tra.reader import read_tra

NEWCO_LINES: list[dict[str, Any]] = [
    {
        "account": "401000",
        "subsidiary": "NEWCO",
        "credit": "120.00",
        "third_party": {
            "name": "NewCo SAS",
            "siren": "552081317",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
        },
    },
    {"account": "606100", "debit": "100.00"},
    {"account": "445660", "debit": "20.00"},
]


def newco(world: World, entry_id: str, **changes: Any) -> dict[str, Any]:
    return world.entry(entry_id, lines=NEWCO_LINES, **changes)


def test_a_new_supplier_is_created_once_with_its_details_and_the_entry_uploaded(world: World) -> None:
    # Given a purchase naming a supplier the client file does not have yet
    deliveries = world.post(newco(world, "e-1"))

    # When the worker handles it
    report = world.run(deliveries)

    # Then MyUnisoft's find-or-create was called once, with the third party's name and details
    assert report.failed == []
    [call] = world.accounts.calls
    assert (call.society_id, call.number, call.label) == (SOCIETY, "401NEWCO", "NewCo SAS")
    assert call.third_party is not None
    assert (call.third_party.siren, call.third_party.iban) == ("552081317", "FR7630006000011234567890189")
    # And the entry was uploaded naming the new account, with a SUBSIDIARY_CREATED warning on its line
    record = world.record()
    assert record.status is EntryStatus.UPLOADED
    [warning] = [w for w in record.warnings if w.code == "SUBSIDIARY_CREATED"]
    assert (warning.line, warning.result) == (1, "401NEWCO")
    assert "401NEWCO" in warning.message and "NewCo SAS" in warning.message
    lines = read_tra(world.myunisoft.calls[0].tra).lines
    assert [line.auxiliary for line in lines if line.auxiliary] == ["401NEWCO"]
    # And the file's references hold the account in a new version, the previous one unchanged
    file = world.files.get(world.connection_id, SOCIETY)
    assert file is not None and file.reference_version == 2
    latest = world.snapshots.load(world.connection_id, SOCIETY, 2)
    assert latest is not None
    assert "401NEWCO" in [a.number for a in latest.references.subsidiaries]
    assert latest.changes.subsidiaries.added == ("401NEWCO",)
    first = world.snapshots.load(world.connection_id, SOCIETY, 1)
    assert first is not None and "401NEWCO" not in [a.number for a in first.references.subsidiaries]


def test_twenty_entries_naming_one_new_supplier_make_one_creation_call(world: World) -> None:
    # Given 20 purchases from the same new supplier, delivered together
    deliveries = world.post(*(newco(world, f"e-{n}", reference=f"F-{n}") for n in range(20)))

    # When the worker handles them
    world.run(deliveries)

    # Then the account was created once and every entry was uploaded with the warning
    assert [c.number for c in world.accounts.calls] == ["401NEWCO"]
    for n in range(20):
        record = world.record(f"e-{n}")
        assert record.status is EntryStatus.UPLOADED
        assert [w.code for w in record.warnings].count("SUBSIDIARY_CREATED") == 1
    # And a later entry naming it finds it in the file's references: no call at all
    world.run(world.post(newco(world, "later")))
    assert len(world.accounts.calls) == 1
    later = world.record("later")
    assert later.status is EntryStatus.UPLOADED
    assert "SUBSIDIARY_CREATED" not in [w.code for w in later.warnings]


def test_a_new_customer_without_details_is_created_with_its_code_as_label(world: World) -> None:
    # Given a sale to a customer the file lacks, with no third party given
    sale = world.entry(
        "s-1",
        kind="sale",
        journal="VTE",
        lines=[
            {"account": "411000", "subsidiary": "ACME", "debit": "240.00"},
            {"account": "706000", "credit": "240.00"},
        ],
    )

    # When the worker handles it
    world.run(world.post(sale))

    # Then 411ACME is created under its own code and the sale is uploaded
    [call] = world.accounts.calls
    assert (call.number, call.label, call.third_party) == ("411ACME", "411ACME", None)
    assert world.record("s-1").status is EntryStatus.UPLOADED


def test_myunisofts_refusal_of_the_account_rejects_the_entries_naming_it_with_its_code(world: World) -> None:
    # Given MyUnisoft refuses to create the account (over 20 characters, say)
    refusal = BusinessRejection(
        "refused", myunisoft_code="COMPTE7", myunisoft_message="Le compte est trop long"
    )
    world.accounts.script = [AccountRefused(refusal, "401NEWCO")]
    deliveries = world.post(newco(world, "bad"), world.entry("good", reference="OK-1"))

    # When the worker handles both entries
    world.run(deliveries)

    # Then the entry naming it is rejected with MyUnisoft's code verbatim, and nothing of it is sent
    bad = world.record("bad")
    assert bad.status is EntryStatus.REJECTED
    assert bad.last_error is not None
    assert (bad.last_error.myunisoft_code, bad.last_error.myunisoft_message) == (
        "COMPTE7",
        "Le compte est trop long",
    )
    assert [p.myunisoft_code for p in bad.problems] == ["COMPTE7"]
    # And the other entry went on alone
    assert world.record("good").status is EntryStatus.UPLOADED
    assert len(world.myunisoft.calls) == 1
    assert b"401NEWCO" not in world.myunisoft.calls[0].tra


def test_with_creation_off_the_entry_waits_for_the_third_party(world: World) -> None:
    # Given a connection that does not let the bridge create accounts
    world.connections.set_settings(
        "tenant-a", world.connection_id, create_missing_subsidiaries=False, now=world.clock()
    )
    deliveries = world.post(newco(world, "e-1"))

    # When the worker handles the entry
    report = world.run(deliveries)

    # Then it waits for the references with its problem listed, nothing created or sent
    record = world.record()
    assert record.status is EntryStatus.WAITING_FOR_REFERENCES
    assert [p.code for p in record.problems] == ["SUBSIDIARY_UNKNOWN"]
    assert world.accounts.calls == [] and world.myunisoft.calls == []
    assert report.failed == [] and record.attempts == 0


def test_a_limit_during_creation_waits_for_the_reset_without_an_attempt(world: World) -> None:
    # Given the key's window is spent when the account is to be created
    reset_at = world.clock().timestamp() + 7
    world.accounts.script = [RateLimited("limit", reset_at=reset_at, status=429)]
    deliveries = world.post(newco(world, "e-1"))

    # When the worker handles the entry, then the message comes back
    first = world.run(deliveries)
    world.run(deliveries)

    # Then the first run queued the message again for the reset (the received one is deleted, its
    # receive count spent on nothing); the second created and uploaded it
    assert first.failed == []
    assert [(r.entry_id, delay) for r, delay in world.queue.postponed] == [("e-1", 7.0)]
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.UPLOADED, 1)
    assert len(world.accounts.calls) == 2


def test_maintenance_during_creation_keeps_the_entry_queued_without_an_attempt(world: World) -> None:
    # Given MyUnisoft under maintenance when the account is to be created
    world.accounts.script = [Maintenance("down", myunisoft_code="ERR-API-UNDER-MAINTENANCE")] * 2
    deliveries = world.post(newco(world, "e-1"))

    # When the worker handles the entry twice during the maintenance
    world.run(deliveries)
    world.run(deliveries)

    # Then the entry is still queued, no attempt spent, and the wait grew
    record = world.record()
    assert (record.status, record.attempts, record.maintenance_waits) == (EntryStatus.QUEUED, 0, 2)
    assert world.queue.delays[deliveries[0].receipt_handle] == 20.0  # 10 s, then 20 s
    # And once MyUnisoft is back, the account is created and the entry uploaded
    world.run(deliveries)
    record = world.record()
    assert (record.status, record.attempts, record.maintenance_waits) == (EntryStatus.UPLOADED, 1, 0)
