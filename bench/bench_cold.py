"""Cold start: each handler imported from ``sam build``'s output the way the Lambda runtime loads it.

For every function of the built template, a fresh isolated interpreter (``-I -S``: no site-packages,
no ``PYTHONPATH``; ``-B``: no bytecode written, as on Lambda's read-only ``/var/task``) gets the
function's code, then each layer's ``python/``, then the runtime's own SDK on its path, with the
environment Lambda sets (``LAMBDA_TASK_ROOT``, the function's name, the template's Powertools
variables), and times the import of the handler. The **floor** is the same interpreter importing
only the libraries the project chose (boto3, pydantic, httpx, Powertools' Logger and Metrics) from
the same layer: what no handler can go below. Beside each handler, "+first call" adds the modules
its module imports inside its functions: what the first invocation loads, which init deferred.
Rounds are interleaved (every target once per round) so the machine's load falls on all alike;
each figure is the median of the rounds. The
ratio is taken on CPU time (the import is CPU-bound, as Lambda's init is), which a busy machine
disturbs far less than wall time; wall time is printed beside it.

    python bench/bench_cold.py [--rounds N] [--profile FUNCTION|floor] [.aws-sam/build]

``--profile`` prints, for one target, the modules that cost the most (``-X importtime``).
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.lambda_check import code_paths, runtime_dir
from local.resources import load_template
from local.topology import read_topology

FLOOR = "floor"
FIRST_CALL = " +first call"
FLOOR_IMPORT = "import boto3, httpx, pydantic\nfrom aws_lambda_powertools import Logger, Metrics"
HANDLER_IMPORT = """
import importlib
module_name, _, function_name = {handler!r}.rpartition(".")
assert callable(getattr(importlib.import_module(module_name), function_name))
"""
TIMED = """
import sys, time
sys.path[:0] = {paths!r}
wall, cpu = time.perf_counter(), time.process_time()
{statement}
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


@dataclass(frozen=True)
class Target:
    """One thing to import in a fresh interpreter: a function's handler, or the floor."""

    name: str
    paths: list[str]
    statement: str
    environment: dict[str, str]


def _literal_variables(*blocks: Any) -> dict[str, str]:
    """The template's environment variables that are plain strings (Powertools' settings)."""
    variables: dict[str, str] = {}
    for block in blocks:
        for key, value in ((block or {}).get("Environment", {}).get("Variables", {}) or {}).items():
            if isinstance(value, str | int | float):
                variables[key] = str(value)
    return variables


def deferred_imports(code_dir: Path, handler: str) -> list[str]:
    """The modules the handler's module imports inside its functions (what a first call loads)."""
    source = code_dir / (handler.rpartition(".")[0].replace(".", "/") + ".py")
    found: list[str] = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    found.append(inner.module)
                elif isinstance(inner, ast.Import):
                    found.extend(alias.name for alias in inner.names)
    return sorted(set(found))


def targets(build_dir: Path, sdk: Path) -> list[Target]:
    """Every function of the built template, each alone and with its first call's imports, then
    the floor (with the first function's path)."""
    template = load_template(build_dir / "template.yaml")
    topology = read_topology(template)
    found = []
    for name, function in sorted(topology.functions.items()):
        paths = [*code_paths(build_dir, template, function), str(sdk)]
        properties = template["Resources"][name]["Properties"]
        environment = {
            **_literal_variables(template.get("Globals", {}).get("Function"), properties),
            "AWS_REGION": "eu-west-3",
            "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "LAMBDA_TASK_ROOT": paths[0],
            "LAMBDA_RUNTIME_DIR": str(sdk),
            "_HANDLER": function.handler,
        }
        handler_import = HANDLER_IMPORT.format(handler=function.handler)
        found.append(Target(name, paths, handler_import, environment))
        deferred = "".join(f"import {name}\n" for name in deferred_imports(Path(paths[0]), function.handler))
        found.append(Target(name + FIRST_CALL, paths, handler_import + deferred, environment))
    first = found[0]
    found.append(Target(FLOOR, first.paths, FLOOR_IMPORT, first.environment))
    return found


def _run(target: Target, *flags: str) -> subprocess.CompletedProcess[str]:
    code = TIMED.format(paths=target.paths, statement=target.statement)
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", *flags, "-c", code],
        capture_output=True,
        text=True,
        env=target.environment,
        timeout=120,
        check=True,
    )


def measure(all_targets: list[Target], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(CPU, wall) seconds each target's import took, one fresh interpreter per target per round."""
    times: dict[str, list[tuple[float, float]]] = {target.name: [] for target in all_targets}
    for _ in range(rounds):
        for target in all_targets:
            cpu, wall = _run(target).stdout.split()
            times[target.name].append((float(cpu), float(wall)))
    return times


def profile(target: Target, top: int = 25) -> None:
    """The modules whose import cost the most (cumulative, then self), from ``-X importtime``."""
    rows = []
    for line in _run(target, "-X", "importtime").stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(cumulative), int(own), name))
    print(f"{target.name}: {len(rows)} modules imported")
    for cumulative, own, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative / 1000:8.1f} ms cumulative {own / 1000:7.1f} ms self  {name}")


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    """Median CPU and wall time per target, and the CPU time's ratio to the floor's."""
    floor = statistics.median(cpu for cpu, _ in times[FLOOR])
    machine = f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU(s)"
    print(f"{machine}, load {os.getloadavg()[0]:.1f}")
    print(f"{'target':<38}{'CPU median':>12}{'CPU min':>10}{'/ floor':>9}{'wall median':>13}")
    for name, values in times.items():
        cpu = statistics.median(value[0] for value in values)
        ratio = "" if name == FLOOR else f"{cpu / floor:.2f}x"
        wall = statistics.median(value[1] for value in values)
        print(f"{name:<38}{cpu:>11.3f}s{min(value[0] for value in values):>9.3f}s{ratio:>9}{wall:>12.3f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=".aws-sam/build", type=Path)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--profile", metavar="TARGET", help="a function's logical id, or 'floor'")
    args = parser.parse_args(argv)
    if not (args.build_dir / "template.yaml").exists():
        print(f"bench_cold: no built template in {args.build_dir}; run `make build`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lambda-runtime-") as runtime:
        all_targets = targets(args.build_dir, runtime_dir(Path(runtime)))
        if args.profile:
            profile(next(target for target in all_targets if target.name == args.profile))
            return 0
        report(measure(all_targets, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
