"""A large post's messages are spread over the time its key's budget needs; a small one goes at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from api.entries import send_paced
from tests.support.upload_world import World

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakePacing:
    """The key's horizon is ``ahead_s`` from now (negative: nothing queued for a while)."""

    ahead_s: float
    entries_per_s: float = 100.0
    admitted: list[tuple[str, int]] = field(default_factory=list)

    def admit(self, key_fingerprint: str, count: int, now_s: float) -> float:
        self.admitted.append((key_fingerprint, count))
        return now_s + self.ahead_s


@dataclass
class RecordingQueue:
    sends: list[tuple[int, float]] = field(default_factory=list)

    def send(self, requests: list[Any], delay_s: float = 0.0) -> int:
        self.sends.append((len(requests), delay_s))
        return len(requests)

    def retry_later(self, receipt_handle: str, delay_s: float) -> None:
        raise AssertionError("the intake never retries")

    def dead_letter(self, body: str) -> None:
        raise AssertionError("the intake never dead-letters")


def _send(ahead_s: float, count: int) -> tuple[RecordingQueue, FakePacing]:
    queue, pacing = RecordingQueue(), FakePacing(ahead_s)
    ports = replace(World().intake, queue=queue, pacing=pacing)
    send_paced("sha256:key", [object()] * count, ports, NOW)  # type: ignore[list-item]
    return queue, pacing


def test_a_key_with_little_queued_sends_its_post_at_once() -> None:
    queue, pacing = _send(ahead_s=-10.0, count=250)
    assert queue.sends == [(250, 0.0)]
    assert pacing.admitted == [("sha256:key", 250)]


def test_a_key_with_a_backlog_has_its_post_delivered_at_the_budgets_pace() -> None:
    # Given the key's queued entries reach 5 s ahead, at 100 entries a second
    queue, _ = _send(ahead_s=5.0, count=250)

    # Then the post's messages come 5, 6 and 7 s from now, a second's worth of uploads each
    assert queue.sends == [(100, 5.0), (100, 6.0), (50, 7.0)]


def test_a_backlog_beyond_sqs_longest_delay_comes_at_that_delay() -> None:
    queue, _ = _send(ahead_s=2000.0, count=10)
    assert queue.sends == [(10, 900.0)]


def test_without_pacing_every_message_goes_at_once() -> None:
    queue = RecordingQueue()
    ports = replace(World().intake, queue=queue)
    send_paced("sha256:key", [object()] * 3, ports, NOW)  # type: ignore[list-item]
    assert queue.sends == [(3, 0.0)]
