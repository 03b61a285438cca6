"""``bridge stack`` as a separate process for the tests that drive it over HTTP (tests/e2e, tests/fuzz)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from local.launcher import StackProcess
from local.services import find_dynamodb_local

#: MyUnisoft's rate window made fast (template parameters, matched by the emulator): runs take seconds.
FAST = ["--parameter", "RateLimitRequests=100", "--parameter", "RateLimitWindowSeconds=1"]


@contextmanager
def fast_stack(
    log_dir: Path, *, skip_without_dynamodb: bool, timeout_s: float = 120
) -> Iterator[StackProcess]:
    """A stack on free ports with the fast rate window and quick retries, stopped on exit.

    Without DynamoDB Local the test is skipped, or failed when the caller promised it is installed.
    """
    try:
        find_dynamodb_local()
    except Exception as exc:
        reason = f"DynamoDB Local is not installed ({exc}); `make test` installs it"
        if skip_without_dynamodb:
            pytest.skip(reason)
        pytest.fail(reason)
    process = StackProcess(log_dir, ["--api-port", "0", "--emulator-port", "0", "--retry-delay", "1", *FAST])
    with process.start(timeout_s=timeout_s):
        yield process
