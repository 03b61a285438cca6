"""A function's sandboxes: up to its concurrency, each one a ``FunctionHost`` (one child process).

Lambda runs one invocation per execution environment and starts another environment when every
warm one is busy, up to the function's concurrency (docs/architecture.md §7). ``FunctionPool`` does
the same locally: an invocation takes the most recently used idle sandbox (warm), or starts a new
one while fewer than ``max_sandboxes`` exist (a cold start), or waits for one to come free. Where
Lambda would throttle, the local stack waits instead: its callers (the SQS pollers, the HTTP front)
never start more invocations than the function's concurrency anyway, see ``local.stack``.

Sandboxes are started lazily and kept until the stack stops; a sandbox killed by a timeout is
restarted by its next invocation, as ``FunctionHost`` does. Every sandbox of a function writes to
the function's one log (its CloudWatch log group, in effect).
"""

from __future__ import annotations

import threading
from typing import Any

from local.host import FunctionHost, Invocation, InvokeError


class FunctionPool:
    """Up to ``max_sandboxes`` sandboxes of one function, started on demand (module docstring).

    ``first`` is the function's first sandbox (not started yet); the others are its twins.
    """

    def __init__(self, first: FunctionHost, *, max_sandboxes: int):
        self.name = first.name
        self.handler = first.handler
        self.max_sandboxes = max_sandboxes
        self._first = first
        self._condition = threading.Condition()
        self._sandboxes: list[FunctionHost] = []
        self._idle: list[FunctionHost] = []
        self._closed = False
        self.busy = 0
        #: The most invocations that ran at once (never above ``max_sandboxes``).
        self.peak_busy = 0
        self.invocations = 0

    # sandboxes ---------------------------------------------------------------------------------

    def _new_sandbox(self) -> FunctionHost:
        sandbox = self._first.twin() if self._sandboxes else self._first
        self._sandboxes.append(sandbox)
        return sandbox

    def _acquire(self) -> FunctionHost:
        with self._condition:
            while True:
                if self._closed:
                    raise InvokeError("Runtime.Stopping", f"{self.name} is stopping")
                if self._idle:
                    sandbox = self._idle.pop()  # the most recently used: the warmest
                    break
                if len(self._sandboxes) < self.max_sandboxes:
                    sandbox = self._new_sandbox()
                    break
                if self.max_sandboxes <= 0:
                    raise InvokeError(
                        "TooManyRequestsException", f"{self.name} has no concurrency (reserved 0)"
                    )
                self._condition.wait()
            self.busy += 1
            self.invocations += 1
            self.peak_busy = max(self.peak_busy, self.busy)
            return sandbox

    def _release(self, sandbox: FunctionHost) -> None:
        with self._condition:
            self.busy -= 1
            self._idle.append(sandbox)
            self._condition.notify()

    # lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Warm one sandbox now (the stack's start), so the first request is not a cold start."""
        if self.max_sandboxes <= 0:
            return
        sandbox = self._acquire()
        try:
            sandbox.start()
        finally:
            self._release(sandbox)
            with self._condition:
                self.invocations -= 1  # warming is no invocation

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every sandbox; invocations still waiting for one fail, none starts any more."""
        with self._condition:
            self._closed = True
            sandboxes = list(self._sandboxes)
            self._condition.notify_all()
        for sandbox in sandboxes:
            sandbox.stop(timeout)

    # what runs ---------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Sandboxes created so far (started, or being started)."""
        with self._condition:
            return len(self._sandboxes)

    @property
    def cold_starts(self) -> int:
        with self._condition:
            return sum(sandbox.cold_starts for sandbox in self._sandboxes)

    @property
    def pids(self) -> list[int]:
        """The process id of every sandbox started so far (running or not)."""
        with self._condition:
            return [sandbox.pid for sandbox in self._sandboxes if sandbox.pid is not None]

    @property
    def pid(self) -> int | None:
        """The first sandbox's process id (None before any started)."""
        pids = self.pids
        return pids[0] if pids else None

    def alive_pids(self) -> list[int]:
        """Sandboxes whose process still runs."""
        with self._condition:
            return [sandbox.pid for sandbox in self._sandboxes if sandbox.alive and sandbox.pid is not None]

    def describe(self) -> dict[str, Any]:
        return {
            "handler": self.handler,
            "pid": self.pid,
            "pids": self.pids,
            "max_sandboxes": self.max_sandboxes,
            "sandboxes": self.size,
            "busy": self.busy,
            "peak_busy": self.peak_busy,
            "invocations": self.invocations,
            "cold_starts": self.cold_starts,
        }

    def invoke(self, event: Any, *, timeout_s: float | None = None) -> Invocation:
        """Run the handler on ``event`` in a free sandbox; raises ``InvokeError`` as Lambda would."""
        sandbox = self._acquire()
        try:
            return sandbox.invoke(event, timeout_s=timeout_s)
        finally:
            self._release(sandbox)
