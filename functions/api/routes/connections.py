"""The connection routes: connect a firm key, read a connection, replace its key, disconnect, its files.

Each route's input is validated by its declared types (``api.request_models``) before it runs; it
calls one use case (``api.connections``) and returns its view (``api.views``). Typed errors are
mapped to statuses by the composition root (``api.resolver``); ``responses`` documents them all.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from api import views, wiring
from api.connections import ApiPorts, change_settings, connect, disconnect, get_connection, list_files
from api.entries import replace_key_and_resume
from api.refusals import BODY, KEY, MODEL_BODY, MYUNISOFT, PATH, answer, responses
from api.request import tenant_of
from api.request_models import ConnectionId, KeyRequest, SettingsRequest
from api.response_models import ConnectedView, ConnectionView, DisconnectedView, FilesView
from api.telemetry import metrics
from tra_core.store.records import Connection

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

PastedKey = Annotated[KeyRequest, Body(description="The firm key pasted by the accountant.")]
Settings = Annotated[SettingsRequest, Body(description="The settings to change.")]


@router.post(
    "/connections",
    summary="Connect a MyUnisoft firm with its firm key",
    responses={
        **answer(201, ConnectedView, "The firm is connected; its client files are being fetched."),
        **answer(200, ConnectedView, "This firm was already connected: its key is replaced."),
        **responses(BODY, MODEL_BODY, KEY, MYUNISOFT),
    },
)
def create_connection(request: PastedKey) -> Response[ConnectedView]:
    api_key = request.api_key.get_secret_value()
    result = connect(tenant_of(router.current_event), api_key, wiring.get_ports())
    metrics.add_metric(
        name="ConnectionsCreated" if result.created else "ConnectionsReused", unit=MetricUnit.Count, value=1
    )
    metrics.add_metric(name="FilesDiscovered", unit=MetricUnit.Count, value=len(result.discovery.new))
    return Response(
        status_code=201 if result.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=views.connected(result),
    )


@router.get(
    "/connections/<connection_id>",
    summary="A connection: its status, its key's fingerprint, its counts",
    responses={**answer(200, ConnectionView, "The connection."), **responses(PATH)},
)
def read_connection(connection_id: ConnectionId) -> ConnectionView:
    ports = wiring.get_ports()
    return _connection_view(get_connection(tenant_of(router.current_event), connection_id, ports), ports)


def _connection_view(item: Connection, ports: ApiPorts) -> ConnectionView:
    """The connection with its files' refreshes, its entries by status and by verification."""
    return views.connection(
        item,
        ports.files.list(item.connection_id),
        ports.connections.count_entries_by_status(item.connection_id),
        ports.ids.count_by_verification(item.connection_id),
    )


@router.patch(
    "/connections/<connection_id>",
    summary="Change the connection's settings (whether missing third parties are created)",
    responses={
        **answer(200, ConnectionView, "The settings are changed; the connection as it now is."),
        **responses(PATH, BODY, MODEL_BODY),
    },
)
def patch_connection(connection_id: ConnectionId, request: Settings) -> ConnectionView:
    ports = wiring.get_ports()
    item = change_settings(
        tenant_of(router.current_event),
        connection_id,
        create_missing_subsidiaries=request.create_missing_subsidiaries,
        ports=ports,
    )
    return _connection_view(item, ports)


@router.put(
    "/connections/<connection_id>/key",
    summary="Replace the connection's key (after a revocation); parked entries resume",
    responses={
        **answer(200, ConnectedView, "The key is replaced; the connection's work resumes."),
        **responses(PATH, BODY, MODEL_BODY, KEY, {422: ("KEY_OTHER_FIRM",)}, MYUNISOFT),
    },
)
def put_key(connection_id: ConnectionId, request: PastedKey) -> ConnectedView:
    result = replace_key_and_resume(
        tenant_of(router.current_event),
        connection_id,
        request.api_key.get_secret_value(),
        wiring.get_ports(),
        wiring.get_intake_ports,
    )
    metrics.add_metric(name="KeysReplaced", unit=MetricUnit.Count, value=1)
    return views.connected(result)


@router.delete(
    "/connections/<connection_id>",
    summary="Disconnect: the stored key is destroyed, nothing more is sent",
    responses={**answer(200, DisconnectedView, "The connection is disconnected."), **responses(PATH)},
)
def delete_connection(connection_id: ConnectionId) -> DisconnectedView:
    item = disconnect(tenant_of(router.current_event), connection_id, wiring.get_ports())
    return views.disconnected(item)


@router.get(
    "/connections/<connection_id>/files",
    summary="The connection's client files, each with its reference status",
    responses={**answer(200, FilesView, "The client files."), **responses(PATH)},
)
def read_files(connection_id: ConnectionId) -> FilesView:
    files = list_files(tenant_of(router.current_event), connection_id, wiring.get_ports())
    return views.client_files(files)
