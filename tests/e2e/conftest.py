"""The local stack as a separate process (``bridge stack``), one per test module, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.launcher import StackProcess
from local.services import find_dynamodb_local

#: A fast MyUnisoft rate window (template parameters, matched by the emulator): stories take seconds.
FAST = ["--parameter", "RateLimitRequests=100", "--parameter", "RateLimitWindowSeconds=1"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    try:
        find_dynamodb_local()
    except Exception as exc:
        pytest.skip(f"DynamoDB Local is not installed ({exc}); `make test` installs it")
    process = StackProcess(
        tmp_path_factory.mktemp("stack"),
        ["--api-port", "0", "--emulator-port", "0", "--retry-delay", "1", *FAST],
    )
    with process.start(timeout_s=120):
        yield process
