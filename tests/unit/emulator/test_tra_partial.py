"""POST /api/v1/TRA/partial in the emulator: archive checks, validation codes, duplicates, attachments."""

from __future__ import annotations

import copy
import hashlib
import io
import zipfile
from typing import Any

import httpx
import pytest

from emulator.app import EmulatorApp, create_app
from emulator.clock import ManualClock
from emulator.testing import DEMO_DOCUMENT, EmulatorTransport, build_tra_archive, render_entries, zip_members
from tests.unit.emulator.support import FIRM, Upload, error_code


def _tra_text(entries: list[dict[str, Any]]) -> str:
    return render_entries(entries).text


def _zip_tra(text: str, name: str = "ECRITURES.TRA", **documents: bytes) -> bytes:
    return zip_members({name: text.encode("cp1252"), **documents})


# -- the archive -------------------------------------------------------------------------------


def test_success_is_recorded_for_inspection(
    upload: Upload, http: httpx.Client, purchase: dict[str, Any]
) -> None:
    # Given the bridge's archive of one purchase with its invoice
    archive = build_tra_archive([purchase])

    # When it is uploaded
    response = upload(archive)

    # Then MyUnisoft's success body comes back, and the import can be inspected
    assert (response.status_code, response.json()) == (200, {"status": "success"})
    [record] = http.get("/_emulator/imports").json()
    tra_bytes = zipfile.ZipFile(io.BytesIO(archive)).read("ECRITURES.TRA")
    assert record["society_id"] == 2101
    assert record["md5"] == hashlib.md5(tra_bytes).hexdigest()
    assert record["tra"].startswith("***S5EXPJRLSTD")
    assert record["attachments"] == ["facture-edf.pdf"]
    assert record["imported_at"] == "2026-03-02T09:00:00Z"
    assert record["linked_attachments"] == ["facture-edf.pdf"]
    assert [e["general"] for e in record["entries"]] == ["401000", "606100", "445660", "401000"]


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"not a zip at all", "application/octet-stream", "IMPORT8"),
        (zip_members({"a.tra": b"x"}), "multipart/form-data; boundary=x", "IMPORT8"),
        (zip_members({"facture.pdf": DEMO_DOCUMENT}), "application/octet-stream", "IMPORT12"),
        (zip_members({"dir/ECRITURES.TRA": b"x"}), "application/octet-stream", "IMPORT12"),
        (zip_members({"A.TRA": b"x", "B.tra": b"y"}), "application/octet-stream", "IMPORT12"),
        (zip_members({"ECRITURES.TRA": b""}), "application/octet-stream", "IMPORT14"),
        (zip_members({"ECRITURES.TRA": b"  \r\n"}), "application/octet-stream", "IMPORT14"),
    ],
    ids=["not-zip", "multipart", "no-tra", "tra-in-folder", "two-tra", "empty", "blank"],
)
def test_archive_problems(upload: Upload, body: bytes, content_type: str, code: str) -> None:
    response = upload(body, content_type=content_type)
    assert (response.status_code, error_code(response)) == (400, code)


