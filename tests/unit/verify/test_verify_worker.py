"""Verified delivery over in-memory fakes: the upload worker queues read-backs, the verifier matches
entries with MyUnisoft's export, and a refused archive is never split before its kept entries are
settled."""

from __future__ import annotations

import pytest

from tests.support.uploads import Upload
from tests.support.verifying import VerifyWorld
from tra_core.domain.lifecycle import EntryStatus
from tra_core.domain.verification import Verification
from tra_core.myunisoft.errors import BusinessRejection, ForbiddenRoute, RateLimited
from tra_core.store.errors import RateBudgetBusy


@pytest.fixture
def world() -> VerifyWorld:
    return VerifyWorld()


def refused(code: str = "COMPTE2") -> BusinessRejection:
    return BusinessRejection("refused", myunisoft_code=code, myunisoft_message="Le compte n'existe pas")


def test_an_uploaded_entry_is_pending_then_verified_with_myunisofts_id(world: VerifyWorld) -> None:
    # Given an entry the worker uploaded
    world.run(world.post(world.entry("e-1")))

    # Then it is uploaded, its verification pending, and one read-back is queued after the delay
    record = world.record("e-1")
    assert record.status is EntryStatus.UPLOADED
    assert record.myunisoft is not None and record.myunisoft.verification is Verification.PENDING
    [(request, delay)] = world.verify_queue.sent
    assert [m.entry_id for m in request.entries] == ["e-1"] and delay == world.policy.verify_delay_s

    # When the verifier reads the file back
    report = world.verify()

    # Then the entry is verified with the producerId of the one entry MyUnisoft exports
    [exported] = world.export.entries()
    record = world.record("e-1")
    assert record.myunisoft is not None
    assert (record.myunisoft.verification, record.myunisoft.entry_id) == (
        Verification.VERIFIED,
        exported.producer_id,
    )
    assert record.myunisoft.verified_at == world.clock()
    assert report.counts["verified"] == 1 and report.counts["read_backs"] == 1
    assert world.verify_queue.sent == []


def test_the_read_backs_of_several_archives_of_a_file_are_one_export_call(world: VerifyWorld) -> None:
    # Given three archives of one file, accepted one after the other
    for n in range(3):
        world.run(world.post(world.entry(f"e-{n}", reference=f"R-{n}", label=f"Invoice {n}")))
    assert len(world.verify_queue.sent) == 3

    # When their requests reach the verifier together
    report = world.verify()

    # Then one export call verified all three, each with its own id
    assert len(world.export.calls) == 1 and report.counts["verified"] == 3
    ids = {world.record(f"e-{n}").myunisoft.entry_id for n in range(3)}  # type: ignore[union-attr]
    assert len(ids) == 3 and None not in ids


def test_twins_verified_one_at_a_time_get_two_different_ids(world: VerifyWorld) -> None:
    # Given two identical entries (the same bank fee twice) uploaded in one archive
    world.run(world.post(world.entry("fee-1"), world.entry("fee-2")))
    assert len(world.export.entries()) == 2
    [(request, _)] = world.verify_queue.sent

    # When the verifier handles a request for each twin in turn (the second after the first's claim)
    for member in request.entries:
        world.verify_queue.sent = [(request.model_copy(update={"entries": (member,)}), 0.0)]
        world.verify()

    # Then each has a different MyUnisoft id, both claimed
    first, other = world.record("fee-1").myunisoft, world.record("fee-2").myunisoft
    assert first is not None and other is not None
    assert {first.verification, other.verification} == {Verification.VERIFIED}
    assert first.entry_id != other.entry_id
    assert {c.entry_id for c in world.ids.items.values()} == {"fee-1", "fee-2"}


