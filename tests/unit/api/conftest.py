"""The API's use cases over in-memory fakes: a firm of three client files and its keys."""

from __future__ import annotations

import pytest

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
from tra_core.myunisoft.models import REQUIRED_ROUTES

FIRM = 1
OTHER_FIRM = 2


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
    )
