"""Use cases of the connection routes: connect a firm key, read, replace the key, disconnect.

Onboarding (docs/architecture.md §1): the key is validated *and activated* with
``GET /api/v1/key/info?mode=extended``; it must be a firm key whose routes cover what the bridge
needs. It is stored encrypted (``KeyVault``), the firm's dossiers are discovered, one client file is
created per dossier and a reference fetch is queued for each. The key itself is never returned,
logged or written to an item: the connection keeps its fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from api.errors import (
    FIRM_KEY_HOWTO,
    KeyRejected,
    NotFound,
    ServiceUnavailable,
)
from tra_core.myunisoft.errors import (
    AccessForbidden,
    ForbiddenRoute,
    KeyInvalid,
    KeyRevoked,
    Maintenance,
    MyUnisoftError,
    ThirdPartyDisconnected,
    ThirdPartySecretRejected,
)
from tra_core.myunisoft.models import KeyInfo, Society
from tra_core.store.ports import (
    ConnectionRepository,
    FileRepository,
    KeyVault,
    MyUnisoftIds,
    RefreshQueue,
    SnapshotStore,
)
from tra_core.store.records import (
    ClientFile,
    Connection,
    ConnectionStatus,
    DiscoveredFile,
    Discovery,
    RefreshReason,
    RefreshRequest,
    connection_id_for,
    key_fingerprint,
)


class FirmClient(Protocol):
    """The MyUnisoft calls onboarding makes (``tra_core.myunisoft.client.MyUnisoftClient``)."""

    def key_info(self, extended: bool = False) -> KeyInfo: ...

    def list_societies(self) -> list[Society]: ...

    def close(self) -> None: ...


class FirmClients(Protocol):
    def open(self, api_key: str) -> FirmClient: ...


@dataclass(frozen=True)
class ApiPorts:
    """Everything the API's use cases touch."""

    connections: ConnectionRepository
    files: FileRepository
    snapshots: SnapshotStore
    vault: KeyVault
    queue: RefreshQueue
    clients: FirmClients
    clock: Callable[[], datetime]
    ids: MyUnisoftIds
    """The MyUnisoft ids of verified entries (and the verification counts)."""


@dataclass(frozen=True)
class Connected:
    """The result of connecting a key: the connection, its files, and whether it is new."""

    connection: Connection
    discovery: Discovery
    created: bool


def connect(tenant: str, api_key: str, ports: ApiPorts) -> Connected:
    """Validate and activate a firm key, then create (or give back) the tenant's connection to that firm.

    The same firm connected twice by one tenant is one connection: the key is replaced, the files
    rediscovered, and the existing connection returned.
    """
    with closing(ports.clients.open(api_key)) as client:
        info = _validated_key_info(client)
        schema_id = _schema_id(info)
        connection_id = connection_id_for(tenant, schema_id)
        existing = ports.connections.get(tenant, connection_id)
        connection = _activate(tenant, connection_id, schema_id, api_key, existing, ports)
        discovery = _discover(connection, client, ports)
    connection = _record_discovery(connection, discovery, ports)
    pending = [f for f in discovery.visible_files if existing is None or f.reference_version is None]
    _queue_refresh(connection, pending, "onboarding", ports)
    return Connected(connection=connection, discovery=discovery, created=existing is None)


def replace_key(tenant: str, connection_id: str, api_key: str, ports: ApiPorts) -> Connected:
    """Put a new key of the same firm on a connection (after a revocation); its work resumes.

    A key of another firm is refused: it would silently point the connection's files elsewhere.
    """
    existing = get_connection(tenant, connection_id, ports)
    with closing(ports.clients.open(api_key)) as client:
        info = _validated_key_info(client)
        if _schema_id(info) != existing.schema_id:
            raise KeyRejected(
                "This key belongs to another MyUnisoft firm than this connection. Paste a key of the "
                "same firm, or create a new connection for the other firm.",
                code="KEY_OTHER_FIRM",
            )
        connection = _activate(tenant, connection_id, existing.schema_id, api_key, existing, ports)
        discovery = _discover(connection, client, ports)
    connection = _record_discovery(connection, discovery, ports)
    _queue_refresh(connection, discovery.visible_files, "key_replaced", ports)
    return Connected(connection=connection, discovery=discovery, created=False)


