"""A key whose budget is spent never holds the worker: its messages go back with the delay they need."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.upload_world import SOCIETY, World
from tra_core.domain.lifecycle import EntryStatus
from tra_core.store.errors import RateBudgetBusy
from upload.ports import UploadPolicy


def test_a_spent_budget_postpones_the_messages_before_any_work(world: World) -> None:
    # Given the key's budget is booked for 9.5 s by another worker's uploads
    world.myunisoft.budget_wait_s = 9.5
    deliveries = world.post(world.entry("e-1"), world.entry("e-2", reference="F-2"))

    # When the worker receives the entries
    report = world.run(deliveries)

    # Then they are queued again to come back a little before the budget frees, the received
    # messages are deleted (no receive spent), and nothing was rendered, archived or sent
    assert report.failed == []
    assert (report.counts["budget_busy"], report.counts["postponed"]) == (1, 2)
    assert sorted((r.entry_id, delay) for r, delay in world.queue.postponed) == [("e-1", 8.0), ("e-2", 8.0)]
    assert world.myunisoft.calls == [] and world.archives.items == {} and world.batches.items == {}
    assert [(world.record(e).status, world.record(e).attempts) for e in ("e-1", "e-2")] == [
        (EntryStatus.QUEUED, 0)
    ] * 2

    # And once the budget has room, the redelivered messages are uploaded in one archive
    world.myunisoft.budget_wait_s = 0.0
    again = [world.delivery(request) for request, _ in world.queue.postponed]
    assert world.run(again).failed == []
    assert len(world.myunisoft.calls) == 1
    assert world.record("e-1").status is EntryStatus.UPLOADED


def test_a_wait_within_the_workers_short_wait_is_waited_for(world: World) -> None:
    # Given the key's next place is 1.5 s away (the worker's limit is 2 s)
    world.myunisoft.budget_wait_s = 1.5
    deliveries = world.post(world.entry())

    # When the worker handles the entry, then it is uploaded at once
    assert world.run(deliveries).failed == []
    assert world.record().status is EntryStatus.UPLOADED
    assert world.queue.postponed == []


def test_a_budget_taken_by_another_worker_at_send_time_postpones_the_frozen_batch(world: World) -> None:
    # Given the budget looked free, but another worker booked it before this one's upload
    world.myunisoft.script = [RateBudgetBusy("busy", details={"wait_s": 6.4})]
    deliveries = world.post(world.entry())

    # When the worker handles the entry
    report = world.run(deliveries)

    # Then the message is queued again for the budget, the entry still holds its frozen batch
    assert report.failed == [] and report.counts["rate_limited"] == 1
    assert [delay for _, delay in world.queue.postponed] == [5.0]
    record = world.record()
    frozen = world.myunisoft.calls[0].archive
    assert record.batch_id is not None and record.attempts == 0

    # And the redelivery sends the same archive, which is imported; no attempt was counted for the wait
    again = [world.delivery(request) for request, _ in world.queue.postponed]
    assert world.run(again).failed == []
    assert world.myunisoft.calls[-1].archive == frozen
    assert (world.record().status, world.record().attempts) == (EntryStatus.UPLOADED, 1)


def test_a_budget_taken_while_the_archive_is_formed_sends_the_messages_back_unfrozen(world: World) -> None:
    # Given the budget looked free, but other workers booked it while this one formed its archive
    world.myunisoft.reserve_wait_s = 6.4
    deliveries = world.post(world.entry("e-1"), world.entry("e-2", reference="F-2"))

    # When the worker handles the entries
    report = world.run(deliveries)

    # Then the messages are queued again for the budget before any batch was claimed: the entries
    # come back free to join any archive, nothing was stored or sent, no attempt was counted
    assert report.failed == [] and (report.counts["budget_busy"], report.counts["postponed"]) == (1, 2)
    assert sorted(delay for _, delay in world.queue.postponed) == [5.0, 5.0]
    assert world.batches.items == {} and world.archives.items == {} and world.myunisoft.calls == []
    assert [(world.record(e).batch_id, world.record(e).attempts) for e in ("e-1", "e-2")] == [(None, 0)] * 2

    # And the redelivery, the budget free, uploads both in one archive with its start reserved
    world.myunisoft.reserve_wait_s = None
    assert world.run([world.delivery(request) for request, _ in world.queue.postponed]).failed == []
    assert len(world.myunisoft.calls) == 1 and world.myunisoft.budget_reserved == 2
    assert world.record("e-2").status is EntryStatus.UPLOADED


def test_the_smallest_file_of_an_invocation_goes_first(world: World) -> None:
    # Given one invocation holding three entries of one file, then a lone entry of another file
    world.add_file(202, name="GARAGE")
    big = world.post(*(world.entry(f"a-{i}", reference=f"A-{i}") for i in range(3)))
    lone = world.post(world.entry("b-1"), society_id=202)

    # When the worker handles them
    assert world.run(big + lone).failed == []

    # Then the lone entry was sent first, then the others' archive
    assert [call.society_id for call in world.myunisoft.calls] == [202, SOCIETY]


@pytest.mark.parametrize(
    ("wait_s", "delay_s"), [(2.1, 1.0), (3.4, 2.0), (9.5, 8.0), (10.5, 9.0), (0.2, 1.0), (60.0, 59.0)]
)
def test_a_postponed_message_returns_with_at_most_the_short_wait_left(wait_s: float, delay_s: float) -> None:
    policy = UploadPolicy(budget_wait_s=2.0)
    delay = policy.budget_delay(wait_s)
    assert delay == delay_s
    assert delay == int(delay)  # SQS delays are whole seconds: this one is not rounded up late
    assert wait_s - delay <= policy.budget_wait_s or delay == 1.0


def test_a_budget_spent_by_the_runs_first_archive_postpones_the_next_before_it_is_formed(
    world: World,
) -> None:
    # Given archives of one entry, and a budget that the first upload books 9 s ahead
    world.policy = dataclasses.replace(world.policy, batch_max_entries=1)
    world.myunisoft.script = [lambda upload: setattr(world.myunisoft, "budget_wait_s", 9.0)]
    deliveries = world.post(world.entry("e-1"), world.entry("e-2", reference="F-2"))

    # When the worker handles both entries
    report = world.run(deliveries)

    # Then the first is uploaded, the second postponed without an archive formed for it
    assert report.failed == [] and report.counts["postponed"] == 1
    assert world.record("e-1").status is EntryStatus.UPLOADED
    second = world.record("e-2")
    assert (second.status, second.batch_id) == (EntryStatus.QUEUED, None)
    assert len(world.archives.items) == 1 and len(world.myunisoft.calls) == 1
