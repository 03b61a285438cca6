"""Integration helpers: the MyUnisoft emulator as a real process on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

StartEmulator = Callable[..., str]


def _emulator_command() -> list[str]:
    script = Path(sys.executable).with_name("myunisoft-emulator")
    if script.exists():
        return [str(script)]
    found = shutil.which("myunisoft-emulator")
    return [found] if found else [sys.executable, "-m", "emulator.cli"]


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """Start ``myunisoft-emulator --port 0 [ARGS...]``; returns its base URL once it answers health.

    Every process started is stopped at the end of the test.
    """
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str, timeout: float = 20.0) -> str:
        process = subprocess.Popen(
            [*_emulator_command(), "--host", "127.0.0.1", "--port", "0", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        processes.append(process)
        first_line: list[str] = []
        reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not first_line or "listening on " not in first_line[0]:
            process.kill()
            _, stderr = process.communicate(timeout=5)
            raise RuntimeError(f"the emulator did not start: {stderr.strip() or first_line}")
        base_url = first_line[0].strip().rsplit(" ", 1)[-1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/api/partners/health", timeout=1.0).status_code == 200:
                    return base_url
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the emulator did not answer its health check in time")

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def emulator_url(start_emulator: StartEmulator) -> str:
    """The base URL of a freshly started emulator with the demo fixtures."""
    return start_emulator()