def get_connection(tenant: str, connection_id: str, ports: ApiPorts) -> Connection:
    """The tenant's connection; another tenant's connection is "not found", like a missing one."""
    connection = ports.connections.get(tenant, connection_id)
    if connection is None:
        raise NotFound("No such connection.", details={"connection_id": connection_id})
    return connection


def change_settings(
    tenant: str, connection_id: str, *, create_missing_subsidiaries: bool, ports: ApiPorts
) -> Connection:
    """Change the connection's settings (``PATCH /connections/{id}``); the connection as it now is.

    ``create_missing_subsidiaries`` applies to the entries the worker checks from now on; entries
    already waiting for a third party are checked again at the next refresh of their file.
    """
    changed = ports.connections.set_settings(
        tenant, connection_id, create_missing_subsidiaries=create_missing_subsidiaries, now=ports.clock()
    )
    if changed is None:
        raise NotFound("No such connection.", details={"connection_id": connection_id})
    return changed


def disconnect(tenant: str, connection_id: str, ports: ApiPorts) -> Connection:
    """Destroy the stored key and stop all work of the connection; files and their history stay."""
    connection = get_connection(tenant, connection_id, ports)
    if connection.secret_ref is not None:
        ports.vault.destroy(connection.secret_ref)
    disconnected = connection.model_copy(
        update={
            "status": ConnectionStatus.DISCONNECTED,
            "secret_ref": None,
            "status_code": "DISCONNECTED",
            "status_message": "Disconnected by the firm: the key was destroyed.",
            "updated_at": ports.clock(),
        }
    )
    ports.connections.save(disconnected)
    return disconnected


def list_files(tenant: str, connection_id: str, ports: ApiPorts) -> list[ClientFile]:
    connection = get_connection(tenant, connection_id, ports)
    return ports.files.list(connection.connection_id)


# -- steps ---------------------------------------------------------------------------------------


def _validated_key_info(client: FirmClient) -> KeyInfo:
    """``key/info?mode=extended`` (which activates the key), checked for what the bridge needs."""
    try:
        info = client.key_info(extended=True)
    except MyUnisoftError as exc:
        raise _explain(exc) from exc
    if not info.is_firm_key:
        raise KeyRejected(
            'This is a client-file key (MyUnisoft "Accès société"): it opens a single client file. '
            + FIRM_KEY_HOWTO,
            code="KEY_NOT_FIRM",
        )
    missing = info.missing_routes()
    if missing:
        routes = ", ".join(f"{method.upper()} {path}" for method, path in missing)
        raise KeyRejected(
            f"This key does not allow every call the bridge needs (missing: {routes}). " + FIRM_KEY_HOWTO,
            code="KEY_MISSING_ROUTES",
            details={"missing_routes": [f"{method.upper()} {path}" for method, path in missing]},
        )
    return info


def _schema_id(info: KeyInfo) -> int:
    if info.target is None or info.target.schema_id is None:
        raise ServiceUnavailable(
            "MyUnisoft did not say which firm this key belongs to; try again later.",
            code="MYUNISOFT_BAD_RESPONSE",
        )
    return info.target.schema_id


def _activate(
    tenant: str,
    connection_id: str,
    schema_id: int,
    api_key: str,
    existing: Connection | None,
    ports: ApiPorts,
) -> Connection:
    now = ports.clock()
    secret_ref = ports.vault.store(connection_id, api_key)
    connection = Connection(
        connection_id=connection_id,
        tenant=tenant,
        schema_id=schema_id,
        status=ConnectionStatus.ACTIVE,
        key_fingerprint=key_fingerprint(api_key),
        secret_ref=secret_ref,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        last_discovery_at=existing.last_discovery_at if existing else None,
        discovery_warnings=existing.discovery_warnings if existing else (),
        create_missing_subsidiaries=existing.create_missing_subsidiaries if existing else True,
    )
    ports.connections.save(connection)
    return connection


