"""What the API fuzz run shares between its fixtures and its test: the real ids, the schema, the tally."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import strategies as st

from local.demo import Story
from local.services import REPO_ROOT

OPENAPI_DOCUMENT = REPO_ROOT / "docs" / "openapi.json"
SEED = 20261124


@dataclass(frozen=True)
class RealIds:
    """Ids the fuzz tenant really owns, substituted for generated path parameters."""

    connection_id: str
    file_id: str
    entry_id: str

    def by_parameter(self) -> dict[str, str]:
        return {"connection_id": self.connection_id, "file_id": self.file_id, "entry_id": self.entry_id}


@dataclass
class FuzzWorld:
    """The running stack, the tenant's real ids, and what the run saw (for the summary)."""

    api: str
    tenant: str
    ids: RealIds
    story: Story
    schema_source: str = ""
    requests: dict[str, int] = field(default_factory=dict)
    answers: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: dict[str, set[str]] = field(default_factory=dict)
    started_s: float = field(default_factory=time.monotonic)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer dev:{self.tenant}"}

    def record(self, label: str, answer: str) -> None:
        """One request of ``label`` answered ``answer`` (its status and error code)."""
        self.requests[label] = self.requests.get(label, 0) + 1
        seen = self.answers.setdefault(label, {})
        seen[answer] = seen.get(answer, 0) + 1

    def summary(self) -> list[str]:
        """The run in lines: requests and answers per operation, then every distinct failure."""
        lines = [f"schema: {self.schema_source}; stack: {self.api}; tenant: {self.tenant}", f"{self.ids}"]
        for label in sorted(self.requests):
            answers = ", ".join(f"{a} ×{n}" for a, n in sorted(self.answers.get(label, {}).items()))
            lines.append(f"  {label}: {self.requests[label]} requests ({answers})")
        elapsed = time.monotonic() - self.started_s
        lines.append(
            f"total: {sum(self.requests.values())} requests over {len(self.requests)} operations"
            f" in {elapsed:.0f}s (after the stack was up and the connection onboarded)"
        )
        failing = {label: kinds for label, kinds in self.failures.items() if kinds}
        lines.append(
            f"failures: {sum(len(k) for k in failing.values())} distinct, in {len(failing)} operations"
        )
        lines.extend(f"  {label}: {kind}" for label in sorted(failing) for kind in sorted(failing[label]))
        return lines


#: The session's world, for the terminal summary (a conftest and a test module share it through here).
WORLDS: list[FuzzWorld] = []


def openapi_document() -> tuple[dict[str, Any], str]:
    """The API's OpenAPI document and where it came from."""
    if OPENAPI_DOCUMENT.exists():
        return json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8")), "docs/openapi.json"
    from api.resolver import app  # the functions' code, on pytest's pythonpath

    generated = app.get_openapi_json_schema(title="myunisoft-bridge", version="0")
    return json.loads(generated), "generated from functions/api (there is no docs/openapi.json)"


def fuzz_config(max_examples: int) -> schemathesis.Config:
    """Fixed seed, bounded examples, valid and invalid input (the stack's address comes at call time)."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "request-timeout": 60,
            # Hypothesis' "too slow" health check measures time: on a loaded CI machine it would flake.
            "suppress-health-check": ["too_slow"],
            # No shrinking: a failure is reported as found (with its curl command), which bounds the run.
            "generation": {
                "max-examples": max_examples,
                "mode": "all",
                "database": "none",
                "no-shrink": True,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )


def real_ids_hook() -> Any:
    """A hook: each path parameter is the tenant's real id or the generated value (the fuzzer chooses).

    Hooks run when a test builds its strategies, after the session's fixtures made the world.
    """

    def flatmap_path_parameters(context: schemathesis.HookContext, parameters: dict[str, Any]) -> Any:
        if not isinstance(parameters, dict) or not parameters:
            return st.just(parameters)  # negative mode may draw something else than an object here
        real = WORLDS[0].ids.by_parameter()
        choices = [
            st.sampled_from([real[name], value]) if name in real else st.just(value)
            for name, value in parameters.items()
        ]
        return st.tuples(*choices).map(lambda values: dict(zip(parameters, values, strict=True)))

    return flatmap_path_parameters


def aim_coverage_case_at_real_ids(case: Any, ids: RealIds) -> None:
    """A coverage-phase case that tests its body or query gets the real ids in its path.

    The coverage phase (the schema's boundaries, one by one) runs no generation hooks, so without
    this its body cases would all stop at "no such file". A case whose target is a path parameter
    keeps its generated value: a hostile id is the point of that case.
    """
    meta = case.meta
    if meta is None or meta.phase.name != "coverage" or not case.path_parameters:
        return
    if getattr(meta.phase.data, "parameter_location", None) == "path":
        return
    real = ids.by_parameter()
    case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
