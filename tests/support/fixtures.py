"""Pytest fixtures for integration tests: moto's server, DynamoDB Local and the emulator on free ports,
the template's resources on them, and the handlers' environment taken from the template.

The start/stop logic lives in ``local.services`` (the local stack uses it too); these fixtures only
decide the scope: the services start once per session, each test gets its own resources (a fresh
"stack" with a unique name) and a reset emulator.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local.resources import LocalStack, function_environment, load_template, provision
from local.services import Service, aws_environment, start_dynamodb_local, start_emulator, start_moto

#: The demo third-party secret of the emulator's fixtures (docs/architecture.md §3.5): not a credential.
DEMO_SECRET = "demo-third-party-secret"
#: Fast rate budget for tests (100 requests per second); the emulator is configured to match.
FAST_LIMIT = 100
FAST_WINDOW_S = 1.0
FAST_MARGIN_S = 0.05
#: A firm key of the demo firm that lacks the upload route (for the "missing route" refusal).
NARROW_KEY = "narrow-firm-key"

HANDLER_MODULES = ("api.wiring", "refresh.wiring", "verify.wiring")


@dataclass
class LocalServices:
    moto: Service
    dynamodb: Service

    @property
    def environment(self) -> dict[str, str]:
        return aws_environment(self.moto.url, self.dynamodb.url)


class EmulatorControl:
    """The emulator's test-control routes (``/_emulator/...``)."""

    def __init__(self, service: Service):
        self.service = service
        self.url = service.url
        self._http = httpx.Client(base_url=service.url, timeout=10.0)

    def _post(self, path: str, body: Any = None) -> Any:
        response = self._http.post(f"/_emulator/{path}", json=body if body is not None else {})
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._post("reset")

    def revoke(self, token: str) -> None:
        self._post(f"keys/{token}/revoke")

    def maintenance(self, on: bool = True) -> None:
        self._post("maintenance", {"on": on})

    def disconnect_third_party(self, message: str = "") -> None:
        self._post("third-party", {"connected": False, "message": message})

    def configure(self, **settings: Any) -> None:
        self._post("config", settings)

    def requests(self) -> list[dict[str, Any]]:
        response = self._http.get("/_emulator/requests")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def close(self) -> None:
        self._http.close()


def emulator_fixture_file(directory: Path, **extra: Any) -> Path:
    """A fixture file: the demo data plus a firm key without the upload route, plus ``extra``."""
    from emulator.fixtures import ALL_ROUTES, DEMO_FIRM_SCHEMA

    routes = [{"method": m, "path": p} for m, p in ALL_ROUTES if p != "/api/v1/TRA/partial"]
    data: dict[str, Any] = {
        "include_demo": True,
        "keys": [{"token": NARROW_KEY, "type": "firm", "schema_id": DEMO_FIRM_SCHEMA, "routes": routes}],
        **extra,
    }
    path = directory / f"emulator-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def start_test_emulator(directory: Path, *arguments: str, **fixture_extra: Any) -> Service:
    fixtures = emulator_fixture_file(directory, **fixture_extra)
    return start_emulator(
        arguments=[
            "--quiet",
            "--fixtures",
            str(fixtures),
            "--rate-limit",
            str(FAST_LIMIT),
            "--rate-window",
            str(FAST_WINDOW_S),
            *arguments,
        ]
    )


@pytest.fixture(scope="session")
def local_services() -> Iterator[LocalServices]:
    """moto's server and DynamoDB Local, started once for the whole session."""
    with start_moto() as moto, start_dynamodb_local() as dynamodb:
        yield LocalServices(moto=moto, dynamodb=dynamodb)


@pytest.fixture(scope="session")
def emulator_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with start_test_emulator(tmp_path_factory.mktemp("emulator")) as service:
        yield service


@pytest.fixture
def emulator(emulator_service: Service) -> Iterator[EmulatorControl]:
    """The session's emulator, reset to its fixtures for this test."""
    control = EmulatorControl(emulator_service)
    control.reset()
    yield control
    control.close()


def _reset_handler_caches() -> None:
    import importlib

    for name in HANDLER_MODULES:
        importlib.import_module(name).reset()


@pytest.fixture
def aws(local_services: LocalServices, monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """This process's boto3 (handlers included) pointed at the local services."""
    for name, value in local_services.environment.items():
        monkeypatch.setenv(name, value)
    _reset_handler_caches()
    yield boto3.session.Session()
    _reset_handler_caches()


@dataclass
class Stack:
    """One test's resources, created from ``template.yaml``, and the handlers' environment."""

    resources: LocalStack
    template: dict[str, Any]
    session: boto3.session.Session
    overrides: dict[str, str]

    def ref(self, logical_id: str) -> str:
        return self.resources.ref(logical_id)

    def environment(self, function: str) -> dict[str, str]:
        return {**function_environment(self.template, self.resources, function), **self.overrides}

    def use(self, function: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set this process's environment as ``function`` would see it (and forget cached clients)."""
        for name, value in self.environment(function).items():
            monkeypatch.setenv(name, value)
        _reset_handler_caches()


def make_stack(
    session: boto3.session.Session,
    *,
    myunisoft_url: str,
    overrides: dict[str, str] | None = None,
) -> Stack:
    template = load_template()
    stack_name = f"t{uuid.uuid4().hex[:10]}"
    # The third-party secret exists before the stack, as an operator creates it (template.yaml).
    secret_name = f"{stack_name}/third-party-secret"
    session.client("secretsmanager").create_secret(Name=secret_name, SecretString=DEMO_SECRET)
    resources = provision(
        template,
        stack_name=stack_name,
        parameters={
            "ThirdPartySecretName": secret_name,
            "JwtIssuer": "https://auth.hub.example",
            "JwtAudience": "myunisoft-bridge",
            "MyUnisoftBaseUrl": myunisoft_url,
        },
        session=session,
    )
    fast = {
        "RATE_LIMIT_REQUESTS": str(FAST_LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": str(FAST_WINDOW_S),
        "RATE_LIMIT_MARGIN_SECONDS": str(FAST_MARGIN_S),
        "RATE_LIMIT_MAX_WAIT_SECONDS": "20",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    return Stack(
        resources=resources, template=template, session=session, overrides={**fast, **(overrides or {})}
    )


@pytest.fixture
def stack(aws: boto3.session.Session, emulator: EmulatorControl) -> Stack:
    """This test's table, bucket, queues, KMS key and third-party secret, made from the template."""
    return make_stack(aws, myunisoft_url=emulator.url)


def worker_environment(stack: Stack, function: str) -> dict[str, str]:
    """The full environment of a worker process: this one, the local AWS endpoints and the function's."""
    return {**os.environ, **stack.environment(function)}
