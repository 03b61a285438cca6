"""The emulator's TRA import with batch-tagged archives: twins both imported, a re-send refused.

The writer puts the upload batch's id in the header's UTILISATEUR field (assumption T16 of
docs/myunisoft-assumptions.md); the emulator reads the file with the bridge's own reader and
hashes the ``.TRA`` as MyUnisoft's ``HascodeVerif`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.app import create_app
from emulator.clock import ManualClock
from emulator.fixtures import DEMO_SECRET
from emulator.testing import EmulatorTransport
from tests.unit.conftest import BANK_FEE
from tra_core.domain.entry import parse_entries
from tra_core.tra.archive import build_archive
from tra_core.tra.writer import TraOptions, render_tra

FIRM = {
    "X-Third-Party-Secret": DEMO_SECRET,
    "Authorization": "Bearer demo-firm-key",
    "society-id": "2101",
    "Content-Type": "application/octet-stream",
}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    app = create_app(clock=ManualClock())
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://emulator.test") as client:
        yield client


def _archive(entry_id: str, batch_tag: str | None) -> bytes:
    entries, problems = parse_entries(dict(BANK_FEE, entry_id=entry_id))
    assert problems == []
    return build_archive(render_tra(entries, TraOptions(batch_tag=batch_tag)).data, [])


def _upload(http: httpx.Client, archive: bytes) -> httpx.Response:
    return http.post(
        "/api/v1/TRA/partial",
        params={"HascodeVerif": "true", "mandatory_docs": "1"},
        headers=FIRM,
        content=archive,
    )


def test_twin_bank_fees_of_two_batches_are_both_imported_and_a_resent_batch_is_import25(
    http: httpx.Client,
) -> None:
    first = _archive("fee-1", "5d0c6a1f9b2e4c7d8a3f0e1b2c3d4e5f")
    second = _archive("fee-2", "a9b8c7d6e5f44321b0a9c8d7e6f5a4b3")
    assert _upload(http, first).json() == {"status": "success"}
    assert _upload(http, second).json() == {"status": "success"}
    again = _upload(http, first)
    assert (again.status_code, again.json()["error"]["code"]) == (400, "IMPORT25")
    imports = http.get("/_emulator/imports").json()
    assert len(imports) == 2
    assert len({record["md5"] for record in imports}) == 2
    assert all(record["tra"].split("\r\n")[1:] == imports[0]["tra"].split("\r\n")[1:] for record in imports)


def test_without_a_tag_the_second_twin_is_refused_as_already_imported(http: httpx.Client) -> None:
    assert _upload(http, _archive("fee-1", None)).json() == {"status": "success"}
    twin = _upload(http, _archive("fee-2", None))
    assert (twin.status_code, twin.json()["error"]["code"]) == (400, "IMPORT25")
