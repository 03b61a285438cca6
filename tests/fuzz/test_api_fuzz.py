"""Every operation of the API's OpenAPI document, fuzzed over HTTP through the local stack.

Checks: no answer is a server error (``not_a_server_error``) and every documented answer conforms
to its schema (``response_schema_conformance``). The seed and the number of examples per operation
are fixed (``tests/fuzz/harness.py``), so a run is reproducible and stays within minutes;
``FUZZ_MAX_EXAMPLES`` raises the bound for a deeper run by hand.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fuzz.harness import (
    FuzzWorld,
    aim_coverage_case_at_real_ids,
    fuzz_config,
    openapi_document,
    real_ids_hook,
)

CHECKS = [not_a_server_error, response_schema_conformance]
DISCONNECT = "DELETE /connections/{connection_id}"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))

DOCUMENT, SOURCE = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=fuzz_config(MAX_EXAMPLES))
schema.hook(real_ids_hook())


@schema.parametrize()
def test_no_server_error_and_every_answer_conforms(case: Any, fuzz_world: FuzzWorld) -> None:
    fuzz_world.schema_source = SOURCE
    label = case.operation.label
    aim_coverage_case_at_real_ids(case, fuzz_world.ids)
    response = case.call(base_url=fuzz_world.api, headers=fuzz_world.headers)
    answer = f"{response.status_code} {_error_code(response)}"
    fuzz_world.record(label, answer)
    try:
        case.validate_response(response, checks=CHECKS)
    except (AssertionError, BaseExceptionGroup) as exc:  # a failed check raises a FailureGroup
        titles = sorted({getattr(failure, "title", type(failure).__name__) for failure in _failures(exc)})
        fuzz_world.failures.setdefault(label, set()).add(
            f"{', '.join(titles)}: {answer}\n      {case.as_curl_command()[:400]}"
        )
        raise
    finally:
        if label == DISCONNECT and response.status_code == 200:
            # The real connection was disconnected: reconnect it, so what follows still reaches past 404s.
            fuzz_world.story.onboard()


def _failures(exc: BaseException) -> list[Any]:
    return list(getattr(exc, "exceptions", [exc]))


def _error_code(response: Any) -> Any:
    if response.status_code < 400:
        return ""
    try:
        return str(response.json()["error"]["code"])
    except Exception:
        return response.text[:40].replace("\n", " ")
