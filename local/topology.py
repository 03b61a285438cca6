"""What the local stack must run, read from ``template.yaml``: functions, routes, queues, schedules.

The stack never re-declares a route, a queue mapping or a schedule: every one comes from the
functions' ``Events`` in the template (docs/architecture.md §7), so what runs locally is what deploys.
This module is pure (a template dict in, plain records out); ``local.stack`` puts it to work.

Defaults follow AWS's documented ones where the template is silent: an SQS event source mapping
takes 10 messages per batch with no batching window; a function runs 3 s (SAM's default timeout)
unless ``Globals`` or the function say otherwise; an ``HttpApi`` route uses its API's
``DefaultAuthorizer`` unless the event sets ``Auth: {Authorizer: NONE}``.

Concurrency (docs/architecture.md §7): a function runs up to ``Topology.max_sandboxes`` invocations at
once, the sum of what its events can start together (an SQS mapping's
``ScalingConfig.MaximumConcurrency``, one per stream shard times its ``ParallelizationFactor``, one
for its schedules) and, for what the template leaves unbounded (the API's routes, an SQS mapping
without ``MaximumConcurrency``), a local cap chosen by the stack; ``ReservedConcurrentExecutions``
caps the whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: SAM's default function timeout (seconds) and memory (MB) when neither Globals nor the function set one.
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
#: The SQS event source mapping's defaults.
DEFAULT_BATCH_SIZE = 10
#: Concurrent batches per stream shard when a DynamoDB mapping sets no ``ParallelizationFactor``.
DEFAULT_PARALLELIZATION_FACTOR = 1


class TopologyError(ValueError):
    """The template names something the local stack cannot run."""


@dataclass(frozen=True)
class Route:
    """One ``HttpApi`` event: ``METHOD /path/{param}`` handled by ``function``."""

    method: str
    path: str
    function: str
    api: str
    authorizer: str | None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueMapping:
    """One ``SQS`` event: the queue (logical id) feeding ``function``, as the event source mapping does."""

    name: str
    function: str
    queue: str
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window_s: int = 0
    report_item_failures: bool = False
    max_concurrency: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class StreamMapping:
    """One ``DynamoDB`` event: the table (logical id) whose change stream feeds ``function``."""

    name: str
    function: str
    table: str
    batch_size: int = 100
    starting_position: str = "LATEST"
    report_item_failures: bool = False
    max_retry_attempts: int = -1
    parallelization_factor: int = DEFAULT_PARALLELIZATION_FACTOR
    enabled: bool = True


@dataclass(frozen=True)
class Schedule:
    """One ``Schedule`` / ``ScheduleV2`` event: a rule that invokes ``function`` with a scheduled event."""

    name: str
    function: str
    expression: Any
    enabled: bool = True


@dataclass(frozen=True)
class Function:
    """A function of the template, with what its sandbox needs locally."""

    logical_id: str
    handler: str
    code_uri: str
    layers: tuple[str, ...]
    timeout_s: int
    memory_mb: int
    runtime: str
    #: ``ReservedConcurrentExecutions`` (None: the function shares the account's concurrency).
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class Topology:
    functions: dict[str, Function] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    queues: list[QueueMapping] = field(default_factory=list)
    streams: list[StreamMapping] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    #: HttpApi logical id → its default authorizer's name (None: routes are open).
    default_authorizers: dict[str, str | None] = field(default_factory=dict)

    def max_sandboxes(self, function: str, unbounded: int) -> int:
        """How many invocations of ``function`` may run at once (module docstring).

        ``unbounded`` stands for what the template does not bound: the API's routes and an SQS
        mapping without ``MaximumConcurrency`` each count for that many. At least 1, unless
        ``ReservedConcurrentExecutions`` is 0 (the function is switched off, as on AWS).
        """
        demand = sum(self.queue_concurrency(m, unbounded) for m in self.queues if m.function == function)
        demand += sum(m.parallelization_factor for m in self.streams if m.function == function)
        demand += unbounded if any(r.function == function for r in self.routes) else 0
        demand += 1 if any(s.function == function for s in self.schedules) else 0
        demand = max(demand, 1)
        reserved = self.functions[function].reserved_concurrency
        return demand if reserved is None else min(demand, reserved)

    @staticmethod
    def queue_concurrency(mapping: QueueMapping, unbounded: int) -> int:
        """Concurrent batches of one SQS mapping: its ``MaximumConcurrency``, else ``unbounded``."""
        return mapping.max_concurrency if mapping.max_concurrency is not None else unbounded

    def schedule(self, name: str) -> Schedule:
        """A schedule by its event name or its function's logical id (when it has only one)."""
        matches = [s for s in self.schedules if name in (s.name, s.function)]
        if len(matches) != 1:
            known = ", ".join(sorted(s.name for s in self.schedules)) or "none"
            raise KeyError(f"no single schedule named {name!r} (schedules: {known})")
        return matches[0]


