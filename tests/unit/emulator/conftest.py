"""The emulator in-process for its own tests: a manual clock, the demo data, httpx over WSGI."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.app import EmulatorApp, create_app
from emulator.clock import ManualClock
from emulator.testing import EmulatorTransport
from tests.unit.emulator.support import FIRM, Upload


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock) -> EmulatorApp:
    return create_app(clock=clock)


@pytest.fixture
def http(app: EmulatorApp) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://emulator.test") as client:
        yield client


@pytest.fixture
def upload(http: httpx.Client) -> Upload:
    """POST a zip to ``TRA/partial`` of a dossier (HascodeVerif and mandatory_docs on by default)."""

    def send(
        body: bytes,
        *,
        society_id: int = 2101,
        hascode: bool = True,
        mandatory: bool = True,
        content_type: str = "application/octet-stream",
        key: str = "demo-firm-key",
    ) -> httpx.Response:
        return http.post(
            "/api/v1/TRA/partial",
            params={
                "HascodeVerif": "true" if hascode else "false",
                "mandatory_docs": "1" if mandatory else "0",
            },
            headers={
                **FIRM,
                "Authorization": f"Bearer {key}",
                "society-id": str(society_id),
                "Content-Type": content_type,
            },
            content=body,
        )

    return send
