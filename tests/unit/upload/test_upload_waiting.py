"""The upload worker waits for MyUnisoft instead of failing (over in-memory fakes): a missing fiscal
year parks the entry, maintenance never spends an attempt, and identical entries are both imported."""

from __future__ import annotations

import hashlib
from datetime import date

from tests.support.upload_world import REFERENCES, World
from tra_core.domain.lifecycle import EntryStatus
from tra_core.domain.references import FiscalYear
from tra_core.myunisoft.errors import Maintenance, Transient
from tra_core.tra.reader import read_tra
from upload.ports import UploadPolicy

MAINTENANCE = Maintenance("MyUnisoft is under maintenance.", myunisoft_code="ERR-API-UNDER-MAINTENANCE")


def test_an_entry_dated_in_no_fiscal_year_waits_with_its_problem(world: World) -> None:
    # Given a January entry of a year the client file has not opened
    deliveries = world.post(world.entry(date="2027-01-05"))

    # When the worker handles it, and the same message is delivered again
    report = world.run(deliveries)
    again = world.run(deliveries)

    # Then it waits for the references with its problem listed, nothing sent, its messages done
    record = world.record()
    assert record.status is EntryStatus.WAITING_FOR_REFERENCES
    assert [p.code for p in record.problems] == ["FISCAL_YEAR_MISSING"]
    assert record.last_error is not None and record.last_error.code == "FISCAL_YEAR_MISSING"
    assert (report.failed, again.failed, report.counts["waiting_for_references"]) == ([], [], 1)
    assert world.myunisoft.calls == [] and record.attempts == 0


def test_an_entry_parked_while_a_refresh_moved_the_references_is_queued_again(world: World) -> None:
    # Given a refresh that stores a new version of the references just as the entry is parked
    deliveries = world.post(world.entry(date="2027-01-05"))
    original = world.entries.update

    def update_then_refresh(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        if kwargs.get("transition") is not None and kwargs["transition"].name == "PARK_FOR_REFERENCES":
            opened = (*REFERENCES.fiscal_years, FiscalYear(start=date(2027, 1, 1), end=date(2027, 12, 31)))
            world.set_references(REFERENCES.model_copy(update={"fiscal_years": opened}))
        return result

    world.entries.update = update_then_refresh  # type: ignore[method-assign]

    # When the worker handles it
    report = world.run(deliveries)

    # Then the entry is queued again and its message comes back at once, instead of waiting a night
    assert world.record().status is EntryStatus.QUEUED
    assert report.failed == [deliveries[0].message_id]
    world.entries.update = original  # type: ignore[method-assign]
    world.run(deliveries)
    assert world.record().status is EntryStatus.UPLOADED


def test_thirty_minutes_of_maintenance_spend_no_attempt_and_fail_nothing(world: World) -> None:
    # Given the production backoff (30 s doubling, at most 15 min, 5 attempts) and MyUnisoft under
    # maintenance for 30 minutes
    world.policy = UploadPolicy(max_attempts=5, retry_base_s=30, retry_max_s=900, lease_s=60)
    ends = world.clock().timestamp() + 30 * 60
    world.myunisoft.script = [lambda upload: MAINTENANCE if world.clock().timestamp() < ends else None] * 50
    deliveries = world.post(world.entry("a"), world.entry("b", reference="F-B"))

    # When every message is delivered again after the delay the worker set, until it is done
    delays: list[float] = []
    while True:
        report = world.run(deliveries)
        if not report.failed:
            break
        assert world.record("a").status is EntryStatus.QUEUED and world.record("a").attempts == 0
        delays.append(world.queue.delays[deliveries[0].receipt_handle])
        world.clock.advance(seconds=delays[-1])

    # Then the waits grew to the cap, no entry ever failed, and each was imported once, at once
    assert delays == [30, 60, 120, 240, 480, 900]
    for entry_id in ("a", "b"):
        record = world.record(entry_id)
        assert (record.status, record.attempts, record.maintenance_waits) == (EntryStatus.UPLOADED, 1, 0)
    assert len(world.myunisoft.imports) == 1
    assert world.queue.dead == []


def test_maintenance_after_an_unknown_outcome_keeps_the_frozen_batch(world: World) -> None:
    # Given an upload whose answer was lost, then MyUnisoft under maintenance
    world.myunisoft.script = [Transient("timeout", status=504), MAINTENANCE, MAINTENANCE]
    deliveries = world.post(world.entry())
    for _ in range(3):
        world.run(deliveries)

    # Then the entry stays in its batch (MyUnisoft may hold it): one counted attempt, two waits
    record = world.record()
    assert (record.status, record.attempts, record.maintenance_waits) == (EntryStatus.UPLOADING, 1, 2)
    # And once MyUnisoft is back, the same bytes are sent and the entry is uploaded
    world.run(deliveries)
    assert len({call.archive for call in world.myunisoft.calls}) == 1
    assert world.record().status is EntryStatus.UPLOADED


def test_identical_entries_in_separate_uploads_are_both_imported(world: World) -> None:
    # Given two bank fees of 5.00 on the same day, same reference and label, sent one after the other
    fee = {
        "kind": "bank_transaction",
        "journal": "BQ",
        "date": "2026-11-23",
        "reference": "FRAIS",
        "label": "Frais bancaires",
        "lines": [{"account": "606100", "debit": "5.00"}, {"account": "512000", "credit": "5.00"}],
    }
    world.run(world.post(world.entry("fee-1", **fee)))
    world.run(world.post(world.entry("fee-2", **fee)))

    # Then both are imported: their files differ only by the batch's tag in the header
    assert [world.record(e).status for e in ("fee-1", "fee-2")] == [EntryStatus.UPLOADED] * 2
    first, second = (call.tra for call in world.myunisoft.calls)
    assert hashlib.md5(first).digest() != hashlib.md5(second).digest()
    assert read_tra(first).lines == read_tra(second).lines
    md5s = {world.record(e).tra_md5 for e in ("fee-1", "fee-2")}
    assert len(md5s) == 2 and len(world.myunisoft.imports) == 2
