"""The local stack as a separate process (``bridge stack``), one per test module, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.launcher import StackProcess
from tests.support.local_stack import fast_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with fast_stack(tmp_path_factory.mktemp("stack"), skip_without_dynamodb=True) as process:
        yield process
