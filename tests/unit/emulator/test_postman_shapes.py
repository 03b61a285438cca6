"""For every saved Postman example, the emulator answers the same request with the same JSON shape.

"Shape" is keys and value types, recursively; ``null`` on either side matches any type (the
examples show ``null`` where other dossiers have values), and int and float are both numbers.
The examples file is read in place from ``../shared/reference/`` (skipped when absent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from emulator.app import EmulatorApp, create_app
from emulator.clock import ManualClock
from emulator.fixtures import DEMO_SECRET
from emulator.testing import EmulatorTransport, build_tra_archive

EXAMPLES = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "myunisoft-postman-examples.json"
)

#: Keys the documentation declares optional although one example omits them (§8: ``closed?``).
DOCUMENTED_OPTIONAL: dict[str, frozenset[str]] = {"diary_list": frozenset({"closed"})}

#: Example values that name MyUnisoft's own data, replaced by the demo fixtures' equivalents.
PARAMETER_REWRITES = {
    "siret": lambda app: app.data.dossier(2101).siret,
    "account_id": lambda app: str(app.data.dossier(2101).account("106100").account_id),
    "begin_by": lambda app: None,  # keep prefixes, but map full example numbers (below)
    "code": lambda app: "ACH",
    "reference": lambda app: "BMARTIN",
}
FULL_NUMBER_REWRITES = {"1064800": "106100", "3045408": "106100"}

#: Requests Postman sends without ``society-id`` although a firm key needs it (§5).
DOSSIER_PATHS = (
    "/api/v1/account",
    "/api/v1/diary",
    "/api/v1/society/exercice",
    "/api/v1/TRA",
    "/api/v1/mad/",
)


def _load_examples() -> dict[str, Any]:
    if not EXAMPLES.is_file():
        pytest.skip(f"the Postman examples file is not available at {EXAMPLES}")
    data: dict[str, Any] = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return data


def _cases() -> list[Any]:
    if not EXAMPLES.is_file():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"{EXAMPLES} is absent"))]
    cases = []
    for key, item in json.loads(EXAMPLES.read_text(encoding="utf-8"))["items"].items():
        for index, example in enumerate(item["item"].get("response", [])):
            cases.append(pytest.param(key, index, example, id=f"{key}[{example.get('name', index)}]"))
    return cases


# -- shape comparison ---------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_problems(
    expected: Any, actual: Any, path: str = "$", optional: frozenset[str] = frozenset()
) -> list[str]:
    """Where ``actual`` differs in shape from ``expected`` (empty when they match)."""
    if expected is None or actual is None:
        return []
    if _kind(expected) != _kind(actual):
        return [f"{path}: {_kind(actual)} instead of {_kind(expected)}"]
    if isinstance(expected, dict):
        problems = []
        missing = set(expected) - set(actual) - optional
        extra = set(actual) - set(expected) - optional
        problems += [f"{path}: missing key {k!r}" for k in sorted(missing)]
        problems += [f"{path}: unexpected key {k!r}" for k in sorted(extra)]
        for key in sorted(set(expected) & set(actual)):
            problems += shape_problems(expected[key], actual[key], f"{path}.{key}", optional)
        return problems
    if isinstance(expected, list):
        if not expected or not actual:
            return []
        if all(isinstance(e, dict) for e in expected):
            required = set.intersection(*(set(e) for e in expected))
            allowed = set.union(*(set(e) for e in expected))
            problems = []
            for index, element in enumerate(actual):
                where = f"{path}[{index}]"
                if not isinstance(element, dict):
                    problems.append(f"{where}: {_kind(element)} instead of object")
                    continue
                problems += [
                    f"{where}: missing key {k!r}" for k in sorted(required - set(element) - optional)
                ]
                problems += [
                    f"{where}: unexpected key {k!r}" for k in sorted(set(element) - allowed - optional)
                ]
                for key in sorted(set(element) & allowed):
                    samples = [e[key] for e in expected if e.get(key) is not None]
                    if samples:
                        problems += shape_problems(samples[0], element[key], f"{where}.{key}", optional)
            return problems
        return [
            p for i, a in enumerate(actual) for p in shape_problems(expected[0], a, f"{path}[{i}]", optional)
        ]
    return []


def test_shape_comparison_catches_differences() -> None:
    # A missing key, an extra key and a changed type are all reported; nulls match anything
    expected = {"a": 1, "b": [{"c": "x", "d": None}], "e": None}
    assert shape_problems(expected, {"a": 2.5, "b": [{"c": "y", "d": 3}], "e": {"z": 1}}) == []
    assert shape_problems(expected, {"a": "1", "b": [], "e": None}) == ["$.a: string instead of number"]
    assert shape_problems(expected, {"a": 1, "b": [{"c": "y"}], "f": 1}) == [
        "$: missing key 'e'",
        "$: unexpected key 'f'",
        "$.b[0]: missing key 'd'",
    ]


# -- replaying the examples --------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> EmulatorApp:
    return create_app(clock=ManualClock(), config={"rate_limit": 10_000})


def _request_for(
    key: str, example: dict[str, Any], app: EmulatorApp, purchase: dict[str, Any]
) -> httpx.Request:
    original = example["originalRequest"]
    raw_url = original["url"]["raw"] if isinstance(original["url"], dict) else original["url"]
    parts = urlsplit(raw_url.replace("{{root}}", "https://api.myunisoft.fr"))
    params = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "begin_by":
            value = FULL_NUMBER_REWRITES.get(value, value)
        elif name in PARAMETER_REWRITES and name != "begin_by":
            value = PARAMETER_REWRITES[name](app)
        params.append((name, value))
    sent = {h["key"].lower() for h in original.get("header", []) if not h.get("disabled")}
    token = (
        "demo-society-key"
        if key == "key_info" or "Company Access" in example.get("name", "")
        else "demo-firm-key"
    )
    headers = {"X-Third-Party-Secret": DEMO_SECRET, "Authorization": f"Bearer {token}"}
    if token == "demo-firm-key" and ("society-id" in sent or parts.path.startswith(DOSSIER_PATHS)):
        headers["society-id"] = "2101"
    content: bytes | None = None
    body = original.get("body") or {}
    method = original.get("method", "GET")
    if key == "tra_partial":
        content = build_tra_archive([purchase])
        headers["Content-Type"] = "application/octet-stream"
    elif key == "auth_firm_legacy":
        content = json.dumps(
            {"mail": "demo@cabinet-demo.example", "password": "demo-password", "firm": 80}
        ).encode()
        headers = {"Content-Type": "application/json"}
    elif body.get("mode") == "raw" and body.get("raw"):
        content = body["raw"].encode()
        headers["Content-Type"] = "application/json"
    return httpx.Request(
        method, f"http://emulator.test{parts.path}", params=params, headers=headers, content=content
    )


@pytest.mark.parametrize(("key", "index", "example"), _cases())
def test_emulator_answer_has_the_example_shape(
    key: str, index: int, example: dict[str, Any], emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given a saved Postman example and the same request against the demo fixtures
    expected = json.loads(example["body"])
    request = _request_for(key, example, emulator, purchase)

    # When the emulator answers it
    with httpx.Client(transport=EmulatorTransport(emulator)) as http:
        response = http.send(request)

    # Then it succeeds with the same JSON shape, as JSON with a request id
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["request-id"].startswith("req-")
    actual = response.json()
    assert actual, "an empty answer proves nothing about the shape"
    assert shape_problems(expected, actual, optional=DOCUMENTED_OPTIONAL.get(key, frozenset())) == []


def test_health_example_route_answers(emulator: EmulatorApp) -> None:
    examples = _load_examples()
    assert "health" in examples["items"]
    with httpx.Client(transport=EmulatorTransport(emulator)) as http:
        response = http.get("http://emulator.test/api/partners/health")
    assert response.status_code == 200


def test_error_answers_have_the_documented_shape(emulator: EmulatorApp) -> None:
    # Given the documentation's example of a revoked token
    examples = _load_examples()["non_postman_doc_examples"]
    expected = examples["docs/authentication/partenaire.md#Erreur (revoked or unknown token)"]

    # When the emulator is called with an unknown token
    with httpx.Client(transport=EmulatorTransport(emulator)) as http:
        response = http.get(
            "http://emulator.test/api/v1/society",
            headers={"X-Third-Party-Secret": DEMO_SECRET, "Authorization": "Bearer no-such-key"},
        )

    # Then the error has the same shape and code, and its request id matches the header
    body = response.json()
    assert shape_problems(expected, body) == []
    assert body["error"]["code"] == expected["error"]["code"]
    assert body["error"]["details"]["requestId"] == response.headers["request-id"]
