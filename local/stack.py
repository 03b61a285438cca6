"""``bridge stack``: the whole bridge on this machine, from ``template.yaml``, without Docker.

It starts moto's server (SQS, S3, Secrets Manager, KMS), AWS's DynamoDB Local and the MyUnisoft
emulator (``local.services``), creates the template's resources on them (``local.resources``),
runs each function in a pool of sandboxes with the environment the template gives it (``local.pool``,
``local.host``: one warmed at the start, more started as invocations overlap, up to the function's
concurrency), and wires the template's events to them: the ``HttpApi`` routes behind an HTTP front
that speaks API Gateway v2 (``local.front``), each ``SQS`` mapping as as many pollers as its
``MaximumConcurrency`` (``local.pollers``), each stream as a poller (``local.streams``), each
``Schedule`` as a control route that fires it on demand. Then it prints its ready line
(docs/architecture.md §7)::

    READY api=http://127.0.0.1:3000 emulator=http://127.0.0.1:8089

and runs until Ctrl-C or SIGTERM, when it stops every child process it started (by its handle,
never by name) and frees its ports.

Handlers reach the local services only through ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_DYNAMODB`` and the template's ``MyUnisoftBaseUrl`` parameter (docs/architecture.md §7);
nothing in the production code knows it runs locally.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import boto3

from local.front import Front, FrontServer, HttpRequest, HttpResponse, JwtSettings
from local.host import FunctionHost, InvokeError
from local.pollers import QueuePoller
from local.pool import FunctionPool
from local.resources import LOCAL_ACCOUNT, LocalStack, function_environment, load_template, provision
from local.services import (
    HOST,
    LOCAL_REGION,
    REPO_ROOT,
    Service,
    ServiceError,
    aws_environment,
    start_dynamodb_local,
    start_emulator,
    start_moto,
)
from local.streams import StreamPoller
from local.topology import Schedule, Topology, read_topology

DEFAULT_API_PORT = 3000
DEFAULT_EMULATOR_PORT = 8089
DEFAULT_STACK_NAME = "bridge-local"
#: Concurrency the local stack gives what the template leaves unbounded (the API function's
#: sandboxes, an SQS mapping without MaximumConcurrency): Lambda would scale them far beyond what a
#: laptop runs (docs/architecture.md §7).
DEFAULT_LOCAL_CONCURRENCY = 4
#: The emulator's demo third-party secret (docs/architecture.md §3.5): a public fixture, not a credential.
DEMO_THIRD_PARTY_SECRET = "demo-third-party-secret"
#: Template parameters the local stack fills in when the template declares them.
LOCAL_PARAMETERS = {
    "ThirdPartySecretName": "myunisoft-bridge-local/third-party-secret",
    "JwtIssuer": "https://auth.local.invalid/",
    "JwtAudience": "myunisoft-bridge-local",
}
#: What only the local stack allows: webhooks to a receiver on http://127.0.0.1 (docs/architecture.md §9).
LOCAL_FUNCTION_ENVIRONMENT = {"WEBHOOK_ALLOW_LOOPBACK_HTTP": "true"}
#: Environment variables every sandbox gets from this process (nothing else leaks in).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


class StackError(RuntimeError):
    """The stack could not start (a port in use, a service that did not come up...)."""


@dataclass
class StackOptions:
    api_port: int = DEFAULT_API_PORT
    emulator_port: int = DEFAULT_EMULATOR_PORT
    stack_name: str = DEFAULT_STACK_NAME
    template_path: Path = REPO_ROOT / "template.yaml"
    #: Template parameter overrides (``--parameter Name=Value``).
    parameters: dict[str, str] = field(default_factory=dict)
    #: Extra environment variables for every function (``--env NAME=VALUE``).
    environment: dict[str, str] = field(default_factory=dict)
    #: Seconds before a failed SQS message comes back (None: the queue's visibility timeout).
    retry_delay_s: int | None = None
    emulator_arguments: list[str] = field(default_factory=list)
    #: Local concurrency of what the template leaves unbounded (``--default-concurrency``).
    default_concurrency: int = DEFAULT_LOCAL_CONCURRENCY
    #: Most sandboxes of a function, overriding the template's (``--concurrency Function=N``).
    concurrency: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None
    verbose: bool = False


def _check_port(port: int, what: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            raise StackError(
                f"port {port} ({what}) is in use: stop what listens there or choose another port "
                f"(--{what}-port)"
            ) from None


def _parameters(template: Mapping[str, Any], options: StackOptions, emulator_url: str) -> dict[str, str]:
    declared = template.get("Parameters", {}) or {}
    values = {name: value for name, value in LOCAL_PARAMETERS.items() if name in declared}
    if "MyUnisoftBaseUrl" in declared:
        values["MyUnisoftBaseUrl"] = emulator_url
    values.update(options.parameters)
    return values


def _parameter_value(template: Mapping[str, Any], parameters: Mapping[str, str], name: str) -> str | None:
    if name in parameters:
        return parameters[name]
    spec = (template.get("Parameters", {}) or {}).get(name)
    return None if spec is None or "Default" not in spec else str(spec["Default"])


class Stack:
    """A running local stack; ``start()`` brings it up, ``stop()`` takes everything down."""

    def __init__(self, options: StackOptions, *, out: Callable[[str], None] | None = None):
        self.options = options
        self._out = out or (lambda line: print(line, flush=True))
        self.template = load_template(options.template_path)
        self.services: list[Service] = []
        self.hosts: dict[str, FunctionPool] = {}
        self.pollers: list[QueuePoller] = []
        self.stream_pollers: list[StreamPoller] = []
        self.front: FrontServer | None = None
        self.resources: LocalStack | None = None
        self.topology: Topology | None = None
        self.emulator_url = ""
        self.log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="bridge-stack-"))
        self._logs: list[IO[str]] = []
        self._stopped = False

    # -- start -----------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self._out(line)

    def start(self) -> Stack:
        started = time.monotonic()
        options = self.options
        _check_port(options.emulator_port, "emulator")
        # Bind the API port first: a port in use fails the start before any child process exists.
        try:
            self.front = FrontServer((HOST, options.api_port), Front([], self._invoke, JwtSettings("", "")))
        except OSError:
            raise StackError(
                f"port {options.api_port} (api) is in use: stop what listens there or choose another "
                "port (--api-port)"
            ) from None
        try:
            self._start_services()
            self._provision()
            self._start_functions()
            self._start_front_and_pollers()
        except BaseException:
            self.stop()
            raise
        self.say(f"stack up in {time.monotonic() - started:.1f}s; function logs in {self.log_dir}")
        return self

    def _start_services(self) -> None:
        template = self.template
        limit = _parameter_value(template, self.options.parameters, "RateLimitRequests")
        window = _parameter_value(template, self.options.parameters, "RateLimitWindowSeconds")
        emulator_arguments = ["--quiet"]
        if limit:
            emulator_arguments += ["--rate-limit", limit]
        if window:
            emulator_arguments += ["--rate-window", window]
        emulator_arguments += self.options.emulator_arguments
        starters: dict[str, Callable[[], Service]] = {
            "moto": start_moto,
            "dynamodb-local": start_dynamodb_local,
            "emulator": lambda: start_emulator(
                self.options.emulator_port or None, arguments=emulator_arguments
            ),
        }
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=len(starters)) as pool:
            futures = {name: pool.submit(starter) for name, starter in starters.items()}
            for name, future in futures.items():
                try:
                    self.services.append(future.result())
                except (ServiceError, OSError) as exc:
                    errors.append(f"{name}: {exc}")
        if errors:
            raise StackError("a local service did not start:\n" + "\n".join(errors))
        by_name = {service.name: service for service in self.services}
        self.moto, self.dynamodb = by_name["moto"], by_name["dynamodb-local"]
        self.emulator_url = by_name["myunisoft-emulator"].url
        self.say(
            f"services: moto {self.moto.url}, dynamodb-local {self.dynamodb.url}, "
            f"emulator {self.emulator_url}"
        )

    def _provision(self) -> None:
        # This process is the stack's own: boto3 reaches the local services through the same
        # AWS_ENDPOINT_URL* variables the handlers get.
        self.aws_environment = aws_environment(self.moto.url, self.dynamodb.url)
        os.environ.update(self.aws_environment)
        self.session = boto3.session.Session(region_name=LOCAL_REGION)
        self.parameters = _parameters(self.template, self.options, self.emulator_url)
        self._create_external_secrets()
        self.resources = provision(
            self.template,
            stack_name=self.options.stack_name,
            parameters=self.parameters,
            session=self.session,
        )
        self.topology = read_topology(self.template, self.resources.parameters)
        created = [lid for lid in self.resources.refs if lid in self.template["Resources"]]
        self.say(f"resources from {self.options.template_path.name}: {', '.join(sorted(created))}")

    def _create_external_secrets(self) -> None:
        """A template that names an existing third-party secret gets it created here (the demo's)."""
        declared = self.template.get("Parameters", {}) or {}
        if "ThirdPartySecretName" not in declared:
            return
        name = _parameter_value(self.template, self.parameters, "ThirdPartySecretName")
        if name:
            self.session.client("secretsmanager").create_secret(
                Name=name, SecretString=DEMO_THIRD_PARTY_SECRET
            )

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """What the function's sandbox sees: the template's variables, the local endpoints, Lambda's own."""
        assert self.resources is not None and self.topology is not None
        function = self.topology.functions[logical_id]
        paths = [str((REPO_ROOT / function.code_uri).resolve())]
        for layer in function.layers:
            content = self.template["Resources"][layer].get("Properties", {}).get("ContentUri", "")
            paths.append(str((REPO_ROOT / str(content)).resolve()))
        environment = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        environment.update(function_environment(self.template, self.resources, logical_id))
        environment.update(self.aws_environment)
        environment.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": f"{self.options.stack_name}-{logical_id}",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.options.stack_name}-{logical_id}",
                "_HANDLER": function.handler,
                "TZ": "UTC",
                "LOCAL_ACCOUNT_ID": LOCAL_ACCOUNT,
                "PYTHONPATH": os.pathsep.join(paths),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                # No X-Ray daemon here: Powertools' tracer is off, everything else runs as on AWS.
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        environment.update(LOCAL_FUNCTION_ENVIRONMENT)
        environment.update(self.options.environment)
        return environment

    def _start_functions(self) -> None:
        assert self.topology is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for logical_id, function in self.topology.functions.items():
            log = (self.log_dir / f"{logical_id}.log").open("a", encoding="utf-8")
            self._logs.append(log)
            first = FunctionHost(
                logical_id,
                function.handler,
                environment=self.function_environment(logical_id),
                timeout_s=float(function.timeout_s),
                memory_mb=function.memory_mb,
                cwd=REPO_ROOT,
                log=_Tee(log, self.say, logical_id) if self.options.verbose else log,
            )
            self.hosts[logical_id] = FunctionPool(first, max_sandboxes=self.max_sandboxes(logical_id))
        # Warm one sandbox of every function at once (cold starts in parallel, not on the first
        # request); more start when invocations overlap.
        with ThreadPoolExecutor(max_workers=max(len(self.hosts), 1)) as pool:
            failures = [
                f"{name}: {exc}"
                for name, exc in zip(self.hosts, pool.map(_start_quietly, self.hosts.values()), strict=True)
                if exc is not None
            ]
        if failures:
            raise StackError("a function could not start:\n" + "\n".join(failures))
        self.say(
            "functions: "
            + ", ".join(f"{n} ({h.handler}, up to {h.max_sandboxes})" for n, h in self.hosts.items())
        )

    def max_sandboxes(self, function: str) -> int:
        """The function's concurrency: ``--concurrency`` if given, else what the template allows."""
        assert self.topology is not None
        if function in self.options.concurrency:
            return self.options.concurrency[function]
        return self.topology.max_sandboxes(function, self.options.default_concurrency)

    def _start_front_and_pollers(self) -> None:
        assert self.front is not None and self.topology is not None and self.resources is not None
        issuer = _parameter_value(self.template, self.parameters, "JwtIssuer") or ""
        audience = _parameter_value(self.template, self.parameters, "JwtAudience") or ""
        claim = _parameter_value(self.template, self.parameters, "TenantClaim") or "tenant"
        self.front.front = Front(
            self.topology.routes,
            self._invoke,
            JwtSettings(issuer=issuer, audience=audience, tenant_claim=claim),
            control=self._control,
            on_request=lambda line: self.say(f"api       {line}"),
            timeout_error=_TimedOut,
        )
        sqs = self.session.client("sqs")
        for mapping in self.topology.queues:
            poller = QueuePoller(
                mapping=mapping,
                queue_url=self.resources.get_att(mapping.queue, "QueueUrl"),
                queue_arn=self.resources.get_att(mapping.queue, "Arn"),
                invoke=self._invoke,
                sqs=sqs,
                retry_delay_s=self.options.retry_delay_s,
                on_batch=lambda line: self.say(f"sqs       {line}"),
                concurrency=min(
                    self.topology.queue_concurrency(mapping, self.options.default_concurrency),
                    self.max_sandboxes(mapping.function),
                ),
            )
            self.pollers.append(poller.start())
        streams = self.session.client("dynamodbstreams")
        for stream in self.topology.streams:
            stream_poller = StreamPoller(
                mapping=stream,
                stream_arn=self.resources.get_att(stream.table, "StreamArn"),
                invoke=self._invoke,
                streams=streams,
                on_batch=lambda line: self.say(f"stream    {line}"),
            )
            self.stream_pollers.append(stream_poller.start())
        self.front.start()
        routes = len(self.topology.routes)
        queues = (
            ", ".join(
                [f"{p.mapping.queue} -> {p.mapping.function} (x{p.concurrency})" for p in self.pollers]
                + [f"{m.table} stream -> {m.function}" for m in self.topology.streams]
            )
            or "none"
        )
        schedules = ", ".join(f"{s.name} ({s.function})" for s in self.topology.schedules) or "none"
        self.say(f"front: {routes} routes on {self.api_url}; pollers: {queues}; schedules: {schedules}")

    @property
    def api_url(self) -> str:
        return self.front.url if self.front is not None else ""

    @property
    def ready_line(self) -> str:
        return f"READY api={self.api_url} emulator={self.emulator_url}"

    # -- invocations -----------------------------------------------------------------------------

    def _invoke(self, function: str, event: dict[str, Any], timeout_s: float | None) -> Any:
        try:
            return self.hosts[function].invoke(event, timeout_s=timeout_s).payload
        except InvokeError as exc:
            if exc.error_type == "Sandbox.Timedout":
                raise _TimedOut(str(exc)) from exc
            raise

    def scheduled_event(self, schedule: Schedule) -> dict[str, Any]:
        """The event EventBridge sends a scheduled rule's target."""
        rule = f"{self.options.stack_name}-{schedule.function}{schedule.name}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": LOCAL_REGION,
            "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule}"],
            "detail": {},
        }

    def fire(self, name: str) -> dict[str, Any]:
        """Fire a schedule now; returns the function's answer."""
        assert self.topology is not None
        schedule = self.topology.schedule(name)
        self.say(f"schedule  {schedule.name} -> {schedule.function}")
        payload = self._invoke(schedule.function, self.scheduled_event(schedule), None)
        return {"schedule": schedule.name, "function": schedule.function, "result": payload}

    def queue_counts(self) -> list[dict[str, Any]]:
        assert self.resources is not None and self.topology is not None
        sqs = self.session.client("sqs")
        counts = []
        for poller in self.pollers:
            url = poller.queue_url
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            row: dict[str, Any] = {
                "queue": poller.mapping.queue,
                "function": poller.mapping.function,
                "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                "dead_letters": None,
                "pollers": poller.concurrency,
                "enabled": poller.enabled,
                "poller": poller.stats.as_dict(),
            }
            redrive = attributes.get("RedrivePolicy")
            if redrive:
                dlq_name = json.loads(redrive)["deadLetterTargetArn"].rsplit(":", 1)[-1]
                dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
                dlq = sqs.get_queue_attributes(
                    QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
                )
                row["dead_letters"] = int(dlq["Attributes"].get("ApproximateNumberOfMessages", 0))
            counts.append(row)
        return counts

    def describe(self) -> dict[str, Any]:
        """What runs: URLs, functions, routes, queues and every child process id."""
        assert self.topology is not None and self.resources is not None
        secret = {
            name
            for name, spec in (self.template.get("Parameters", {}) or {}).items()
            if str(spec.get("NoEcho", "")).lower() == "true"
        }
        return {
            "api": self.api_url,
            "emulator": self.emulator_url,
            "stack_name": self.options.stack_name,
            "parameters": {k: ("****" if k in secret else v) for k, v in self.resources.parameters.items()},
            "functions": {name: pool.describe() for name, pool in self.hosts.items()},
            "routes": [r.route_key for r in self.topology.routes],
            "queues": {m.queue: self.resources.get_att(m.queue, "QueueName") for m in self.topology.queues},
            "schedules": [s.name for s in self.topology.schedules],
            "services": {s.name: {"url": s.url, "pid": s.process.pid} for s in self.services},
            "pids": self.child_pids(),
            "log_dir": str(self.log_dir),
        }

    def alive_children(self) -> list[int]:
        """Child processes still running (empty after ``stop()``)."""
        running = [s.process.pid for s in self.services if s.process.poll() is None]
        running += [pid for pool in self.hosts.values() for pid in pool.alive_pids()]
        return sorted(running)

    def child_pids(self) -> list[int]:
        pids = [s.process.pid for s in self.services]
        pids += [pid for pool in self.hosts.values() for pid in pool.pids]
        return sorted(pids)

    def _control(self, request: HttpRequest) -> HttpResponse | None:
        path = urlsplit(request.target).path
        method = request.method.upper()
        if path == "/_local/health" and method == "GET":
            return HttpResponse.json(200, {"status": "ok"})
        if path == "/_local/stack" and method == "GET":
            return HttpResponse.json(200, self.describe())
        if path == "/_local/queues" and method == "GET":
            return HttpResponse.json(200, {"queues": self.queue_counts()})
        if path.startswith("/_local/mappings/") and method == "POST":
            return self._switch_mapping(unquote(path.removeprefix("/_local/mappings/")), request.body)
        if path.startswith("/_local/schedules/") and method == "POST":
            name = unquote(path.removeprefix("/_local/schedules/"))
            try:
                return HttpResponse.json(200, self.fire(name))
            except KeyError as exc:
                return HttpResponse.json(404, {"message": str(exc.args[0])})
            except Exception as exc:
                return HttpResponse.json(502, {"message": f"the schedule's function failed: {exc}"})
        return HttpResponse.json(404, {"message": "Not Found"})

    def _switch_mapping(self, name: str, body: bytes) -> HttpResponse:
        """``POST /_local/mappings/{event name} {"enabled": bool}``: an SQS mapping off or on."""
        pollers = [p for p in self.pollers if name in (p.mapping.name, p.mapping.queue)]
        if len(pollers) != 1:
            known = ", ".join(sorted(p.mapping.name for p in self.pollers))
            return HttpResponse.json(404, {"message": f"no single SQS mapping named {name!r} ({known})"})
        try:
            enabled = json.loads(body or b"{}")["enabled"]
        except (ValueError, KeyError, TypeError):
            enabled = None
        if not isinstance(enabled, bool):
            return HttpResponse.json(400, {"message": 'the body must be {"enabled": true|false}'})
        pollers[0].enable(enabled)
        self.say(f"mapping   {pollers[0].mapping.name} {'enabled' if enabled else 'disabled'}")
        return HttpResponse.json(200, {"mapping": pollers[0].mapping.name, "enabled": enabled})

    # -- stop ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop pollers, the front, every sandbox and service; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for poller in self.pollers:
            poller._stop.set()
        for stream_poller in self.stream_pollers:
            stream_poller.stop()
        for poller in self.pollers:
            poller.stop()
        if self.front is not None:
            with contextlib.suppress(Exception):
                if self.front._thread is not None:
                    self.front.stop()
                else:
                    self.front.server_close()
        with ThreadPoolExecutor(max_workers=max(len(self.hosts) + len(self.services), 1)) as pool:
            for future in [pool.submit(h.stop) for h in self.hosts.values()] + [
                pool.submit(s.stop) for s in self.services
            ]:
                with contextlib.suppress(Exception):
                    future.result()
        for log in self._logs:
            with contextlib.suppress(Exception):
                log.close()


