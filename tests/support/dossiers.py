"""The emulator's dossier control routes (docs/architecture.md §3.5), and reading a dossier's chart
as MyUnisoft answers it: what an accountant does in MyUnisoft, and what the bridge sees there."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.fixtures import DEMO_SECRET, EmulatorControl
from tra_core.myunisoft.client import MyUnisoftClient


def _post(emulator: EmulatorControl, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{emulator.url}/_emulator/{path}", json=body, timeout=10.0)
    response.raise_for_status()
    return response.json()


def add_fiscal_year(emulator: EmulatorControl, society_id: int, start: str, end: str) -> None:
    """The accountant opens a fiscal year in the dossier."""
    _post(emulator, f"dossiers/{society_id}/fiscal-years", {"start": start, "end": end, "closed": False})


def add_account(emulator: EmulatorControl, society_id: int, number: str, label: str) -> None:
    """The accountant creates an account (a third party) in the dossier."""
    _post(emulator, f"dossiers/{society_id}/accounts", {"number": number, "label": label})


def hide_dossier(emulator: EmulatorControl, society_id: int, token: str = "demo-firm-key") -> None:
    """The dossier leaves the key's reach."""
    _post(emulator, f"dossiers/{society_id}/visibility", {"token": token, "visible": False})


def chart(emulator: EmulatorControl, society_id: int, api_key: str = "demo-firm-key") -> dict[str, str]:
    """The dossier's accounts as MyUnisoft lists them (``GET /api/v1/account?mode=2``): number → label."""
    with MyUnisoftClient(emulator.url, DEMO_SECRET, api_key) as client:
        return {a.account_number: a.label for a in client.list_accounts(society_id)}


def creation_calls(emulator: EmulatorControl) -> list[dict[str, Any]]:
    """Every ``POST /api/v1/account`` MyUnisoft received."""
    return [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == "/api/v1/account"]
