"""The connection routes: connect a firm key, read a connection, replace its key, disconnect, its files.

Each route reads its input, calls one use case (``api.connections``) and returns its view
(``api.views``); typed errors are mapped to statuses by the composition root (``api.app``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from api import views, wiring
from api.connections import connect, disconnect, get_connection, list_files
from api.entries import replace_key_and_resume
from api.request import json_body, tenant_of
from api.telemetry import metrics

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


class KeyRequest(BaseModel):
    """``{"api_key": "..."}``: the key is a secret from the moment it is parsed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: SecretStr = Field(min_length=1, max_length=8192)


def pasted_key() -> str:
    """The firm key of the request's body."""
    request = json_body(router.current_event, KeyRequest, '{"api_key": "..."}')
    return request.api_key.get_secret_value()


@router.post("/connections")
def create_connection() -> tuple[dict[str, Any], int]:
    result = connect(tenant_of(router.current_event), pasted_key(), wiring.get_ports())
    metrics.add_metric(
        name="ConnectionsCreated" if result.created else "ConnectionsReused", unit=MetricUnit.Count, value=1
    )
    metrics.add_metric(name="FilesDiscovered", unit=MetricUnit.Count, value=len(result.discovery.new))
    return views.connected(result), 201 if result.created else 200


@router.get("/connections/<connection_id>")
def read_connection(connection_id: str) -> dict[str, Any]:
    ports = wiring.get_ports()
    item = get_connection(tenant_of(router.current_event), connection_id, ports)
    files = ports.files.list(item.connection_id)
    return views.connection(item, files, ports.connections.count_entries_by_status(item.connection_id))


@router.put("/connections/<connection_id>/key")
def put_key(connection_id: str) -> dict[str, Any]:
    api_key = pasted_key()
    result = replace_key_and_resume(
        tenant_of(router.current_event), connection_id, api_key, wiring.get_ports(), wiring.get_intake_ports
    )
    metrics.add_metric(name="KeysReplaced", unit=MetricUnit.Count, value=1)
    return views.connected(result)


@router.delete("/connections/<connection_id>")
def delete_connection(connection_id: str) -> dict[str, Any]:
    item = disconnect(tenant_of(router.current_event), connection_id, wiring.get_ports())
    return {"connection_id": item.connection_id, "status": item.status.value}


@router.get("/connections/<connection_id>/files")
def read_files(connection_id: str) -> dict[str, Any]:
    files = list_files(tenant_of(router.current_event), connection_id, wiring.get_ports())
    return {"files": [views.client_file(f) for f in files]}
