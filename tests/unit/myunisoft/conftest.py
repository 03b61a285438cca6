"""The client against the emulator in-process: one simulated clock shared by both, no sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from emulator.app import EmulatorApp, create_app
from emulator.clock import ManualClock
from emulator.fixtures import DEMO_SECRET
from emulator.testing import EmulatorTransport
from tra_core.myunisoft import MyUnisoftClient, RetryPolicy
from tra_core.myunisoft.ratelimit import RateLimiter

ClientFactory = Callable[..., MyUnisoftClient]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> EmulatorApp:
    return create_app(clock=clock)


@pytest.fixture
def make_client(emulator: EmulatorApp, clock: ManualClock) -> Iterator[ClientFactory]:
    """Build clients on the emulator; ``sleep`` advances the shared clock instead of waiting."""
    clients: list[MyUnisoftClient] = []

    def factory(
        api_key: str = "demo-firm-key",
        *,
        secret: str = DEMO_SECRET,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        app: EmulatorApp | None = None,
    ) -> MyUnisoftClient:
        client = MyUnisoftClient(
            "http://emulator.test/api/v1",
            secret,
            api_key,
            transport=EmulatorTransport(app or emulator),
            rate_limiter=rate_limiter,
            clock=clock.now,
            sleep=clock.sleep,
            rand=lambda: 0.5,
            retry=retry,
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> MyUnisoftClient:
    return make_client()
