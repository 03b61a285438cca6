"""The answers of the connection and file routes (docs/architecture.md §3.4): never a key, only its
fingerprint."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from api.connections import Connected
from api.response_models import (
    ClientFileView,
    ConnectedView,
    ConnectionSettings,
    ConnectionView,
    DisconnectedView,
    FileCounts,
    FileReferencesView,
    FileSummary,
    FilesView,
    ReferencesView,
    RefreshSummary,
    StatusReason,
)
from tra_core.domain.verification import Verification
from tra_core.store.records import ClientFile, Connection, ReferenceSnapshot


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def connected(result: Connected) -> ConnectedView:
    return ConnectedView(
        connection_id=result.connection.connection_id,
        status=result.connection.status,
        files=[
            FileSummary(file_id=f.file_id, society_id=f.society_id, name=f.name)
            for f in result.discovery.visible_files
        ],
        warnings=list(result.discovery.warnings),
    )


def connection(
    item: Connection, files: list[ClientFile], entries: dict[str, int], verification: dict[str, int]
) -> ConnectionView:
    refreshed = [f.last_refresh for f in files if f.last_refresh is not None]
    latest = max(refreshed, key=lambda r: r.at, default=None)
    return ConnectionView(
        connection_id=item.connection_id,
        status=item.status,
        status_reason=None
        if item.status_code is None
        else StatusReason(code=item.status_code, message=item.status_message),
        schema_id=item.schema_id,
        key_fingerprint=item.key_fingerprint,
        created_at=item.created_at.isoformat(),
        updated_at=item.updated_at.isoformat(),
        entries=entries,
        verification={state.value: verification.get(state.value, 0) for state in Verification},
        files=FileCounts(
            total=len(files),
            visible=sum(1 for f in files if f.visible),
            references=dict(sorted(Counter(f.reference_status.value for f in files).items())),
        ),
        last_refresh=None
        if latest is None
        else RefreshSummary(
            at=latest.at.isoformat(), outcomes=dict(sorted(Counter(r.outcome for r in refreshed).items()))
        ),
        last_discovery_at=_at(item.last_discovery_at),
        warnings=list(item.discovery_warnings),
        settings=ConnectionSettings(create_missing_subsidiaries=item.create_missing_subsidiaries),
    )


def disconnected(item: Connection) -> DisconnectedView:
    return DisconnectedView(connection_id=item.connection_id, status=item.status)


def client_file(item: ClientFile) -> ClientFileView:
    return ClientFileView(
        file_id=item.file_id,
        society_id=item.society_id,
        name=item.name,
        siret=item.siret,
        folder_reference=item.folder_reference,
        visible=item.visible,
        not_visible_since=_at(item.not_visible_since),
        references=FileReferencesView(
            status=item.reference_status,
            version=item.reference_version,
            refreshed_at=_at(item.refreshed_at),
            counts=item.reference_counts,
            last_refresh=item.last_refresh,
        ),
    )


def client_files(items: list[ClientFile]) -> FilesView:
    return FilesView(files=[client_file(f) for f in items])


def references(snapshot: ReferenceSnapshot) -> ReferencesView:
    found = snapshot.references
    return ReferencesView(
        version=snapshot.version,
        refreshed_at=snapshot.refreshed_at.isoformat(),
        accounts=list(found.accounts),
        subsidiaries=list(found.subsidiaries),
        journals=list(found.journals),
        fiscal_years=list(found.fiscal_years),
    )
