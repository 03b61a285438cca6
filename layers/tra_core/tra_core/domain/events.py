"""The events a hub receives, derived from the state table's committed changes (docs/architecture.md §9).

Pure: one item change in (the key, the item before and after, the stream's sequence number and
time), the events it means out. The stream consumer feeds it the table's change stream, so an event
exists exactly when its change was committed: a crash never loses one, a rolled-back write never
invents one.

Business rules:

- an entry's ``status`` or ``version`` changed (a new entry is a change from nothing) →
  ``entry.status_changed``; attempts, warnings or an error kept without a status change are not;
- a connection's ``status`` changed (a new connection is a change from nothing) →
  ``connection.status_changed``;
- a client file appeared, or came back after being hidden → ``file.discovered``; a file the firm's
  key no longer lists → ``file.vanished`` (its data stays);
- a file's reference version changed → ``file.references_changed`` with the counts the refresh
  recorded (the first version counts everything as added);
- ``entry.verified`` when an uploaded entry's verification ends (``verified`` with MyUnisoft's id,
  or ``not_found``), read from the entry item's ``myunisoft`` map.

An event's id is derived from the change itself (table key, event type, the stream record's
sequence number), so a redelivered stream batch yields the same ids and a hub can de-duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

EVENT_SOURCE = "myunisoft-bridge"
"""The EventBridge ``source`` of every event."""


class EventType(StrEnum):
    ENTRY_STATUS_CHANGED = "entry.status_changed"
    ENTRY_VERIFIED = "entry.verified"
    CONNECTION_STATUS_CHANGED = "connection.status_changed"
    FILE_DISCOVERED = "file.discovered"
    FILE_VANISHED = "file.vanished"
    FILE_REFERENCES_CHANGED = "file.references_changed"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntryStatusChanged(_Data):
    connection_id: str
    file_id: str
    entry_id: str
    version: int
    status: str
    previous_status: str | None
    last_error: dict[str, Any] | None


class EntryVerified(_Data):
    """Verification ended: ``verification`` is ``verified`` or ``not_found``."""

    connection_id: str
    file_id: str
    entry_id: str
    version: int
    verification: str
    myunisoft_entry_id: str | None


class ConnectionStatusChanged(_Data):
    connection_id: str
    status: str
    previous_status: str | None


class FileSeen(_Data):
    """The data of ``file.discovered`` and ``file.vanished``."""

    connection_id: str
    file_id: str
    society_id: int
    name: str


class FileReferencesChanged(_Data):
    """Counts of accounts, subsidiaries, journals and fiscal years added, removed, changed (closed or
    reopened) by the new reference version."""

    connection_id: str
    file_id: str
    version: int
    added: int
    removed: int
    changed: int


DATA_OF: dict[EventType, type[_Data]] = {
    EventType.ENTRY_STATUS_CHANGED: EntryStatusChanged,
    EventType.ENTRY_VERIFIED: EntryVerified,
    EventType.CONNECTION_STATUS_CHANGED: ConnectionStatusChanged,
    EventType.FILE_DISCOVERED: FileSeen,
    EventType.FILE_VANISHED: FileSeen,
    EventType.FILE_REFERENCES_CHANGED: FileReferencesChanged,
}
"""The shape of each type's ``data`` (the README documents them for hub developers)."""


