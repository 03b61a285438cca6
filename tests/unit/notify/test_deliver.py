"""The delivery worker's use case over fakes: signing, backoff, the retry window, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from notify.deliver import DeliveryPorts, Message, Outcome, RetryPolicy, deliver
from tests.support.webhook_fakes import Clock, InMemoryRegistry, InMemorySecrets, Poster, Resolver, RetryQueue
from tra_core.store.notifications import DeliveryRequest
from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.signing import SigningSecrets, new_secret

SECRET = new_secret()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))  # standardwebhooks checks the timestamp against the real time


def make_ports(clock: Clock, poster: Poster, *, url: str = "https://hub.example/hooks") -> DeliveryPorts:
    registry, secrets = InMemoryRegistry(), InMemorySecrets()
    ref, version = secrets.create("t1", SigningSecrets(current=SECRET))
    registry.save(
        WebhookRegistration(
            tenant="t1",
            url=url,
            created_at=clock(),
            updated_at=clock(),
            secret_ref=ref,
            secret_version=version,
        )
    )
    return DeliveryPorts(
        registry=registry,
        secrets=secrets,
        queue=RetryQueue(),
        resolve=Resolver({"hub.example": ["93.184.216.34"], "inside.example": ["10.0.0.5"]}),
        post=poster,
        clock=clock,
        policy=RetryPolicy(base_s=30, max_s=600, retry_for_s=86_400),
    )


def message(clock: Clock, receive_count: int = 1, tenant: str = "t1") -> Message:
    request = DeliveryRequest(
        tenant=tenant,
        event_id="evt_1",
        event_type="entry.status_changed",
        payload='{"id":"evt_1","type":"entry.status_changed","tenant":"t1"}',
        enqueued_at=clock(),
    )
    return Message("m1", "receipt-1", request.model_dump_json(), receive_count)


def test_a_2xx_answer_delivers_the_payload_signed_to_the_vetted_address(clock: Clock) -> None:
    poster = Poster([204])
    ports = make_ports(clock, poster)
    assert deliver(message(clock), ports).outcome is Outcome.DELIVERED
    ((target, body, headers),) = poster.posts
    assert (target.host, target.addresses) == ("hub.example", ("93.184.216.34",))
    assert Webhook(SECRET).verify(body, headers)["id"] == "evt_1" == headers["webhook-id"]


@pytest.mark.parametrize("answer", [500, 302, 404, None])
def test_a_failure_is_retried_with_a_doubling_capped_backoff(clock: Clock, answer: int | None) -> None:
    ports = make_ports(clock, Poster([answer]))
    results = [deliver(message(clock, count), ports) for count in range(1, 9)]
    assert {r.outcome for r in results} == {Outcome.RETRYING}
    assert [delay for _, delay in ports.queue.retries] == [30, 60, 120, 240, 480, 600, 600, 600]  # type: ignore[attr-defined]
    assert all(SECRET not in (r.failure or "") for r in results)


def test_after_the_retry_window_the_delivery_is_dead_lettered_with_the_reason(clock: Clock) -> None:
    ports = make_ports(clock, Poster([503]))
    first = message(clock)
    clock.advance(86_400)
    result = deliver(first, ports)
    assert (result.outcome, result.failure) == (Outcome.DEAD_LETTERED, "the receiver answered HTTP 503")
    assert ports.queue.dead == [(first.body, "the receiver answered HTTP 503")]  # type: ignore[attr-defined]


def test_a_url_that_now_resolves_inside_is_not_called_and_retried(clock: Clock) -> None:
    poster = Poster([200])
    ports = make_ports(clock, poster, url="https://inside.example/hooks")
    result = deliver(message(clock), ports)
    assert result.outcome is Outcome.RETRYING and "private network" in (result.failure or "")
    assert poster.posts == []


def test_no_webhook_means_nothing_is_sent_and_an_unreadable_message_is_dead_lettered(clock: Clock) -> None:
    poster = Poster([200])
    ports = make_ports(clock, poster)
    assert deliver(message(clock, tenant="someone-else"), ports).outcome is Outcome.NO_WEBHOOK
    assert deliver(Message("m2", "r2", "not json", 1), ports).outcome is Outcome.DEAD_LETTERED
    assert poster.posts == []


def test_the_backoff_never_overflows() -> None:
    assert RetryPolicy(base_s=30, max_s=3600).delay(10_000) == 3600
    assert RetryPolicy(base_s=0, max_s=5).delay(3) == 0
    assert datetime.now(UTC)  # the policy needs no clock
