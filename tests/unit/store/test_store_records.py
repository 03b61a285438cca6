"""Records of the state: ids, fingerprints, discovery plans, snapshot bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tra_core.domain.discovery import plan_discovery
from tra_core.domain.references import Account, FiscalYear, References
from tra_core.store.records import (
    ClientFile,
    DiscoveredFile,
    ReferenceSnapshot,
    connection_id_for,
    file_id_for,
    key_fingerprint,
    parse_file_id,
    references_hash,
)
from tra_core.store.snapshots import decode_snapshot, encode_snapshot, snapshot_key

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _file(society_id: int, *, visible: bool = True) -> ClientFile:
    return ClientFile(
        connection_id="c1",
        tenant="t",
        society_id=society_id,
        visible=visible,
        first_seen_at=NOW,
        last_seen_at=NOW,
    )


def test_a_file_id_names_its_connection_and_dossier() -> None:
    file_id = file_id_for("c0123abc", 2101)
    assert parse_file_id(file_id) == ("c0123abc", 2101)


@pytest.mark.parametrize("file_id", ["", "c1", "c1.", ".2101", "c1.21a", "c1.-5", "c1." + "9" * 19])
def test_anything_else_is_not_a_file_id(file_id: str) -> None:
    assert parse_file_id(file_id) is None


def test_one_tenant_and_firm_make_one_connection_id() -> None:
    assert connection_id_for("tenant-a", 80) == connection_id_for("tenant-a", 80)
    assert connection_id_for("tenant-a", 80) != connection_id_for("tenant-b", 80)
    assert connection_id_for("tenant-a", 80) != connection_id_for("tenant-a", 81)


def test_a_fingerprint_names_a_key_without_showing_it() -> None:
    fingerprint = key_fingerprint("demo-firm-key")
    assert fingerprint.startswith("sha256:") and len(fingerprint) == 23
    assert "demo" not in fingerprint
    assert fingerprint != key_fingerprint("demo-firm-key-2")


def test_a_discovery_plan_keeps_files_that_vanish() -> None:
    # Given files 1 (visible), 2 (visible) and 3 (hidden since an earlier discovery)
    known = [_file(1), _file(2), _file(3, visible=False)]

    # When the key lists 1, 3 and a new 4 (and 1 twice)
    listed = [DiscoveredFile(society_id=i, name=f"D{i}") for i in (4, 1, 3, 1)]
    plan = plan_discovery(known, listed)

    # Then 4 is new, 1 and 3 are seen, 2 vanished
    assert [d.society_id for d in plan.new] == [4]
    assert [d.society_id for d in plan.seen] == [1, 3]
    assert plan.vanished == (2,)


def test_equal_references_hash_equal_and_snapshots_encode_to_the_same_bytes() -> None:
    # Given the same references built twice
    def build() -> References:
        return References(
            accounts=(Account(number="512000", label="Banque"),),
            subsidiaries=(Account(number="401000", label="Fournisseurs"),),
            fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),),
        )

    first, second = build(), build()
    assert references_hash(first) == references_hash(second)
    assert references_hash(first) != references_hash(first.model_copy(update={"accounts": ()}))

    # When stored as snapshots, the bytes are identical and read back whole
    snapshot = ReferenceSnapshot(
        connection_id="c1",
        society_id=2101,
        version=3,
        refreshed_at=NOW,
        content_hash=references_hash(first),
        references=first,
    )
    assert encode_snapshot(snapshot) == encode_snapshot(snapshot.model_copy())
    assert decode_snapshot(encode_snapshot(snapshot)) == snapshot
    assert snapshot_key("c1", 2101, 3) == "references/c1/2101/3.json.gz"
