"""Use cases of the file routes: a file's references, and refreshing them on demand."""

from __future__ import annotations

from typing import Protocol

from api.connections import ApiPorts, get_connection
from api.errors import ConnectionNotActive, FileNotVisible, NotFound, ReferencesNotReady
from tra_core.store.ports import FileRepository
from tra_core.store.records import ClientFile, ReferenceSnapshot, RefreshRequest, parse_file_id


class HasFiles(Protocol):
    """Ports that reach the client files (the API's and the intake routes' both do)."""

    @property
    def files(self) -> FileRepository: ...


def get_file(tenant: str, file_id: str, ports: HasFiles) -> ClientFile:
    """The tenant's client file; a file of another tenant is "not found", like a missing one."""
    parsed = parse_file_id(file_id)
    file = None if parsed is None else ports.files.get(*parsed)
    if file is None or file.tenant != tenant:
        raise NotFound("No such client file.", details={"file_id": file_id})
    return file


def get_references(tenant: str, file_id: str, ports: ApiPorts) -> ReferenceSnapshot:
    """The current version of a file's references (chart, subsidiaries, journals, fiscal years)."""
    file = get_file(tenant, file_id, ports)
    snapshot = None
    if file.reference_version is not None:
        snapshot = ports.snapshots.load(file.connection_id, file.society_id, file.reference_version)
    if snapshot is None:
        raise ReferencesNotReady(
            "The references of this client file have not been fetched yet; they are on their way.",
            details={"file_id": file_id},
        )
    return snapshot


def request_refresh(tenant: str, file_id: str, ports: ApiPorts) -> ClientFile:
    """Queue a refresh of one file's references now (the nightly refresh does every file)."""
    file = get_file(tenant, file_id, ports)
    connection = get_connection(tenant, file.connection_id, ports)
    if not connection.is_active:
        raise ConnectionNotActive(
            f"The connection is {connection.status.value}: paste a new firm key "
            "(PUT /connections/{id}/key) before refreshing.",
            details={"connection_id": connection.connection_id, "status": connection.status.value},
        )
    if not file.visible:
        raise FileNotVisible(
            "This client file is not visible with the connection's key: the user who generated the "
            "key may have lost access to it.",
            details={"file_id": file_id},
        )
    ports.queue.send(
        [RefreshRequest.for_file(tenant, file.connection_id, file.society_id, "manual", ports.clock())]
    )
    return file
