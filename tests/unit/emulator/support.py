"""Names shared by the emulator's tests (the fixtures themselves are in ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from emulator.fixtures import DEMO_SECRET

FIRM = {"X-Third-Party-Secret": DEMO_SECRET, "Authorization": "Bearer demo-firm-key"}
Upload = Callable[..., httpx.Response]


def error_code(response: httpx.Response) -> str:
    """MyUnisoft's ``error.code`` of an error answer."""
    return str(response.json()["error"]["code"])
