"""The upload worker over in-memory fakes (``tests.support.upload_world``)."""

from __future__ import annotations

import pytest

from tests.support.upload_world import World


@pytest.fixture
def world() -> World:
    return World()
