"""Webhook secrets and signatures, as the Standard Webhooks specification defines them.

A secret is ``whsec_`` + base64 of 32 random bytes. A delivery carries ``webhook-id`` (the event
id, the same on every retry), ``webhook-timestamp`` (seconds since the epoch, of this attempt) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` for every secret in force,
separated by spaces. After a rotation the previous secret stays in force for
``ROTATION_OVERLAP`` (24 hours), so a hub that still checks with the old secret keeps verifying
while it switches. Signing uses the ``standardwebhooks`` library itself, so what it verifies is
what the bridge sends.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    """A fresh signing secret (``whsec_`` + base64 of 32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True, slots=True)
class SigningSecrets:
    """The secret in force and, for ``ROTATION_OVERLAP`` after a rotation, the one it replaced."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None

    def __repr__(self) -> str:  # never show a secret, even in a traceback
        return f"SigningSecrets(previous_until={self.previous_until!r})"

    def in_force(self, now: datetime) -> tuple[str, ...]:
        """The secrets a delivery made at ``now`` is signed with (the newest first)."""
        if self.previous and self.previous_until is not None and now < self.previous_until:
            return (self.current, self.previous)
        return (self.current,)

    def rotated(self, new: str, now: datetime) -> SigningSecrets:
        """``new`` in force; the current secret stays valid for the overlap (an older one is dropped)."""
        return SigningSecrets(current=new, previous=self.current, previous_until=now + ROTATION_OVERLAP)

    def to_json(self) -> str:
        until = None if self.previous_until is None else self.previous_until.isoformat()
        return json.dumps({"current": self.current, "previous": self.previous, "previous_until": until})

    @classmethod
    def from_json(cls, text: str) -> SigningSecrets:
        values = json.loads(text)
        until = values.get("previous_until")
        return cls(
            current=values["current"],
            previous=values.get("previous"),
            previous_until=None if until is None else datetime.fromisoformat(until),
        )


def signature_headers(
    event_id: str, body: str, secrets_in_force: Sequence[str], timestamp: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers of one delivery attempt of ``body``."""
    if not secrets_in_force:
        raise ValueError("a delivery needs at least one signing secret")
    signatures = [Webhook(secret).sign(event_id, timestamp, body) for secret in secrets_in_force]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
