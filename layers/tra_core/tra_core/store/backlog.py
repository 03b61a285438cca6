"""Each key's upload horizon: how far ahead the messages already queued for it reach.

The upload queue is shared by every firm and hands out messages roughly in the order they were
sent. A firm posting a year of entries at once would put thousands of messages in front of another
firm's single entry, and the workers would have to go through them (uploading or postponing each,
docs/architecture.md §8) before they reach it. So the intake paces a large post's messages: they
are sent with delivery delays that follow what the key's budget can upload (``entries_per_s``), so
the queue only ever holds, per key, about a window's worth of visible work and other firms'
messages are reached at once.

The item ``LIMIT#<key fingerprint>`` / ``BACKLOG`` holds ``horizon_ms``: when the entries admitted so
far are expected to be uploaded. Admitting ``count`` entries starts them at the horizon (never
earlier than one window ago: a key with nothing queued sends a window's worth at once, the budget's
own burst) and moves it ``count / entries_per_s`` further, in one conditional write so that two
concurrent posts never take the same place. It is a forecast, not a reservation: a message
delivered before its key's budget has room is postponed by the worker as any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.store.dynamodb import from_item, is_conditional_failure, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: Conditional writes lost to concurrent posts before the post is admitted as if the key were idle.
_ATTEMPTS = 5


def backlog_key(key_fingerprint: str) -> dict[str, Any]:
    return to_item({"PK": f"LIMIT#{key_fingerprint}", "SK": "BACKLOG"})


class DynamoDBBacklog:
    """The upload horizon of each key (see the module docstring)."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, entries_per_s: float, window_s: float):
        if entries_per_s <= 0 or window_s < 0:
            raise ValueError("entries_per_s must be positive and window_s not negative")
        self._client = client
        self._table = table_name
        self.entries_per_s = entries_per_s
        self._window_s = window_s

    def __repr__(self) -> str:
        return f"DynamoDBBacklog(entries_per_s={self.entries_per_s})"

    def admit(self, key_fingerprint: str, count: int, now_s: float) -> float:
        """Admit ``count`` entries of the key; the epoch second the first of them may be uploaded."""
        key = backlog_key(key_fingerprint)
        for _ in range(_ATTEMPTS):
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            seen = from_item(item) if item else {}
            start = max(int(seen.get("horizon_ms", 0)) / 1000, now_s - self._window_s)
            rev = int(seen.get("rev", 0))
            written = {"horizon_ms": round((start + count / self.entries_per_s) * 1000), "rev": rev + 1}
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(PK)"}
                if item is None
                else {
                    "ConditionExpression": "rev = :seen",
                    "ExpressionAttributeValues": to_item({":seen": rev}),
                }
            )
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={**key, **to_item({**written, "expires_at": written["horizon_ms"] // 1000 + 3600})},
                    **condition,
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                continue
            return start
        return now_s
