"""Check a ``sam build`` output: every function's handler imports the way Lambda would load it.

Lambda's Python runtime puts the function's code and each layer's ``python/`` folder on the path,
plus the runtime's own boto3; nothing else. This runs one isolated interpreter per function
(``-I -S``: no site-packages, no ``PYTHONPATH``; ``-B``: like Lambda's read-only ``/var/task``, it
writes no bytecode into the artifacts) with exactly that path, and imports the handler, so a
dependency missing from the layer's ``requirements.txt`` fails the build, not a deployment.

    python -m local.lambda_check [.aws-sam/build]
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from local.resources import load_template
from local.topology import Function, read_topology

#: What the Lambda Python runtime brings besides the standard library (the AWS SDK).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

_IMPORT = """
import importlib, sys
sys.path[:0] = {paths!r}
module_name, _, function_name = {handler!r}.rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)
assert callable(handler), {handler!r}
"""


def runtime_dir(into: Path) -> Path:
    """A folder holding (links to) the SDK packages the Lambda runtime provides."""
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return into


def code_paths(build_dir: Path, template: dict[str, Any], function: Function) -> list[str]:
    """What Lambda puts first on the path for ``function``: its code, then each layer's ``python/``."""
    paths = [str(build_dir / function.code_uri)]
    for layer in function.layers:
        content = template["Resources"][layer]["Properties"]["ContentUri"]
        paths.append(str(build_dir / str(content) / "python"))
    return paths


def check(build_dir: Path) -> list[str]:
    """Problems found (empty: every handler imports)."""
    template = load_template(build_dir / "template.yaml")
    topology = read_topology(template)
    problems = []
    with tempfile.TemporaryDirectory(prefix="lambda-runtime-") as runtime:
        sdk = runtime_dir(Path(runtime))
        for name, function in sorted(topology.functions.items()):
            paths = [*code_paths(build_dir, template, function), str(sdk)]
            code = _IMPORT.format(paths=paths, handler=function.handler)
            result = subprocess.run(
                [sys.executable, "-I", "-S", "-B", "-c", code],
                capture_output=True,
                text=True,
                env={"AWS_DEFAULT_REGION": "eu-west-3", "POWERTOOLS_SERVICE_NAME": "myunisoft-bridge"},
                timeout=120,
            )
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
                problems.append(f"{name} ({function.handler}): {last}")
            else:
                print(f"ok  {name}: {function.handler} imports from the build output")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    build_dir = Path(args[0] if args else ".aws-sam/build")
    if not (build_dir / "template.yaml").exists():
        print(f"lambda_check: no built template in {build_dir}; run `make build`", file=sys.stderr)
        return 2
    problems = check(build_dir)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