class _TimedOut(RuntimeError):
    """An invocation outlived the function's (or API Gateway's) timeout."""


class _Tee:
    """A function log that also echoes each line on the stack's console (``--verbose``)."""

    def __init__(self, log: IO[str], say: Callable[[str], None], name: str):
        self.log, self.say, self.name = log, say, name

    def write(self, text: str) -> int:
        self.say(f"{self.name}: {text.rstrip()}")
        return self.log.write(text)

    def flush(self) -> None:
        self.log.flush()


def _start_quietly(host: FunctionPool) -> BaseException | None:
    try:
        host.start()
    except Exception as exc:
        return exc
    return None


def run(options: StackOptions) -> int:
    """Run the stack in the foreground until SIGINT/SIGTERM/SIGHUP; returns the exit code."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    stack = Stack(options)
    try:
        try:
            stack.start()
        except StackError as exc:
            print(f"bridge stack: {exc}", file=sys.stderr, flush=True)
            return 1
        if stop.is_set():  # interrupted while starting
            return 130
        print(stack.ready_line, flush=True)
        while not stop.wait(0.5):
            pass
        name = signal.Signals(received[0]).name if received else "signal"
        print(f"stopping ({name})...", flush=True)
        return 0
    finally:
        stack.stop()
        alive = stack.alive_children()
        if alive:
            print(f"stopped, but child processes {alive} are still running", file=sys.stderr, flush=True)
        else:
            print("stopped: every child process is gone", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
