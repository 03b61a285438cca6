"""Each key's upload horizon on DynamoDB Local: posts are admitted one after another, never overlapping."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.support.fixtures import Stack
from tra_core.store.backlog import DynamoDBBacklog

pytestmark = pytest.mark.integration


def _backlog(stack: Stack) -> DynamoDBBacklog:
    # Each instance stands for one API sandbox: they share nothing but the table.
    return DynamoDBBacklog(
        stack.session.client("dynamodb"), stack.ref("StateTable"), entries_per_s=100.0, window_s=10.0
    )


def test_a_key_with_nothing_queued_starts_a_window_ago_and_each_post_follows_the_last(stack: Stack) -> None:
    key = f"sha256:{uuid.uuid4().hex}"
    now = 1_800_000_000.0

    # When a key posts 2,000 entries, then 500 more, then another key 10
    first = _backlog(stack).admit(key, 2000, now)
    second = _backlog(stack).admit(key, 500, now + 1)
    other = _backlog(stack).admit(f"{key}-other", 10, now + 1)

    # Then the first post starts a window ago (a window's worth at once), the second where the first
    # ends at 100 entries a second, and the other key is not behind either
    assert first == pytest.approx(now - 10.0)
    assert second == pytest.approx(now - 10.0 + 20.0)
    assert other == pytest.approx(now + 1 - 10.0)
    # And a key whose horizon has passed starts a window before the new post again
    assert _backlog(stack).admit(key, 1, now + 100) == pytest.approx(now + 90)


def test_concurrent_posts_of_one_key_take_consecutive_places(stack: Stack) -> None:
    key = f"sha256:{uuid.uuid4().hex}"
    now = 1_800_000_000.0
    starts: list[float] = []
    lock = threading.Lock()

    def post() -> None:
        start = _backlog(stack).admit(key, 100, now)
        with lock:
            starts.append(start)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Four posts of 100 entries at 100 a second: one second apart, whatever the order they won in
    # (a post that lost every conditional write would have been admitted at now, out of line)
    assert sorted(starts) == pytest.approx([now - 10.0 + i for i in range(4)])