class Event(BaseModel):
    """``{"id": "evt_...", "type", "occurred_at", "tenant", "data"}``, as POSTed and put on the bus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: EventType
    occurred_at: datetime
    tenant: str
    data: dict[str, Any]

    def to_json(self) -> str:
        """The event's JSON: compact, keys in a fixed order, so every delivery sends the same bytes."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One committed change of a table item: its key, its images (``None`` when absent) and where
    the change sits in the stream. Values are plain (strings, numbers, dicts, lists)."""

    keys: Mapping[str, Any]
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    sequence_number: str
    committed_at: datetime


def event_id(change: ItemChange, event_type: EventType) -> str:
    """``evt_`` + 32 hex digits, the same every time the same change is read."""
    seed = "\x1f".join(
        (
            str(change.keys.get("PK", "")),
            str(change.keys.get("SK", "")),
            event_type.value,
            change.sequence_number,
        )
    )
    return "evt_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _occurred_at(change: ItemChange) -> datetime:
    """When the change happened: the writer's ``updated_at`` when the item has one (entries,
    connections: to the microsecond), else the stream's commit time (to the second)."""
    written = change.new.get("updated_at") if change.new is not None else None
    if isinstance(written, str):
        try:
            parsed = datetime.fromisoformat(written)
        except ValueError:
            return change.committed_at
        if parsed.tzinfo is not None:
            return parsed
    return change.committed_at


def _event(change: ItemChange, event_type: EventType, tenant: str, data: _Data) -> Event:
    return Event(
        id=event_id(change, event_type),
        type=event_type,
        occurred_at=_occurred_at(change),
        tenant=tenant,
        data=data.model_dump(mode="json"),
    )