def _discover(connection: Connection, client: FirmClient, ports: ApiPorts) -> Discovery:
    try:
        societies = client.list_societies()
    except MyUnisoftError as exc:
        raise _explain(exc) from exc
    listed = [DiscoveredFile.of_society(s) for s in societies]
    return ports.files.apply_discovery(connection, listed, ports.clock())


def _record_discovery(connection: Connection, discovery: Discovery, ports: ApiPorts) -> Connection:
    # A targeted update: a worker may have changed the connection's status meanwhile.
    at = ports.clock()
    ports.connections.record_discovery(
        connection.tenant, connection.connection_id, at=at, warnings=discovery.warnings
    )
    return connection.model_copy(update={"last_discovery_at": at, "discovery_warnings": discovery.warnings})


def _queue_refresh(
    connection: Connection,
    files: Sequence[ClientFile],
    reason: RefreshReason,
    ports: ApiPorts,
) -> None:
    now = ports.clock()
    ports.queue.send(
        [
            RefreshRequest.for_file(connection.tenant, connection.connection_id, f.society_id, reason, now)
            for f in files
        ]
    )


def _explain(exc: MyUnisoftError) -> KeyRejected | ServiceUnavailable:
    """Business rule: say why MyUnisoft refused, in the accountant's terms, and what to do."""
    if isinstance(exc, KeyInvalid):
        return KeyRejected(
            "MyUnisoft cannot read this key: it is incomplete, mistyped or from another MyUnisoft "
            "environment. Copy the whole key again, or generate a new one. " + FIRM_KEY_HOWTO,
            code="KEY_INVALID",
            details=_myunisoft_details(exc),
        )
    if isinstance(exc, KeyRevoked):
        return KeyRejected(
            "MyUnisoft does not recognise this key: it was revoked or regenerated since it was copied. "
            + FIRM_KEY_HOWTO,
            code="KEY_REVOKED",
            details=_myunisoft_details(exc),
        )
    if isinstance(exc, ThirdPartyDisconnected):
        reason = f" MyUnisoft says: {exc.myunisoft_message}" if exc.myunisoft_message else ""
        return KeyRejected(
            "MyUnisoft has disabled the connection between your firm and this bridge."
            + reason
            + " Re-enable the connector in MyUnisoft (Settings > Connectors) or ask MyUnisoft's support.",
            code="THIRD_PARTY_DISCONNECTED",
            details=_myunisoft_details(exc),
        )
    if isinstance(exc, AccessForbidden):
        return KeyRejected(
            "MyUnisoft does not allow this key to use its API. " + FIRM_KEY_HOWTO,
            code="KEY_FORBIDDEN",
            details=_myunisoft_details(exc),
        )
    if isinstance(exc, ForbiddenRoute):
        return KeyRejected(
            "This key is not allowed to list the firm's client files. " + FIRM_KEY_HOWTO,
            code="KEY_MISSING_ROUTES",
            details=_myunisoft_details(exc),
        )
    if isinstance(exc, ThirdPartySecretRejected):
        return ServiceUnavailable(
            "MyUnisoft refused the bridge's own partner credentials; your key was not checked. The "
            "service's operators must fix this: try again later.",
            code="BRIDGE_NOT_AUTHORISED",
        )
    if isinstance(exc, Maintenance):
        return ServiceUnavailable(
            "MyUnisoft is under maintenance; your key was not checked. Try again in a few minutes.",
            code="MYUNISOFT_MAINTENANCE",
            retry_after_s=300,
        )
    return ServiceUnavailable(
        "MyUnisoft did not answer properly; your key was not checked. Try again in a few minutes.",
        code="MYUNISOFT_UNAVAILABLE",
        retry_after_s=60,
    )


def _myunisoft_details(exc: MyUnisoftError) -> dict[str, object]:
    return {
        key: value
        for key, value in (("myunisoft_code", exc.myunisoft_code), ("request_id", exc.request_id))
        if value is not None
    }
