"""A function's local sandbox: one child process per function of the template, like a Lambda container.

moto cannot run Lambda code without Docker, so the stack runs each handler itself, in a process of
its own with exactly the environment the template gives that function (``Globals`` merged with
its own variables) plus the local endpoints. Handlers therefore cache their settings and clients as
they do on AWS, and two functions never share ``os.environ``.

The parent talks to the child over pipes, one JSON document per line:

    parent → child   {"id": 7, "event": {...}}
    child → parent   {"id": 7, "payload": ...}                         (the handler's return value)
                     {"id": 7, "error": {"errorType": "...", "errorMessage": "..."}}

The child moves its own stdout onto stderr before importing the handler, so what the handler
prints (Powertools' JSON logs, metrics) ends in the function's log, never in the protocol. One
invocation at a time per sandbox, as in a Lambda execution environment (``local.pool`` runs several
sandboxes of one function for its concurrency); an invocation that
outlives the function's timeout kills the sandbox, and the next one starts a fresh process (a
cold start), as Lambda does.

Run by the stack as ``python -m local.host --function NAME --handler module.function``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

READY = "__ready__"


# -- the child ----------------------------------------------------------------------------------


class LambdaContext:
    """What a handler reads from Lambda's context object (Powertools included)."""

    def __init__(self, function_name: str, memory_mb: int, timeout_s: float, region: str, account: str):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.aws_request_id = str(uuid.uuid4())
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _load(path: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = path.rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), function_name)
    return handler


def _error(exc: BaseException) -> dict[str, str]:
    return {"errorType": type(exc).__name__, "errorMessage": str(exc)}


