"""The pure mapping from committed item changes to events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tra_core.domain.events import DATA_OF, Event, EventType, ItemChange, events_of

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
STATUSES = ["queued", "uploading", "uploaded", "rejected", "waiting_for_key", "failed"]


def entry_item(status: str, version: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "PK": "FILE#c1#2101",
        "SK": "ENTRY#e-1",
        "tenant": "t1",
        "connection_id": "c1",
        "society_id": Decimal(2101),
        "entry_id": "e-1",
        "version": Decimal(version),
        "status": status,
        "attempts": Decimal(0),
        **extra,
    }


def change(old: dict[str, Any] | None, new: dict[str, Any] | None, sequence: str = "100") -> ItemChange:
    image = new or old or {}
    return ItemChange({"PK": image["PK"], "SK": image["SK"]}, old, new, sequence, AT)


@given(st.sampled_from([None, *STATUSES]), st.sampled_from(STATUSES), st.integers(1, 5), st.text(min_size=1))
def test_an_entry_status_change_is_one_event_with_a_stable_id(
    previous: str | None, status: str, version: int, sequence: str
) -> None:
    old = None if previous is None else entry_item(previous, version)
    first = events_of(change(old, entry_item(status, version), sequence))
    again = events_of(change(old, entry_item(status, version), sequence))
    if previous == status:
        assert first == []
        return
    (event,) = first
    assert again == first
    assert event.id.startswith("evt_") and len(event.id) == 36
    assert event.type is EventType.ENTRY_STATUS_CHANGED
    assert event.data == {
        "connection_id": "c1",
        "file_id": "c1.2101",
        "entry_id": "e-1",
        "version": version,
        "status": status,
        "previous_status": previous,
        "last_error": None,
    }
    DATA_OF[event.type].model_validate(event.data)


def test_different_changes_of_one_item_get_different_ids() -> None:
    ids = {events_of(change(entry_item("queued"), entry_item("uploading"), str(n)))[0].id for n in range(50)}
    assert len(ids) == 50


def test_attempts_or_errors_without_a_status_change_make_no_event_but_a_new_version_does() -> None:
    error = {"code": "RATE_LIMITED", "message": "MyUnisoft asked to slow down.", "line": Decimal(2)}
    assert (
        events_of(change(entry_item("queued"), entry_item("queued", attempts=Decimal(2), last_error=error)))
        == []
    )
    (event,) = events_of(change(entry_item("rejected"), entry_item("queued", 2)))
    assert (event.data["version"], event.data["previous_status"]) == (2, "rejected")
    (rejected,) = events_of(change(entry_item("uploading"), entry_item("rejected", last_error=error)))
    assert rejected.data["last_error"] == {**error, "line": 2}


def verified_item(verification: str, myunisoft_id: str | None = None, version: int = 1) -> dict[str, Any]:
    copy: dict[str, Any] = {"verification": verification, "checks": Decimal(1)}
    if myunisoft_id is not None:
        copy["entry_id"] = myunisoft_id
    return entry_item("uploaded", version, myunisoft=copy)


def test_verification_ending_is_one_entry_verified_event() -> None:
    pending = verified_item("pending")
    (event,) = events_of(change(pending, verified_item("verified", "13524001")))
    assert event.type is EventType.ENTRY_VERIFIED
    assert event.data == {
        "connection_id": "c1",
        "file_id": "c1.2101",
        "entry_id": "e-1",
        "version": 1,
        "verification": "verified",
        "myunisoft_entry_id": "13524001",
    }
    DATA_OF[event.type].model_validate(event.data)
    (lost,) = events_of(change(pending, verified_item("not_found")))
    assert (lost.data["verification"], lost.data["myunisoft_entry_id"]) == ("not_found", None)


def test_verification_still_pending_or_unchanged_makes_no_verified_event() -> None:
    assert events_of(change(entry_item("uploading"), verified_item("pending")))[0].type is (
        EventType.ENTRY_STATUS_CHANGED
    )
    assert events_of(change(verified_item("pending"), verified_item("pending"))) == []
    assert events_of(change(verified_item("pending"), verified_item("unavailable"))) == []
    done = verified_item("verified", "1")
    assert events_of(change(done, {**done, "updated_at": "2026-12-01T10:00:00+00:00"})) == []


def connection_item(status: str) -> dict[str, Any]:
    return {"PK": "TENANT#t1", "SK": "CONN#c1", "tenant": "t1", "connection_id": "c1", "status": status}


def test_connection_status_changes() -> None:
    (created,) = events_of(change(None, connection_item("active")))
    assert created.data == {"connection_id": "c1", "status": "active", "previous_status": None}
    (revoked,) = events_of(change(connection_item("active"), connection_item("revoked")))
    assert (revoked.type, revoked.data["previous_status"]) == (EventType.CONNECTION_STATUS_CHANGED, "active")
    assert events_of(change(connection_item("active"), connection_item("active"))) == []


def file_item(**extra: Any) -> dict[str, Any]:
    return {
        "PK": "CONN#c1",
        "SK": "FILE#2101",
        "tenant": "t1",
        "connection_id": "c1",
        "society_id": Decimal(2101),
        "name": "BOULANGERIE",
        "visible": True,
        **extra,
    }


def test_files_discovered_vanished_and_back() -> None:
    seen = {"connection_id": "c1", "file_id": "c1.2101", "society_id": 2101, "name": "BOULANGERIE"}
    (new,) = events_of(change(None, file_item()))
    assert (new.type, new.data) == (EventType.FILE_DISCOVERED, seen)
    (gone,) = events_of(change(file_item(), file_item(visible=False)))
    assert (gone.type, gone.data) == (EventType.FILE_VANISHED, seen)
    (back,) = events_of(change(file_item(visible=False), file_item()))
    assert back.type is EventType.FILE_DISCOVERED
    assert events_of(change(file_item(), file_item(last_seen_at="2026-12-02"))) == []


def test_a_new_reference_version_counts_what_changed_and_the_first_counts_everything_as_added() -> None:
    counts = {
        "accounts": Decimal(10),
        "subsidiaries": Decimal(3),
        "journals": Decimal(5),
        "fiscal_years": Decimal(2),
    }
    first = file_item(
        reference_version=Decimal(1),
        reference_counts=counts,
        last_refresh={"version": Decimal(1), "changes": {}},
    )
    (initial,) = events_of(change(file_item(), first))
    assert initial.data == {
        "connection_id": "c1",
        "file_id": "c1.2101",
        "version": 1,
        "added": 20,
        "removed": 0,
        "changed": 0,
    }
    changes = {
        "accounts_added": Decimal(2),
        "journals_closed": Decimal(1),
        "subsidiaries_removed": Decimal(1),
        "fiscal_years_reopened": Decimal(1),
    }
    second = file_item(
        reference_version=Decimal(2),
        reference_counts=counts,
        last_refresh={"version": Decimal(2), "changes": changes},
    )
    (event,) = events_of(change(first, second))
    assert (event.type, event.data["version"]) == (EventType.FILE_REFERENCES_CHANGED, 2)
    assert (event.data["added"], event.data["removed"], event.data["changed"]) == (2, 1, 2)
    assert (
        events_of(
            change(second, file_item(reference_version=Decimal(2), last_refresh={"outcome": "unchanged"}))
        )
        == []
    )


@given(
    st.sampled_from(["BATCH#b1", "LIMIT#c1", "TENANT#t1", "FILE#c1#2101"]),
    st.sampled_from(["META", "WINDOW", "WEBHOOK", "LEASE#x"]),
)
def test_items_a_hub_does_not_see_make_no_event(partition: str, sort: str) -> None:
    item = {"PK": partition, "SK": sort, "tenant": "t1", "status": "queued", "connection_id": "c1"}
    assert events_of(ItemChange({"PK": partition, "SK": sort}, None, item, "1", AT)) == []


def test_the_event_json_is_compact_and_stable() -> None:
    (event,) = events_of(change(None, connection_item("active")))
    text = event.to_json()
    assert Event.model_validate_json(text).to_json() == text
    assert text.startswith('{"id":"evt_') and '"type":"connection.status_changed"' in text


def test_occurred_at_is_the_writers_time_when_the_item_has_one() -> None:
    written = "2026-12-01T09:00:01.123456+00:00"
    (event,) = events_of(change(entry_item("queued"), entry_item("uploading", updated_at=written)))
    assert event.occurred_at == datetime.fromisoformat(written)
    (other,) = events_of(change(entry_item("queued"), entry_item("uploading", updated_at="garbage")))
    assert other.occurred_at == AT
