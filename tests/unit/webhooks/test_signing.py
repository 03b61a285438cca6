"""Signatures as the ``standardwebhooks`` library verifies them; rotation overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tra_core.webhooks.signing import ROTATION_OVERLAP, SigningSecrets, new_secret, signature_headers


def test_a_delivery_signed_by_the_bridge_verifies_with_standardwebhooks() -> None:
    secret, body = new_secret(), '{"id":"evt_1","type":"entry.status_changed"}'
    headers = signature_headers("evt_1", body, [secret], datetime.now(UTC))
    assert Webhook(secret).verify(body, headers)["id"] == "evt_1"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("1", "2"), headers)


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(Webhook(first)._whsecret) == 32


def test_both_secrets_sign_during_the_overlap_and_only_the_new_one_after() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    old, new = new_secret(), new_secret()
    rotated = SigningSecrets(current=old).rotated(new, now)
    assert rotated.in_force(now + ROTATION_OVERLAP - timedelta(seconds=1)) == (new, old)
    assert rotated.in_force(now + ROTATION_OVERLAP) == (new,)
    assert SigningSecrets.from_json(rotated.to_json()) == rotated
    assert old not in repr(rotated) and new not in repr(rotated)
