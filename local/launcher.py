"""Start ``bridge stack`` as a separate process and wait for its ``READY`` line (the demo and e2e tests).

The stack runs in its own session (process group), so a Ctrl-C meant for the caller reaches it
only through the caller, which stops it with SIGTERM and waits: the stack then stops its own
children. Should the stack itself not exit in time, its whole group (which only it and its
children belong to) is killed, so nothing outlives the caller.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from local.services import REPO_ROOT

READY_LINE = re.compile(r"^READY api=(?P<api>\S+) emulator=(?P<emulator>\S+)\s*$", re.M)


class LaunchError(RuntimeError):
    """The stack did not become ready."""


def bridge_command() -> list[str]:
    """``bridge`` from this virtualenv (the console script), else ``python -m local.cli``."""
    script = Path(sys.executable).with_name("bridge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "local.cli"]


@dataclass
class StackProcess:
    """``bridge stack ARGS`` in the background; its output goes to ``log_dir/stack.out``."""

    log_dir: Path
    arguments: Sequence[str] = ()
    api: str = ""
    emulator: str = ""
    process: subprocess.Popen[bytes] | None = None
    started_s: float = 0.0
    ready_s: float = 0.0
    _output: object = field(default=None, repr=False)

    @property
    def output_path(self) -> Path:
        return self.log_dir / "stack.out"

    def output(self) -> str:
        try:
            return self.output_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def start(
        self, timeout_s: float = 120.0, progress: Callable[[float], None] | None = None
    ) -> StackProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        output = self.output_path.open("wb")
        self._output = output
        command = [*bridge_command(), "stack", "--log-dir", str(self.log_dir / "functions"), *self.arguments]
        self.started_s = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        deadline = self.started_s + timeout_s
        while time.monotonic() < deadline:
            found = READY_LINE.search(self.output())
            if found:
                self.api, self.emulator = found.group("api"), found.group("emulator")
                self.ready_s = time.monotonic() - self.started_s
                return self
            if self.process.poll() is not None:
                raise LaunchError(
                    f"bridge stack exited with {self.process.returncode}:\n{self.output()[-4000:]}"
                )
            if progress is not None:
                progress(time.monotonic() - self.started_s)
            time.sleep(0.1)
        self.stop()
        raise LaunchError(f"bridge stack was not READY within {timeout_s:.0f}s:\n{self.output()[-4000:]}")

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM, wait for the stack to stop its children; kill the group if it lingers."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        close = getattr(self._output, "close", None)
        if close is not None:
            close()
        return process.returncode

    def __enter__(self) -> StackProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