def test_a_lost_import_ends_not_found_after_the_checks_and_is_never_sent_again(world: VerifyWorld) -> None:
    # Given an entry MyUnisoft accepted but lost
    world.run(world.post(world.entry("e-1")))
    world.export.lost.add(world.myunisoft.calls[0].tra)

    # When the verifier checks it: after each check but the last it stays pending and comes back later
    for check in (1, 2):
        report = world.verify()
        copy = world.record("e-1").myunisoft
        assert copy is not None and (copy.verification, copy.checks) == (Verification.PENDING, check)
        [(request, delay)] = world.verify_queue.sent
        assert delay == world.verify_policy.interval_s and request.round == 0
        assert report.counts["checks_left"] == 1

    report = world.verify()

    # Then it is not found, counted, nothing more is queued, and it was uploaded only once
    copy = world.record("e-1").myunisoft
    assert copy is not None and (copy.verification, copy.entry_id, copy.checks) == (
        Verification.NOT_FOUND,
        None,
        3,
    )
    assert report.counts["not_found"] == 1 and world.verify_queue.sent == []
    assert world.record("e-1").status is EntryStatus.UPLOADED and len(world.myunisoft.calls) == 1


def test_a_key_without_the_export_makes_the_entries_unavailable(world: VerifyWorld) -> None:
    # Given an uploaded entry and a key whose routes lack the export
    world.run(world.post(world.entry("e-1")))
    world.export.script.append(ForbiddenRoute("no export", myunisoft_code="ERR-FORBIDDEN-ROUTE"))

    # When the verifier runs
    report = world.verify()

    # Then the entry stays uploaded, its verification unavailable, and nothing is queued again
    record = world.record("e-1")
    assert record.status is EntryStatus.UPLOADED
    assert record.myunisoft is not None and record.myunisoft.verification is Verification.UNAVAILABLE
    assert report.counts["unavailable"] == 1 and world.verify_queue.sent == []


@pytest.mark.parametrize(
    "busy", [RateBudgetBusy("busy", details={"wait_s": 4}), RateLimited("429", reset_at=0.0)]
)
def test_a_busy_budget_puts_the_read_back_off_without_spending_a_check(
    world: VerifyWorld, busy: Exception
) -> None:
    # Given an uploaded entry, and a budget with no room for a read-back now
    world.run(world.post(world.entry("e-1")))
    world.export.script.append(busy)  # type: ignore[arg-type]

    # When the verifier runs
    report = world.verify()

    # Then the request comes back later, no check spent; the next run verifies the entry
    copy = world.record("e-1").myunisoft
    assert copy is not None and (copy.verification, copy.checks) == (Verification.PENDING, 0)
    [(request, _)] = world.verify_queue.sent
    assert request.round == 1 and report.counts["deferred"] == 1
    world.verify()
    copy = world.record("e-1").myunisoft
    assert copy is not None and copy.verification is Verification.VERIFIED


def test_a_request_for_entries_not_settled_yet_comes_back_and_is_bounded(world: VerifyWorld) -> None:
    # Given an entry still uploading (the worker queues the read-back just before settling)
    deliveries = world.post(world.entry("e-1"))
    world.myunisoft.script.append(lambda upload: None)
    world.run(deliveries)
    request, _ = world.verify_queue.sent[0]
    world.entries.items[world.record("e-1").key] = world.record("e-1").model_copy(
        update={"status": EntryStatus.UPLOADING, "myunisoft": None}
    )

    # When the verifier gets the request again and again
    rounds = 0
    while world.verify_queue.sent:
        world.verify()
        rounds += 1

    # Then it is put back a bounded number of times, then given up (logged), nothing written
    assert rounds == world.verify_policy.max_rounds + 1
    assert world.record("e-1").myunisoft is None
    assert request.entries[0].entry_id == "e-1"


def partial_commit(world: VerifyWorld, kept: set[int]) -> object:
    """A scripted upload: MyUnisoft keeps the ``kept`` entries of the archive, then refuses it."""

    def step(upload: Upload) -> BusinessRejection:
        world.export.keep(upload.tra, kept)
        return refused()

    return step