def test_corrupted_member_cannot_be_extracted(upload: Upload, purchase: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("ECRITURES.TRA", _tra_text([purchase]).encode("cp1252"))
    data = bytearray(buffer.getvalue())
    data[60] ^= 0xFF  # inside the stored .tra: its CRC no longer matches

    assert error_code(upload(bytes(data))) == "IMPORT9"


def test_lower_case_extension_is_accepted(upload: Upload, purchase: dict[str, Any]) -> None:
    text = _tra_text([copy.deepcopy(purchase) | {"attachments": []}])
    assert upload(_zip_tra(text, name="export.tra")).status_code == 200


# -- HascodeVerif ------------------------------------------------------------------------------------


def test_duplicate_with_hascode_is_import25(upload: Upload, purchase: dict[str, Any]) -> None:
    archive = build_tra_archive([purchase])
    assert upload(archive).status_code == 200

    again = upload(archive)

    md5 = hashlib.md5(zipfile.ZipFile(io.BytesIO(archive)).read("ECRITURES.TRA")).hexdigest()
    assert (again.status_code, error_code(again)) == (400, "IMPORT25")
    assert again.json()["error"]["message"] == (
        f"({md5}) - Fichier déjà importé le 02/03/2026 à 09:00 par API PARTENAIRE.<br>Import non effectué"
    )


def test_attachments_are_not_hashed(upload: Upload, purchase: dict[str, Any]) -> None:
    assert upload(build_tra_archive([purchase])).status_code == 200
    other_pdf = build_tra_archive([purchase], documents={"facture-edf.pdf": b"%PDF-1.7 another scan"})
    assert error_code(upload(other_pdf)) == "IMPORT25"


def test_duplicate_without_hascode_is_imported_again(
    upload: Upload, app: EmulatorApp, purchase: dict[str, Any]
) -> None:
    archive = build_tra_archive([purchase])
    assert upload(archive, hascode=False).status_code == 200
    assert upload(archive, hascode=False).status_code == 200
    assert len(app.imports) == 2
    assert error_code(upload(archive)) == "IMPORT25"  # but the hash of the earlier imports is known


def test_duplicate_scope(clock: ManualClock, upload: Upload, purchase: dict[str, Any]) -> None:
    archive = build_tra_archive([purchase])
    assert upload(archive, society_id=2101).status_code == 200
    assert upload(archive, society_id=2102).status_code == 200  # another dossier: not a duplicate

    schema_wide = create_app(clock=clock, config={"duplicate_scope": "schema"})
    with httpx.Client(transport=EmulatorTransport(schema_wide), base_url="http://e") as http:

        def send(society_id: int) -> httpx.Response:
            return http.post(
                "/api/v1/TRA/partial?HascodeVerif=true&mandatory_docs=1",
                headers={**FIRM, "society-id": str(society_id), "Content-Type": "application/octet-stream"},
                content=archive,
            )

        assert send(2101).status_code == 200
        assert error_code(send(2102)) == "IMPORT25"


# -- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"journal": "ZZZ"}, "JOURNAL3", "Le journal ZZZ n'existe pas"),
        ({"journal": "ACA"}, "JOURNAL2", "Le journal ACA est clôturé"),
        ({"journal": "AN"}, "JOURNAL13", None),
        ({"date": "2030-06-01", "due_date": None}, "IMPORT29", None),
        ({"date": "2025-06-01", "due_date": None}, "ECR9", None),
    ],
    ids=["unknown-journal", "blocked-journal", "a-nouveaux", "outside-years", "closed-year"],
)
def test_entry_level_rejections(
    upload: Upload,
    app: EmulatorApp,
    purchase: dict[str, Any],
    change: dict[str, Any],
    code: str,
    message: str | None,
) -> None:
    entry = copy.deepcopy(purchase) | change

    response = upload(build_tra_archive([entry]))

    assert (response.status_code, error_code(response)) == (400, code)
    if message is not None:
        assert response.json()["error"]["message"] == message
    assert app.imports == []


def test_no_fiscal_year_at_all(clock: ManualClock, purchase: dict[str, Any]) -> None:
    app = create_app(
        {"dossiers": [{"society_id": 2201, "schema_id": 80, "name": "NEUVE", "fiscal_years": []}]},
        clock=clock,
    )
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        response = http.post(
            "/api/v1/TRA/partial?HascodeVerif=true&mandatory_docs=1",
            headers={**FIRM, "society-id": "2201", "Content-Type": "application/octet-stream"},
            content=build_tra_archive([purchase]),
        )
    assert error_code(response) == "EXERCICE9"


def test_unbalanced_file(upload: Upload, purchase: dict[str, Any]) -> None:
    text = _tra_text([copy.deepcopy(purchase) | {"attachments": []}])
    assert "               20,00" in text
    unbalanced = text.replace("               20,00", "               21,00")

    response = upload(_zip_tra(unbalanced))

    assert (response.status_code, error_code(response)) == (400, "IMPORT13")


def test_format_problems_are_import18(upload: Upload, purchase: dict[str, Any], clock: ManualClock) -> None:
    text = _tra_text([copy.deepcopy(purchase) | {"attachments": []}])
    bad_date = text.replace("ACH20112026FF606100", "ACH31022026FF606100")

    response = upload(_zip_tra(bad_date))

    assert error_code(response) == "IMPORT18"
    assert "ligne 3" in response.json()["error"]["message"]

    lenient = create_app(clock=clock, config={"strict_format": False})
    with httpx.Client(transport=EmulatorTransport(lenient), base_url="http://e") as http:
        response = http.post(
            "/api/v1/TRA/partial",
            headers={**FIRM, "society-id": "2101", "Content-Type": "application/octet-stream"},
            content=_zip_tra(bad_date),
        )
    assert error_code(response) == "IMPORT29"  # an impossible date is in no fiscal year


def _with_line(purchase: dict[str, Any], account: str, subsidiary: str | None = None) -> dict[str, Any]:
    entry = copy.deepcopy(purchase)
    entry["attachments"] = []
    entry["lines"][1]["account"] = account
    if subsidiary is not None:
        entry["lines"][0]["subsidiary"] = subsidiary
    return entry


