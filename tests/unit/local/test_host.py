"""A function sandbox runs one handler in its own process, with its own environment, like Lambda."""

from __future__ import annotations

import io
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local.host import FunctionHost, InvokeError

HANDLERS = textwrap.dedent(
    """
    import os, sys, time

    COLD = time.time()

    def echo(event, context):
        print("a log line on stdout")
        return {"event": event, "name": context.function_name, "setting": os.environ.get("SETTING"),
                "remaining": context.get_remaining_time_in_millis(), "cold": COLD}

    def crash(event, context):
        raise ValueError("bad input")

    def sleepy(event, context):
        time.sleep(event["sleep"])
        return "woke"
    """
)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "sample_handlers.py").write_text(HANDLERS, encoding="utf-8")
    return tmp_path


def _environment(code: Path, **extra: str) -> dict[str, str]:
    repo = Path(__file__).resolve().parents[3]
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(code), str(repo)]),
        **extra,
    }


def _eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """The function's log is read by another thread: give it a moment."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def hosts() -> Iterator[list[FunctionHost]]:
    started: list[FunctionHost] = []
    yield started
    for host in started:
        host.stop()


def test_a_handler_gets_the_event_its_own_environment_and_a_context(
    code: Path, hosts: list[FunctionHost]
) -> None:
    # Given two sandboxes of the same handler with different settings
    log = io.StringIO()
    one = FunctionHost(
        "One", "sample_handlers.echo", environment=_environment(code, SETTING="1"), timeout_s=5, log=log
    )
    two = FunctionHost(
        "Two", "sample_handlers.echo", environment=_environment(code, SETTING="2"), timeout_s=5
    )
    hosts += [one, two]

    # When each is invoked
    first, second = one.invoke({"n": 1}).payload, two.invoke({"n": 2}).payload

    # Then each saw its own environment and context, and what it printed went to its log
    assert (first["event"], first["name"], first["setting"]) == ({"n": 1}, "One", "1")
    assert (second["setting"], second["name"]) == ("2", "Two")
    assert 0 < first["remaining"] <= 5000
    _eventually(lambda: "a log line on stdout" in log.getvalue())
    # And the sandbox is reused: no second cold start
    assert one.invoke({"n": 3}).payload["cold"] == first["cold"]
    assert one.cold_starts == 1


def test_an_error_is_reported_and_the_sandbox_survives(code: Path, hosts: list[FunctionHost]) -> None:
    log = io.StringIO()
    host = FunctionHost(
        "Crash", "sample_handlers.crash", environment=_environment(code), timeout_s=5, log=log
    )
    hosts.append(host)
    with pytest.raises(InvokeError) as raised:
        host.invoke({})
    assert (raised.value.error_type, raised.value.message) == ("ValueError", "bad input")
    with pytest.raises(InvokeError):
        host.invoke({})
    assert host.cold_starts == 1
    _eventually(lambda: "Traceback" in log.getvalue())


def test_a_timeout_kills_the_sandbox_and_the_next_call_starts_a_fresh_one(
    code: Path, hosts: list[FunctionHost]
) -> None:
    host = FunctionHost("Slow", "sample_handlers.sleepy", environment=_environment(code), timeout_s=0.5)
    hosts.append(host)
    host.start()
    first_pid = host.pid

    with pytest.raises(InvokeError) as raised:
        host.invoke({"sleep": 5})

    assert raised.value.error_type == "Sandbox.Timedout"
    assert host.invoke({"sleep": 0}).payload == "woke"
    assert host.pid != first_pid
    assert host.cold_starts == 2


def test_an_unimportable_handler_fails_at_start(code: Path, hosts: list[FunctionHost]) -> None:
    host = FunctionHost("Missing", "no_such_module.handler", environment=_environment(code), timeout_s=5)
    hosts.append(host)
    with pytest.raises(InvokeError) as raised:
        host.start()
    assert raised.value.error_type == "Runtime.ImportModuleError"


def test_stop_ends_the_process(code: Path) -> None:
    host = FunctionHost("Stop", "sample_handlers.echo", environment=_environment(code), timeout_s=5)
    host.start()
    pid = host.pid
    assert pid is not None
    host.stop()
    assert host._process is not None and host._process.poll() is not None
    if sys.platform.startswith("linux"):
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
