"""Drive entry intake and upload through the real handlers in integration tests.

``UploadBridge`` extends the onboarding ``Bridge`` with the upload function's environment, document
uploads through presigned URLs, entry posts, and a drain of the upload queue by the real worker
(``tests.support.upload_poller``). ``emulator_imports``/``emulator_fault`` use the emulator's
control routes (docs/architecture.md §3.5).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from local.sqs import load_handler
from tests.support.bridge import Answer, Bridge
from tests.support.events import LambdaContext, api_event
from tests.support.fixtures import EmulatorControl, Stack
from tests.support.upload_poller import UploadPoller, UploadPollStats

#: Fast and small: retries at once, a crashed worker's batch taken over after 2 s.
TEST_UPLOAD_SETTINGS = {
    "UPLOAD_RETRY_BASE_SECONDS": "0",
    "UPLOAD_RETRY_MAX_SECONDS": "1",
    "UPLOAD_LEASE_SECONDS": "2",
}

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

#: One entry of each kind, valid in every demo dossier of the emulator (2026 is an open year).
KINDS: dict[str, dict[str, Any]] = {
    "purchase": {
        "kind": "purchase",
        "journal": "ACH",
        "date": "2026-11-20",
        "reference": "F2026-0042",
        "label": "EDF electricity November 2026",
        "lines": [
            {"account": "401000", "subsidiary": "EDF", "credit": "120.00"},
            {"account": "606100", "debit": "100.00"},
            {"account": "445660", "debit": "20.00"},
        ],
    },
    "sale": {
        "kind": "sale",
        "journal": "VTE",
        "date": "2026-11-21",
        "reference": "FV-2026-118",
        "label": "Durand et fils, repairs",
        "lines": [
            {"account": "411000", "subsidiary": "DURAND", "debit": "240.00"},
            {"account": "706000", "credit": "200.00"},
            {"account": "445710", "credit": "40.00"},
        ],
    },
    "expense_report": {
        "kind": "expense_report",
        "journal": "NDF",
        "date": "2026-11-22",
        "reference": "NDF-2026-11",
        "label": "Train Lyon-Paris, C. Martin",
        "lines": [
            {"account": "421000", "subsidiary": "MARTIN", "credit": "35.50"},
            {"account": "625100", "debit": "35.50"},
        ],
    },
    "bank_transaction": {
        "kind": "bank_transaction",
        "journal": "BQ",
        "date": "2026-11-23",
        "reference": "PRLV-EDF-1123",
        "label": "EDF direct debit",
        "lines": [
            {"account": "401000", "subsidiary": "EDF", "debit": "120.00"},
            {"account": "512000", "credit": "120.00"},
        ],
    },
}


def entry(entry_id: str, kind: str = "purchase", **changes: Any) -> dict[str, Any]:
    """An entry of ``kind`` (docs/architecture.md §3.1) with ``changes`` applied."""
    raw = {"entry_id": entry_id, "version": 1, **copy.deepcopy(KINDS[kind])}
    raw.update(changes)
    return raw


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class UploadBridge(Bridge):
    """The API, refresh and upload handlers in this process, against one test stack."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch, **settings: str):
        super().__init__(stack, monkeypatch)
        stack.use("UploadFunction", monkeypatch)
        for name, value in {**TEST_UPLOAD_SETTINGS, **settings}.items():
            monkeypatch.setenv(name, value)
        reset_upload_caches()
        self.upload_handler = load_handler(
            stack.template["Resources"]["UploadFunction"]["Properties"]["Handler"]
        )
        self.poller = UploadPoller(
            stack.ref("UploadQueue"), self.upload_handler, client=stack.session.client("sqs")
        )

    def onboard(self, api_key: str = "demo-firm-key") -> dict[str, Any]:
        """Connect the firm and fetch every file's references; the connection's JSON."""
        created = self.connect(api_key)
        assert created.status == 201, created.body
        self.drain_refresh_queue()
        body: dict[str, Any] = created.body
        return body

    def upload_document(
        self, file_id: str, name: str, data: bytes, content_type: str = "application/pdf"
    ) -> str:
        """Ask for an upload slot and PUT the document to it; its ``s3_key``."""
        slot = self.call(
            "POST",
            f"/files/{file_id}/attachments",
            {"filename": name, "content_type": content_type, "sha256": sha256(data)},
        )
        assert slot.status == 201, slot.body
        put = httpx.put(slot.body["upload_url"], content=data, headers=slot.body["headers"], timeout=10.0)
        assert put.status_code == 200, put.text
        return str(slot.body["s3_key"])

    def post_entries(self, file_id: str, entries: Sequence[dict[str, Any]] | dict[str, Any]) -> Answer:
        return self.call("POST", f"/files/{file_id}/entries", entries)

    def entry_status(self, file_id: str, entry_id: str) -> dict[str, Any]:
        answer = self.call("GET", f"/files/{file_id}/entries/{entry_id}")
        assert answer.status == 200, answer.body
        body: dict[str, Any] = answer.body
        return body

    def get(self, path: str, **query: str | None) -> Answer:
        """A GET with a query string (split into ``queryStringParameters`` as API Gateway does)."""
        from api.app import lambda_handler

        parameters = {k: v for k, v in query.items() if v is not None}
        event = api_event("GET", path, tenant=self.tenant)
        event["rawQueryString"] = urlencode(parameters)
        event["queryStringParameters"] = parameters or None
        response = lambda_handler(event, LambdaContext())
        text = response.get("body")
        return Answer(
            response["statusCode"], json.loads(text) if text else None, dict(response.get("headers") or {})
        )

    def list_entries(
        self, file_id: str, status: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Every entry of a file (following the pages)."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            answer = self.get(f"/files/{file_id}/entries", status=status, cursor=cursor, limit=str(limit))
            assert answer.status == 200, answer.body
            found.extend(answer.body["entries"])
            cursor = answer.body["next"]
            if not cursor:
                return found

    def drain_uploads(self, *, idle_s: float = 0.3, max_s: float = 60.0) -> UploadPollStats:
        """Run the upload worker until the upload queue is empty (hidden retries included)."""
        self.poller.stats = UploadPollStats()
        return self.poller.drain(idle_s=idle_s, max_s=max_s)

    def dead_letters(self) -> list[str]:
        sqs = self.stack.session.client("sqs")
        bodies: list[str] = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=self.stack.ref("UploadDeadLetterQueue"), MaxNumberOfMessages=10, VisibilityTimeout=60
            )
            messages = answer.get("Messages", [])
            if not messages:
                return bodies
            bodies.extend(m["Body"] for m in messages)


