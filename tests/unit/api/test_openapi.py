"""docs/openapi.json: generated from the routes' models, committed, valid OpenAPI 3, complete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from api.openapi import document, render
from local.resources import load_template
from local.topology import read_topology

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
COMMITTED_DOCUMENT: dict[str, Any] = json.loads(COMMITTED.read_text("utf-8"))


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each operation by (method, path with its parameters unnamed)."""
    return {
        (method.upper(), re.sub(r"\{[^/]+\}", "{}", path)): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def test_the_committed_description_is_the_one_the_code_generates() -> None:
    assert COMMITTED.read_text("utf-8") == render(), "docs/openapi.json is stale: run `make openapi`"


def test_the_description_is_valid_openapi_3() -> None:
    validate(COMMITTED_DOCUMENT)
    assert COMMITTED_DOCUMENT["openapi"].startswith("3.")


def test_every_route_api_gateway_sends_to_the_function_is_described() -> None:
    # Given the routes of template.yaml's HTTP API
    topology = read_topology(load_template())
    routes = {(r.method, re.sub(r"\{[^/]+\}", "{}", r.path)) for r in topology.routes}

    # Then the description has exactly these operations
    assert set(operations(document())) == routes


ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
GATEWAY = {"$ref": "#/components/schemas/GatewayMessage"}


def test_every_operation_documents_its_refusals_in_the_one_error_shape() -> None:
    for (method, path), operation in operations(COMMITTED_DOCUMENT).items():
        answers = operation["responses"]
        # Every route may refuse an unauthenticated request and may fail; none answers Powertools' 422
        assert {"401", "500"} <= set(answers), (method, path)
        if "{}" in path:
            assert "404" in answers, (method, path)
        if "requestBody" in operation or method in ("POST", "PUT"):
            assert {"400", "413", "415"} <= set(answers), (method, path)
        for status, answer in answers.items():
            if status == "204":
                assert "content" not in answer, (method, path)  # no body, none declared
                continue
            schema = answer["content"]["application/json"]["schema"]
            if int(status) >= 400:
                # API Gateway answers 401, 404 and 413 itself, in its own {"message"} shape
                shapes = [ERROR_BODY, GATEWAY] if status in ("401", "404", "413") else [ERROR_BODY]
                assert schema in ({"oneOf": shapes}, shapes[0]), (method, path, status)
                assert "Codes: " in answer["description"], (method, path, status)
    assert "HTTPValidationError" not in json.dumps(COMMITTED_DOCUMENT)
