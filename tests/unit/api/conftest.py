"""The API's use cases over in-memory fakes: a firm of three client files and its keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api import wiring
from api.connections import ApiPorts
from tests.support.fakes import (
    Clock,
    FakeKey,
    FakeMyUnisoft,
    InMemoryConnections,
    InMemoryFiles,
    InMemoryQueue,
    InMemorySnapshots,
    InMemoryVault,
    standard_dossier,
)
from tests.support.uploads import InMemoryEntries
from tests.support.verifying import InMemoryIds
from tra_core.myunisoft.models import REQUIRED_ROUTES

FIRM = 1
OTHER_FIRM = 2

#: The API function's environment (template.yaml sets it on AWS).
API_SETTINGS = {
    "TABLE_NAME": "t",
    "BUCKET_NAME": "b",
    "REFRESH_QUEUE_URL": "http://queue",
    "KEY_SECRET_PREFIX": "p/",
    "THIRD_PARTY_SECRET_ID": "s",
    "MYUNISOFT_BASE_URL": "http://myunisoft",
    "RATE_LIMIT_REQUESTS": "20",
    "RATE_LIMIT_WINDOW_SECONDS": "10",
    "RATE_LIMIT_MARGIN_SECONDS": "0.5",
}


@pytest.fixture
def api_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API function's settings in the environment, its cached ports forgotten before and after."""
    for name, value in API_SETTINGS.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def myunisoft() -> FakeMyUnisoft:
    return FakeMyUnisoft(
        dossiers=[
            standard_dossier(101, "BOULANGERIE MARTIN"),
            standard_dossier(102, "GARAGE DUPONT"),
            standard_dossier(103, "SCI LES TILLEULS"),
            standard_dossier(201, "ATELIER BERNARD", schema_id=OTHER_FIRM),
        ],
        keys={
            "firm-key": FakeKey("firm", FIRM),
            "firm-key-2": FakeKey("firm", FIRM),
            "other-firm-key": FakeKey("firm", OTHER_FIRM),
            "society-key": FakeKey("api", FIRM, society_id=101),
            "narrow-key": FakeKey("firm", FIRM, routes=REQUIRED_ROUTES[:-1]),
        },
    )


@pytest.fixture
def ports(myunisoft: FakeMyUnisoft) -> ApiPorts:
    return ApiPorts(
        connections=InMemoryConnections(),
        files=InMemoryFiles(),
        snapshots=InMemorySnapshots(),
        vault=InMemoryVault(),
        queue=InMemoryQueue(),
        clients=myunisoft,
        clock=Clock(),
        ids=InMemoryIds(InMemoryEntries()),
    )