def _plain(value: Any) -> Any:
    """Stream numbers arrive as ``Decimal``: whole ones become ``int`` (nothing here is money)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _get(image: Mapping[str, Any] | None, name: str) -> Any:
    return None if image is None else _plain(image.get(name))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _file_id(connection_id: str, society_id: int) -> str:
    return f"{connection_id}.{society_id}"


# -- entries ------------------------------------------------------------------------------------


def _entry_status_changed(change: ItemChange, new: Mapping[str, Any]) -> Event | None:
    status, version = _get(new, "status"), _int(_get(new, "version"))
    previous_status = _get(change.old, "status")
    if not isinstance(status, str) or version is None:
        return None
    if change.old is not None and (previous_status, _int(_get(change.old, "version"))) == (status, version):
        return None
    connection_id, society_id = _get(new, "connection_id"), _int(_get(new, "society_id"))
    if not isinstance(connection_id, str) or society_id is None:
        return None
    last_error = _get(new, "last_error")
    data = EntryStatusChanged(
        connection_id=connection_id,
        file_id=_file_id(connection_id, society_id),
        entry_id=str(_get(new, "entry_id")),
        version=version,
        status=status,
        previous_status=previous_status if isinstance(previous_status, str) else None,
        last_error=last_error if isinstance(last_error, dict) else None,
    )
    return _event(change, EventType.ENTRY_STATUS_CHANGED, str(_get(new, "tenant")), data)


_VERIFICATION_ENDS = frozenset({"verified", "not_found"})


def _verification(image: Mapping[str, Any] | None) -> tuple[str | None, int | None, Any]:
    """(verification, version, MyUnisoft's id) of an entry image; Nones where absent."""
    copy = _get(image, "myunisoft")
    if not isinstance(copy, Mapping):
        return None, _int(_get(image, "version")), None
    return copy.get("verification"), _int(_get(image, "version")), copy.get("entry_id")


def _entry_verified(change: ItemChange, new: Mapping[str, Any]) -> Event | None:
    """``entry.verified`` when an entry version's verification ends (``verified`` or ``not_found``)."""
    verification, version, myunisoft_id = _verification(new)
    if verification not in _VERIFICATION_ENDS or version is None:
        return None
    if _verification(change.old)[:2] == (verification, version):
        return None
    connection_id, society_id = _get(new, "connection_id"), _int(_get(new, "society_id"))
    if not isinstance(connection_id, str) or society_id is None:
        return None
    data = EntryVerified(
        connection_id=connection_id,
        file_id=_file_id(connection_id, society_id),
        entry_id=str(_get(new, "entry_id")),
        version=version,
        verification=str(verification),
        myunisoft_entry_id=str(myunisoft_id) if myunisoft_id is not None else None,
    )
    return _event(change, EventType.ENTRY_VERIFIED, str(_get(new, "tenant")), data)


_ENTRY_MAPPINGS: tuple[Callable[[ItemChange, Mapping[str, Any]], Event | None], ...] = (
    _entry_status_changed,
    _entry_verified,
)
"""Each maps one entry change to at most one event."""


def _entry_events(change: ItemChange) -> list[Event]:
    if change.new is None:
        return []
    return [event for mapping in _ENTRY_MAPPINGS if (event := mapping(change, change.new)) is not None]


# -- connections --------------------------------------------------------------------------------


def _connection_events(change: ItemChange) -> list[Event]:
    new = change.new
    status, previous = _get(new, "status"), _get(change.old, "status")
    connection_id, tenant = _get(new, "connection_id"), _get(new, "tenant")
    if not (isinstance(status, str) and isinstance(connection_id, str) and isinstance(tenant, str)):
        return []
    if status == previous:
        return []
    data = ConnectionStatusChanged(
        connection_id=connection_id,
        status=status,
        previous_status=previous if isinstance(previous, str) else None,
    )
    return [_event(change, EventType.CONNECTION_STATUS_CHANGED, tenant, data)]


# -- client files -------------------------------------------------------------------------------


def _visible(image: Mapping[str, Any] | None) -> bool:
    return image is not None and _get(image, "visible") is not False


def _references_changed(change: ItemChange, new: Mapping[str, Any], file: FileSeen) -> _Data | None:
    version = _int(_get(new, "reference_version"))
    if version is None or version == _int(_get(change.old, "reference_version")):
        return None
    last = _get(new, "last_refresh")
    counts = last.get("changes") if isinstance(last, dict) and last.get("version") == version else None
    counts = counts if isinstance(counts, dict) else {}
    totals = {"added": 0, "removed": 0, "changed": 0}
    for name, value in counts.items():
        kind = str(name).rsplit("_", 1)[-1]
        bucket = {"added": "added", "removed": "removed", "closed": "changed", "reopened": "changed"}.get(
            kind
        )
        if bucket is not None and isinstance(value, int):
            totals[bucket] += value
    if _int(_get(change.old, "reference_version")) is None and not counts:
        # The first version: everything in it is new.
        reference_counts = _get(new, "reference_counts")
        if isinstance(reference_counts, dict):
            totals["added"] = sum(v for v in reference_counts.values() if isinstance(v, int))
    return FileReferencesChanged(
        connection_id=file.connection_id, file_id=file.file_id, version=version, **totals
    )


def _file_events(change: ItemChange) -> list[Event]:
    new = change.new
    connection_id, tenant = _get(new, "connection_id"), _get(new, "tenant")
    society_id = _int(_get(new, "society_id"))
    if new is None or not isinstance(connection_id, str) or not isinstance(tenant, str) or society_id is None:
        return []
    events: list[Event] = []
    seen = FileSeen(
        connection_id=connection_id,
        file_id=_file_id(connection_id, society_id),
        society_id=society_id,
        name=str(_get(new, "name") or ""),
    )
    was_visible, is_visible = _visible(change.old), _visible(new)
    if is_visible and not was_visible:
        events.append(_event(change, EventType.FILE_DISCOVERED, tenant, seen))
    elif was_visible and not is_visible:
        events.append(_event(change, EventType.FILE_VANISHED, tenant, seen))
    references = _references_changed(change, new, seen)
    if references is not None:
        events.append(_event(change, EventType.FILE_REFERENCES_CHANGED, tenant, references))
    return events


def events_of(change: ItemChange) -> list[Event]:
    """The events one committed item change means (none for items a hub does not see)."""
    partition, sort = str(change.keys.get("PK", "")), str(change.keys.get("SK", ""))
    if partition.startswith("FILE#") and sort.startswith("ENTRY#"):
        return _entry_events(change)
    if partition.startswith("TENANT#") and sort.startswith("CONN#"):
        return _connection_events(change)
    if partition.startswith("CONN#") and sort.startswith("FILE#"):
        return _file_events(change)
    return []
