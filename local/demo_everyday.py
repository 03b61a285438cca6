"""The demo's everyday entries (docs/architecture.md §4): what a hub sends every day goes through.

- a purchase from a supplier the client file does not have yet: the bridge creates the third party
  in MyUnisoft (``SUBSIDIARY_CREATED``) and uploads the entry;
- two identical bank fees (same day, reference, label and amount) sent in two uploads: both are
  imported, each upload carrying its own batch tag in the ``.tra`` header;
- a January entry dated in a fiscal year the dossier lacks: it waits (``waiting_for_references``),
  the accountant opens the year in MyUnisoft (the emulator's control route), the file is refreshed,
  and the entry goes through by itself.
"""

from __future__ import annotations

from typing import Any

from local.demo_story import StepFailed, StoryPort

NEW_SUPPLIER: dict[str, Any] = {
    "entry_id": "demo-new-supplier-1",
    "kind": "purchase",
    "journal": "ACH",
    "date": "2026-11-28",
    "reference": "BC-2026-0007",
    "label": "Coffee machine from Brasserie Nouvelle",
    "lines": [
        {
            "account": "401000",
            "subsidiary": "BRASNOUV",
            "debit": "0",
            "credit": "360.00",
            "third_party": {"name": "Brasserie Nouvelle SARL", "siren": "552081317"},
        },
        {"account": "606300", "debit": "300.00", "credit": "0"},
        {"account": "445660", "debit": "60.00", "credit": "0"},
    ],
}

BANK_FEE: dict[str, Any] = {
    "kind": "bank_transaction",
    "journal": "BQ",
    "date": "2026-11-30",
    "reference": "FRAIS-2026-11",
    "label": "Bank fees",
    "lines": [
        {"account": "627000", "debit": "5.00", "credit": "0"},
        {"account": "512000", "debit": "0", "credit": "5.00"},
    ],
}

JANUARY: dict[str, Any] = {
    "entry_id": "demo-january-1",
    "kind": "purchase",
    "journal": "ACH",
    "date": "2028-01-05",
    "reference": "F2028-0001",
    "label": "EDF electricity December 2027",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "debit": "0", "credit": "96.00"},
        {"account": "606100", "debit": "80.00", "credit": "0"},
        {"account": "445660", "debit": "16.00", "credit": "0"},
    ],
}
FISCAL_YEAR_2028 = {"start": "2028-01-01", "end": "2028-12-31", "closed": False}

#: Statuses after which an entry of this step needs someone (or a refresh) to move on.
WAITED = {"uploaded", "rejected", "failed", "waiting_for_key", "waiting_for_references"}


def everyday(story: StoryPort) -> str:
    """The step (see the module docstring); raises ``StepFailed`` when something did not happen."""
    fees = [{**BANK_FEE, "entry_id": f"demo-bank-fee-{n}"} for n in (1, 2)]
    story.send_entries([NEW_SUPPLIER, fees[0], JANUARY])
    story.wait_statuses(
        "waiting for the first upload", [NEW_SUPPLIER["entry_id"], fees[0]["entry_id"]], WAITED
    )
    story.send_entries([fees[1]])  # the twin, in an upload of its own
    ids = [NEW_SUPPLIER["entry_id"], *(f["entry_id"] for f in fees), JANUARY["entry_id"]]
    seen = story.wait_statuses("waiting for the upload worker", ids, WAITED)
    expected = dict.fromkeys(ids, "uploaded") | {JANUARY["entry_id"]: "waiting_for_references"}
    wrong = {i: seen[i]["status"] for i in ids if seen[i]["status"] != expected[i]}
    if wrong:
        raise StepFailed(f"unexpected statuses: {wrong}; details: {[seen[i] for i in wrong]}")
    created = [w for w in seen[NEW_SUPPLIER["entry_id"]]["warnings"] if w["code"] == "SUBSIDIARY_CREATED"]
    problems = [p["code"] for p in seen[JANUARY["entry_id"]]["problems"]]
    if not created or problems != ["FISCAL_YEAR_MISSING"]:
        raise StepFailed(f"expected SUBSIDIARY_CREATED and FISCAL_YEAR_MISSING, got {created} and {problems}")
    society_id = story.file["society_id"]
    opened = story.control.post(f"/_emulator/dossiers/{society_id}/fiscal-years", json=FISCAL_YEAR_2028)
    if opened.status_code >= 400:
        raise StepFailed(f"the emulator refused the fiscal year: {opened.status_code} {opened.text[:200]}")
    story.call("POST", f"/files/{story.file['file_id']}/refresh", (202,))
    after = story.wait_statuses(
        "waiting for the January entry", [JANUARY["entry_id"]], {"uploaded", "rejected", "failed"}
    )
    if after[JANUARY["entry_id"]]["status"] != "uploaded":
        raise StepFailed(f"the January entry should go through after the refresh: {after}")
    fee_md5s = {seen[f["entry_id"]]["tra_md5"] for f in fees}
    return (
        f"new supplier 401BRASNOUV created in MyUnisoft: {created[0]['message']}\n"
        f"    twin bank fees of 5.00 both imported ({len(fee_md5s)} different .tra files)\n"
        "    January 2028 entry waited for its fiscal year (FISCAL_YEAR_MISSING); the year was opened "
        "in MyUnisoft, the file refreshed, and it was uploaded"
    )