def test_a_partially_committed_archive_settles_the_kept_entries_and_resends_only_the_bad_one(
    world: VerifyWorld,
) -> None:
    # Given five entries of one file, the third naming an account MyUnisoft refuses, and MyUnisoft
    # keeping the four good ones of the archive while answering the third one's error
    raws = [world.entry(f"p-{n}", reference=f"P-{n}", label=f"Invoice {n}") for n in range(1, 6)]
    world.myunisoft.script += [partial_commit(world, {1, 2, 4, 5}), refused()]  # type: ignore[list-item]

    # When the worker uploads them
    report = world.run(world.post(*raws))

    # Then the four kept entries are uploaded and verified, without being sent again
    assert report.failed == []
    for n in (1, 2, 4, 5):
        record = world.record(f"p-{n}")
        assert record.status is EntryStatus.UPLOADED, record
        assert record.myunisoft is not None and record.myunisoft.verification is Verification.VERIFIED
    ids = [world.record(f"p-{n}").myunisoft.entry_id for n in (1, 2, 4, 5)]  # type: ignore[union-attr]
    assert len(set(ids)) == 4
    # And only the bad one was sent again, alone, and is rejected with MyUnisoft's code
    assert len(world.myunisoft.calls) == 2
    assert len(world.export.entries()) == 4
    bad = world.record("p-3")
    assert bad.status is EntryStatus.REJECTED
    assert bad.last_error is not None and bad.last_error.myunisoft_code == "COMPTE2"


def test_a_refused_archive_waits_for_the_read_back_before_it_is_split(world: VerifyWorld) -> None:
    # Given a refused archive of three entries, MyUnisoft having kept two, and a 429 on the read-back
    raws = [world.entry(f"p-{n}", reference=f"P-{n}", label=f"Invoice {n}") for n in range(1, 4)]
    world.myunisoft.script += [partial_commit(world, {1, 3}), refused()]  # type: ignore[list-item]
    world.export.script.append(RateLimited("429", reset_at=0.0))
    deliveries = world.post(*raws)

    # When the worker handles them: the split waits, the messages come back
    report = world.run(deliveries)
    assert len(report.failed) == 3 and len(world.myunisoft.calls) == 1
    assert {world.record(f"p-{n}").status for n in (1, 2, 3)} == {EntryStatus.UPLOADING}

    # And when they come back, the read-back settles the kept ones and only the other is sent again
    world.run(deliveries)
    assert [world.record(f"p-{n}").status for n in (1, 2, 3)] == [
        EntryStatus.UPLOADED,
        EntryStatus.REJECTED,
        EntryStatus.UPLOADED,
    ]
    assert len(world.myunisoft.calls) == 2


def test_an_all_or_nothing_refusal_is_split_as_before(world: VerifyWorld) -> None:
    # Given a refused archive of which MyUnisoft kept nothing
    raws = [world.entry(f"p-{n}", reference=f"P-{n}", label=f"Invoice {n}") for n in range(1, 3)]
    world.myunisoft.script += [refused(), refused()]

    # When the worker handles them
    world.run(world.post(*raws))

    # Then the archive was split: the bad one rejected, the good one uploaded and pending verification
    assert len(world.export.calls) == 1
    assert [world.record(f"p-{n}").status for n in (1, 2)] == [EntryStatus.REJECTED, EntryStatus.UPLOADED]
    copy = world.record("p-2").myunisoft
    assert copy is not None and copy.verification is Verification.PENDING


def test_an_entry_whose_label_was_cut_and_transliterated_is_verified(world: VerifyWorld) -> None:
    # Given an entry whose label is longer than 35 characters and holds a character cp1252 lacks
    label = "Łódź warehouse rent, November 2026, second floor and parking"
    world.run(world.post(world.entry("e-1", label=label)))
    [exported] = world.export.entries()
    assert exported.movements[0].description != label  # MyUnisoft holds what the TRA carried

    # When the verifier reads the file back
    world.verify()

    # Then the entry is verified all the same
    copy = world.record("e-1").myunisoft
    assert copy is not None and (copy.verification, copy.entry_id) == (
        Verification.VERIFIED,
        exported.producer_id,
    )