def reset_upload_caches() -> None:
    import api.wiring
    import upload.wiring

    upload.wiring.reset()
    api.wiring.reset()


def emulator_imports(emulator: EmulatorControl) -> list[dict[str, Any]]:
    response = httpx.get(f"{emulator.url}/_emulator/imports", timeout=10.0)
    response.raise_for_status()
    imports: list[dict[str, Any]] = response.json()
    return imports


def emulator_fault(emulator: EmulatorControl, **fault: Any) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/faults", json=fault, timeout=10.0)
    response.raise_for_status()


def upload_requests(emulator: EmulatorControl) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"] == "/api/v1/TRA/partial"]


def myunisoft_windows(times: Sequence[float], window_s: float) -> list[tuple[float, float, int]]:
    """MyUnisoft's windows over requests received at ``times``: (opened, last request, requests).

    MyUnisoft's window is fixed: it opens at the first request after the previous one ended and
    lasts ``window_s`` (``myunisoft-api.md`` §10, as the emulator counts).
    """
    windows: list[tuple[float, float, int]] = []
    end: float | None = None
    for moment in sorted(times):
        if end is None or moment >= end:
            end = moment + window_s
            windows.append((moment, moment, 0))
        opened, _, count = windows[-1]
        windows[-1] = (opened, moment, count + 1)
    return windows


def myunisoft_window_counts(times: Sequence[float], window_s: float) -> list[int]:
    """The requests MyUnisoft counts in each of its windows (:func:`myunisoft_windows`)."""
    return [count for _, _, count in myunisoft_windows(times, window_s)]


def busiest_window(times: Sequence[float], window_s: float) -> int:
    """The most request starts inside any ``window_s`` interval (a sliding window)."""
    ordered = sorted(times)
    inside: deque[float] = deque()
    busiest = 0
    for moment in ordered:
        inside.append(moment)
        while inside[0] <= moment - window_s:
            inside.popleft()
        busiest = max(busiest, len(inside))
    return busiest
