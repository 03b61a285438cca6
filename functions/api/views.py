"""The JSON the API answers (docs/architecture.md §3.4): API keys never appear, only their fingerprint."""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.connections import Connected
from tra_core.store.records import ClientFile, Connection, ReferenceSnapshot


def connected(result: Connected) -> dict[str, Any]:
    return {
        "connection_id": result.connection.connection_id,
        "status": result.connection.status.value,
        "files": [
            {"file_id": f.file_id, "society_id": f.society_id, "name": f.name}
            for f in result.discovery.visible_files
        ],
        "warnings": list(result.discovery.warnings),
    }


def connection(item: Connection, files: list[ClientFile], entries: dict[str, int]) -> dict[str, Any]:
    refreshed = [f.last_refresh for f in files if f.last_refresh is not None]
    latest = max(refreshed, key=lambda r: r.at, default=None)
    return {
        "connection_id": item.connection_id,
        "status": item.status.value,
        "status_reason": (
            None if item.status_code is None else {"code": item.status_code, "message": item.status_message}
        ),
        "schema_id": item.schema_id,
        "key_fingerprint": item.key_fingerprint,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
        "entries": entries,
        "files": {
            "total": len(files),
            "visible": sum(1 for f in files if f.visible),
            "references": dict(sorted(Counter(f.reference_status.value for f in files).items())),
        },
        "last_refresh": None
        if latest is None
        else {
            "at": latest.at.isoformat(),
            "outcomes": dict(sorted(Counter(r.outcome for r in refreshed).items())),
        },
        "last_discovery_at": None if item.last_discovery_at is None else item.last_discovery_at.isoformat(),
        "warnings": list(item.discovery_warnings),
    }


def client_file(item: ClientFile) -> dict[str, Any]:
    last = item.last_refresh
    return {
        "file_id": item.file_id,
        "society_id": item.society_id,
        "name": item.name,
        "siret": item.siret,
        "folder_reference": item.folder_reference,
        "visible": item.visible,
        "not_visible_since": None if item.not_visible_since is None else item.not_visible_since.isoformat(),
        "references": {
            "status": item.reference_status.value,
            "version": item.reference_version,
            "refreshed_at": None if item.refreshed_at is None else item.refreshed_at.isoformat(),
            "counts": None if item.reference_counts is None else item.reference_counts.model_dump(),
            "last_refresh": None if last is None else last.model_dump(mode="json", exclude_none=True),
        },
    }


def references(snapshot: ReferenceSnapshot) -> dict[str, Any]:
    body: dict[str, Any] = {"version": snapshot.version, "refreshed_at": snapshot.refreshed_at.isoformat()}
    body.update(snapshot.references.model_dump(mode="json"))
    return body
