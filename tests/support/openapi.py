"""Check an answer of the API against docs/openapi.json: its route documents the status, and the
body conforms to the schema given for it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text("utf-8")
)


def documented_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The schema docs/openapi.json gives for this answer (the route found by its path template)."""
    for template, operations in DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path.split("?", 1)[0]) and method.lower() in operations:
            answers = operations[method.lower()]["responses"]
            assert str(status) in answers, f"{method} {template} does not document {status}"
            schema: dict[str, Any] = answers[str(status)]["content"]["application/json"]["schema"]
            return schema
    raise AssertionError(f"{method} {path[:80]} is not documented")


def assert_conforms(method: str, path: str, status: int, body: Any) -> None:
    """Fails unless docs/openapi.json documents this status for the route and the body fits it."""
    schema = documented_schema(method, path, status)
    jsonschema.validate(body, {**schema, "components": DOCUMENT["components"]})