def _logical_id(value: Any, what: str) -> str:
    """The logical id behind ``!Ref X`` / ``!GetAtt X.Arn`` (the only forms a local stack can follow)."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref" and isinstance(argument, str):
            return argument
        if name == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else list(argument)
            return str(parts[0])
    raise TopologyError(f"{what} must be a !Ref or !GetAtt of a resource of the template, not {value!r}")


def _int(value: Any, default: int, parameters: Mapping[str, str]) -> int:
    if value is None:
        return default
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return int(parameters[value["Ref"]])
    if isinstance(value, dict):
        raise TopologyError(f"{value!r} cannot be resolved locally (a parameter without a value?)")
    return int(value)


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _function(
    logical_id: str, properties: Mapping[str, Any], globals_: Mapping[str, Any], parameters: Mapping[str, str]
) -> Function:
    merged = {**globals_, **properties}
    reserved = merged.get("ReservedConcurrentExecutions")
    handler = merged.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TopologyError(f"{logical_id} has no Handler of the form module.function")
    layers = tuple(_logical_id(layer, f"{logical_id}.Layers") for layer in merged.get("Layers", []) or [])
    return Function(
        logical_id=logical_id,
        handler=handler,
        code_uri=str(merged.get("CodeUri", ".")),
        layers=layers,
        timeout_s=int(merged.get("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(merged.get("MemorySize", DEFAULT_MEMORY_MB)),
        runtime=str(merged.get("Runtime", "")),
        reserved_concurrency=None if reserved is None else _int(reserved, 0, parameters),
    )


def _default_authorizers(resources: Mapping[str, Any]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for logical_id, spec in resources.items():
        if spec.get("Type") == "AWS::Serverless::HttpApi":
            auth = spec.get("Properties", {}).get("Auth", {}) or {}
            found[logical_id] = auth.get("DefaultAuthorizer")
    return found


def read_topology(template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> Topology:
    """The functions of ``template`` and the events that invoke them."""
    defaults = {
        name: str(spec["Default"])
        for name, spec in (template.get("Parameters", {}) or {}).items()
        if "Default" in spec
    }
    parameters = {**defaults, **(parameters or {})}
    resources: Mapping[str, Any] = template["Resources"]
    globals_ = template.get("Globals", {}).get("Function", {}) or {}
    topology = Topology(default_authorizers=_default_authorizers(resources))
    for logical_id, spec in resources.items():
        if spec.get("Type") != "AWS::Serverless::Function":
            continue
        properties = spec.get("Properties", {}) or {}
        topology.functions[logical_id] = _function(logical_id, properties, globals_, parameters)
        for event_name, event in (properties.get("Events", {}) or {}).items():
            _add_event(topology, logical_id, event_name, event, parameters)
    topology.routes.sort(key=lambda r: (r.path, r.method))
    return topology


def _add_event(
    topology: Topology,
    function: str,
    event_name: str,
    event: Mapping[str, Any],
    parameters: Mapping[str, str],
) -> None:
    kind = event.get("Type")
    props = event.get("Properties", {}) or {}
    if kind == "HttpApi":
        api = _logical_id(props["ApiId"], f"{function}.{event_name}.ApiId") if "ApiId" in props else ""
        api = api or "ServerlessHttpApi"
        auth = props.get("Auth", {}) or {}
        authorizer = auth.get("Authorizer", topology.default_authorizers.get(api))
        topology.routes.append(
            Route(
                method=str(props.get("Method", "ANY")).upper(),
                path=str(props.get("Path", "$default")),
                function=function,
                api=api,
                authorizer=None if authorizer in (None, "NONE") else str(authorizer),
            )
        )
    elif kind == "SQS":
        scaling = props.get("ScalingConfig", {}) or {}
        concurrency = scaling.get("MaximumConcurrency")
        topology.queues.append(
            QueueMapping(
                name=event_name,
                function=function,
                queue=_logical_id(props["Queue"], f"{function}.{event_name}.Queue"),
                batch_size=_int(props.get("BatchSize"), DEFAULT_BATCH_SIZE, parameters),
                batching_window_s=_int(props.get("MaximumBatchingWindowInSeconds"), 0, parameters),
                report_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                max_concurrency=None if concurrency is None else _int(concurrency, 2, parameters),
                enabled=_bool(props.get("Enabled"), True),
            )
        )
    elif kind == "DynamoDB":
        topology.streams.append(
            StreamMapping(
                name=event_name,
                function=function,
                table=_logical_id(props["Stream"], f"{function}.{event_name}.Stream"),
                batch_size=_int(props.get("BatchSize"), 100, parameters),
                starting_position=str(props.get("StartingPosition", "LATEST")),
                report_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                max_retry_attempts=_int(props.get("MaximumRetryAttempts"), -1, parameters),
                parallelization_factor=_int(
                    props.get("ParallelizationFactor"), DEFAULT_PARALLELIZATION_FACTOR, parameters
                ),
                enabled=_bool(props.get("Enabled"), True),
            )
        )
    elif kind in ("Schedule", "ScheduleV2"):
        expression = props.get("Schedule", props.get("ScheduleExpression"))
        if isinstance(expression, dict) and set(expression) == {"Ref"}:
            expression = parameters.get(expression["Ref"], expression)
        enabled = props.get("Enabled", props.get("State", "ENABLED") == "ENABLED")
        topology.schedules.append(
            Schedule(name=event_name, function=function, expression=expression, enabled=_bool(enabled, True))
        )
    else:
        raise TopologyError(f"{function}.{event_name}: event type {kind!r} has no local counterpart")