def child_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one Lambda handler on events read from stdin.")
    parser.add_argument("--function", required=True)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--memory", type=int, default=128)
    args = parser.parse_args(argv)

    # The protocol keeps the real stdout; everything the handler prints goes to stderr (its log).
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stack stops its sandboxes itself

    def send(message: Mapping[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        protocol.write(json.dumps(message, default=str) + "\n")
        protocol.flush()

    try:
        handler = _load(args.handler)
    except Exception as exc:  # an import error is the function's "Runtime.ImportModuleError"
        send({"id": READY, "error": {"errorType": "Runtime.ImportModuleError", "errorMessage": str(exc)}})
        return 1
    send({"id": READY})
    region = os.environ.get("AWS_REGION", "eu-west-3")
    account = os.environ.get("LOCAL_ACCOUNT_ID", "123456789012")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        context = LambdaContext(args.function, args.memory, args.timeout, region, account)
        try:
            payload = handler(request["event"], context)
        except Exception as exc:
            import traceback

            traceback.print_exc()
            send({"id": request["id"], "error": _error(exc)})
        else:
            send({"id": request["id"], "payload": payload})
    return 0


# -- the parent ---------------------------------------------------------------------------------


class InvokeError(RuntimeError):
    """The function failed (unhandled error, import error or timeout), as Lambda reports it."""

    def __init__(self, error_type: str, message: str):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class Invocation:
    payload: Any
    duration_ms: float


class LogSink(Protocol):
    """Where a function's log lines go: an open text file, or one that also echoes them."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class FunctionHost:
    """A sandbox for one function: started on demand, one invocation at a time, restartable.

    ``log`` receives every line the function writes (its logs), and ``on_event`` short notices
    (cold start, timeout) for the stack's console.
    """

    def __init__(
        self,
        name: str,
        handler: str,
        *,
        environment: Mapping[str, str],
        timeout_s: float,
        memory_mb: int = 128,
        cwd: Path | None = None,
        log: LogSink | None = None,
        start_timeout_s: float = 60.0,
    ):
        self.name = name
        self.handler = handler
        self.environment = dict(environment)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.cwd = cwd
        self.start_timeout_s = start_timeout_s
        self._log = log
        self._log_lock = threading.Lock()
        self._lock = threading.Lock()
        # Held while a process is spawned and by stop(): a sandbox stopped mid-start never lingers.
        self._spawn_lock = threading.Lock()
        self._stopped = False
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._counter = 0
        self.cold_starts = 0

    # lifecycle -----------------------------------------------------------------------------------

    def twin(self) -> FunctionHost:
        """Another sandbox of the same function (not started), writing to the same log.

        The twins share the log's lock, so lines of concurrent invocations never interleave.
        """
        twin = FunctionHost(
            self.name,
            self.handler,
            environment=self.environment,
            timeout_s=self.timeout_s,
            memory_mb=self.memory_mb,
            cwd=self.cwd,
            log=self._log,
            start_timeout_s=self.start_timeout_s,
        )
        twin._log_lock = self._log_lock
        return twin

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        """The sandbox's process runs."""
        process = self._process
        return process is not None and process.poll() is None

    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._replies = queue.Queue()
        command = [
            sys.executable,
            "-m",
            "local.host",
            "--function",
            self.name,
            "--handler",
            self.handler,
            "--timeout",
            str(self.timeout_s),
            "--memory",
            str(self.memory_mb),
        ]
        with self._spawn_lock:
            if self._stopped:
                raise InvokeError("Runtime.Stopping", f"{self.name} is stopping")
            process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
            self._process = process
        replies = self._replies
        threading.Thread(target=self._read_replies, args=(process, replies), daemon=True).start()
        threading.Thread(target=self._read_log, args=(process,), daemon=True).start()
        self.cold_starts += 1
        try:
            ready = replies.get(timeout=self.start_timeout_s)
        except queue.Empty:
            self._kill(process)
            raise InvokeError("Runtime.StartTimeout", f"{self.name} did not start in time") from None
        if ready is None or ready.get("id") != READY or "error" in ready:
            self._kill(process)
            error = (ready or {}).get("error") or {"errorType": "Runtime.ExitError", "errorMessage": "exited"}
            raise InvokeError(error["errorType"], error["errorMessage"])
        return process

    @staticmethod
    def _read_replies(process: subprocess.Popen[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                replies.put(json.loads(line))
        replies.put(None)  # the sandbox is gone

    def _read_log(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._write_log(line)

    def _write_log(self, line: str) -> None:
        if self._log is None:
            return
        with self._log_lock, contextlib.suppress(ValueError, OSError):
            self._log.write(line if line.endswith("\n") else line + "\n")
            self._log.flush()

    def _kill(self, process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def stop(self, timeout: float = 5.0) -> None:
        """Close the sandbox's input (it exits at once), kill it if it lingers; it never starts again."""
        with self._spawn_lock:
            self._stopped = True
            process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert process.stdin is not None
                process.stdin.close()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)

    # invocation ------------------------------------------------------------------------------

    def invoke(self, event: Any, *, timeout_s: float | None = None) -> Invocation:
        """Run the handler on ``event`` and return its payload; raises ``InvokeError`` as Lambda would."""
        limit = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        with self._lock:
            process = self._ensure_started()
            self._counter += 1
            request_id = self._counter
            started = time.monotonic()
            try:
                assert process.stdin is not None
                process.stdin.write(json.dumps({"id": request_id, "event": event}) + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._kill(process)
                raise InvokeError("Runtime.ExitError", f"{self.name} exited before the invocation") from None
            deadline = started + limit
            while True:
                remaining = deadline - time.monotonic()
                try:
                    reply = self._replies.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    self._kill(process)
                    self._write_log(f"Task timed out after {limit:.2f} seconds\n")
                    raise InvokeError(
                        "Sandbox.Timedout", f"Task timed out after {limit:.2f} seconds"
                    ) from None
                if reply is None:
                    self._kill(process)
                    raise InvokeError("Runtime.ExitError", f"{self.name} exited during the invocation")
                if reply.get("id") == request_id:
                    break
            duration_ms = (time.monotonic() - started) * 1000
            if "error" in reply:
                error = reply["error"]
                raise InvokeError(str(error.get("errorType")), str(error.get("errorMessage")))
            return Invocation(payload=reply.get("payload"), duration_ms=duration_ms)


if __name__ == "__main__":
    sys.exit(child_main())