def test_accounts(upload: Upload, app: EmulatorApp, purchase: dict[str, Any], clock: ManualClock) -> None:
    # An unknown general account is refused, a closed one too
    unknown = upload(build_tra_archive([_with_line(purchase, "699999")]))
    assert (error_code(unknown), unknown.json()["error"]["message"]) == (
        "COMPTE2",
        "Le compte 699999 n'existe pas",
    )
    assert error_code(upload(build_tra_archive([_with_line(purchase, "471000")]))) == "COMPTE32"

    # An unknown subsidiary is created by the import
    assert upload(build_tra_archive([_with_line(purchase, "606100", subsidiary="NEWCO")])).status_code == 200
    assert app.data.dossier(2101).account("401NEWCO") is not None  # type: ignore[union-attr]
    assert app.imports[-1]["created_accounts"] == ["401NEWCO"]

    # Both policies can be switched
    strict = create_app(
        clock=clock, config={"unknown_auxiliary_accounts": "reject", "unknown_general_accounts": "create"}
    )
    with httpx.Client(transport=EmulatorTransport(strict), base_url="http://e") as http:

        def send(entry: dict[str, Any]) -> httpx.Response:
            return http.post(
                "/api/v1/TRA/partial",
                headers={**FIRM, "society-id": "2101", "Content-Type": "application/octet-stream"},
                content=build_tra_archive([entry]),
            )

        assert error_code(send(_with_line(purchase, "606100", subsidiary="OTHERCO"))) == "COMPTE2"
        assert send(_with_line(purchase, "699999")).status_code == 200
    assert strict.data.dossier(2101).account("699999") is not None  # type: ignore[union-attr]


# -- attachments -------------------------------------------------------------------------------------


def test_missing_attachment(upload: Upload, app: EmulatorApp, purchase: dict[str, Any]) -> None:
    archive = build_tra_archive([purchase], omit=("facture-edf.pdf",))

    refused = upload(archive, mandatory=True)
    assert (error_code(refused), refused.json()["error"]["message"]) == (
        "IMPORT26",
        "La PJ facture-edf.pdf est introuvable",
    )

    accepted = upload(archive, mandatory=False)
    assert accepted.status_code == 200
    assert app.imports[-1]["linked_attachments"] == []


def test_attachment_linked_by_reference(clock: ManualClock, purchase: dict[str, Any]) -> None:
    app = create_app(clock=clock, config={"attachment_link": "reference"})
    text = _tra_text([copy.deepcopy(purchase) | {"attachments": []}])
    archive = _zip_tra(text, **{"F2026-0042.pdf": DEMO_DOCUMENT, "other.pdf": DEMO_DOCUMENT})
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        response = http.post(
            "/api/v1/TRA/partial?mandatory_docs=1",
            headers={**FIRM, "society-id": "2101", "Content-Type": "application/octet-stream"},
            content=archive,
        )
    assert response.status_code == 200
    assert app.imports[-1]["linked_attachments"] == ["F2026-0042.pdf"]


# -- commit mode -------------------------------------------------------------------------------------


def test_all_or_nothing_and_partial_commit(
    clock: ManualClock, upload: Upload, app: EmulatorApp, purchase: dict[str, Any]
) -> None:
    good = copy.deepcopy(purchase) | {"attachments": []}
    bad = copy.deepcopy(purchase) | {
        "entry_id": "e-bad",
        "reference": "F-BAD",
        "journal": "ZZZ",
        "attachments": [],
    }
    archive = build_tra_archive([good, bad])

    # By default one bad entry rejects the whole file
    assert error_code(upload(archive)) == "JOURNAL3"
    assert app.imports == []

    # In partial mode the good entry is imported, and the answer is the bad one's error (MyUnisoft
    # answers one error at a time, so the sender must read back what was kept)
    partial = create_app(clock=clock, config={"commit_mode": "partial"})
    with httpx.Client(transport=EmulatorTransport(partial), base_url="http://e") as http:
        response = http.post(
            "/api/v1/TRA/partial",
            headers={**FIRM, "society-id": "2101", "Content-Type": "application/octet-stream"},
            content=archive,
        )
        only_bad = http.post(
            "/api/v1/TRA/partial",
            headers={**FIRM, "society-id": "2101", "Content-Type": "application/octet-stream"},
            content=build_tra_archive([bad]),
        )
    assert response.status_code == 400 and error_code(response) == "JOURNAL3"
    [record] = partial.imports
    assert {e["reference"] for e in record["entries"]} == {"F2026-0042"}
    assert [r["code"] for r in record["rejected"]] == ["JOURNAL3"]
    assert error_code(only_bad) == "JOURNAL3"
