"""``make demo`` / ``bridge demo``: the whole story, over HTTP only, against a fresh ``bridge stack``.

The story is what an accounting hub does with the bridge, step by step, each step checking that
it did what it says:

1. onboard the demo firm's MyUnisoft key: the firm's client files appear;
2. every file gets its references (accounts, subsidiaries counted apart, journals, fiscal years);
3. the nightly refresh, fired on demand, finds them unchanged;
4. a purchase, a sale, an expense report and a bank transaction, each with its PDF, are uploaded;
   one entry is rejected with its reason and one label is truncated with its warning;
5. the key is revoked in MyUnisoft: new entries are parked (``waiting_for_key``), not lost;
6. a new key is pasted: the parked entries are uploaded;
7. everyday entries (``local.demo_everyday``): a new supplier created on the fly, twin bank fees
   both imported, a January entry that waits for its fiscal year and then goes through;
8. a final table of every entry's status and the TRA files MyUnisoft received;
9. the events the hub's webhook received, their signatures checked.

:class:`Story` only speaks HTTP to the stack's API and the emulator's control routes, so the
end-to-end test runs exactly this story too. The demo exits 0 only if every step passed.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from local.demo_events import HubWebhook
from local.demo_everyday import everyday
from local.demo_story import StepFailed
from local.launcher import LaunchError, StackProcess

TENANT = "cabinet-demo"
DEMO_KEY = "demo-firm-key"
NEW_KEY = "demo-firm-key-2"
#: Entry statuses after which nothing more happens without someone acting.
SETTLED = {"uploaded", "rejected", "failed", "waiting_for_key"}
UPLOAD_ROUTES = {"POST /files/{file_id}/entries", "POST /files/{file_id}/attachments"}


@dataclass
class Step:
    title: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Outcome:
    steps: list[Step] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


# -- a small PDF, for the supporting documents --------------------------------------------------


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 56 770 Td ({safe}) Tj ET".encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- the entries of the story -------------------------------------------------------------------


def _line(account: str, debit: str = "0", credit: str = "0", subsidiary: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"account": account, "debit": debit, "credit": credit}
    if subsidiary is not None:
        line["subsidiary"] = subsidiary
    return line


def story_entries() -> dict[str, dict[str, Any]]:
    """The entries the hub sends (docs/architecture.md §3.1), by role in the story; documents come later."""
    return {
        "purchase": {
            "entry_id": "demo-purchase-1",
            "kind": "purchase",
            "journal": "ACH",
            "date": "2026-11-20",
            "reference": "F2026-0042",
            "label": "EDF electricity November 2026",
            "due_date": "2026-12-20",
            "lines": [
                _line("401000", credit="120.00", subsidiary="EDF"),
                _line("606100", debit="100.00"),
                _line("445660", debit="20.00"),
            ],
        },
        "sale": {
            "entry_id": "demo-sale-1",
            "kind": "sale",
            "journal": "VTE",
            "date": "2026-11-21",
            "reference": "FA-2026-118",
            "label": "Consulting November 2026",
            "due_date": "2026-12-21",
            "lines": [
                _line("411000", debit="240.00", subsidiary="DURAND"),
                _line("706000", credit="200.00"),
                _line("445710", credit="40.00"),
            ],
        },
        "expense_report": {
            "entry_id": "demo-expense-1",
            "kind": "expense_report",
            "journal": "NDF",
            "date": "2026-11-22",
            "reference": "NDF-2026-11",
            # 61 characters: MyUnisoft keeps 35, the entry carries a LABEL_TRUNCATED warning.
            "label": "Train ticket Paris-Lyon return trip for the client audit",
            "lines": [
                _line("421000", credit="86.40", subsidiary="MARTIN"),
                _line("625100", debit="72.00"),
                _line("445660", debit="14.40"),
            ],
        },
        "bank_transaction": {
            "entry_id": "demo-bank-1",
            "kind": "bank_transaction",
            "journal": "BQ",
            "date": "2026-11-25",
            "reference": "VIR-EDF-1125",
            "label": "Transfer to EDF",
            "lines": [
                _line("401000", debit="120.00", subsidiary="EDF"),
                _line("512000", credit="120.00"),
            ],
        },
        "rejected": {
            "entry_id": "demo-bad-account-1",
            "kind": "purchase",
            "journal": "ACH",
            "date": "2026-11-23",
            "reference": "F2026-0043",
            "label": "Office chairs",
            "lines": [
                _line("401000", credit="300.00", subsidiary="UBER"),
                _line("699999", debit="300.00"),  # not in the file's chart of accounts
            ],
        },
        "parked_purchase": {
            "entry_id": "demo-parked-1",
            "kind": "purchase",
            "journal": "ACH",
            "date": "2026-11-26",
            "reference": "F2026-0044",
            "label": "Orange phone line November",
            "lines": [
                _line("401000", credit="60.00", subsidiary="ORANGE"),
                _line("626000", debit="50.00"),
                _line("445660", debit="10.00"),
            ],
        },
        "parked_sale": {
            "entry_id": "demo-parked-2",
            "kind": "sale",
            "journal": "VTE",
            "date": "2026-11-27",
            "reference": "FA-2026-119",
            "label": "Goods sold to Foobar",
            "lines": [
                _line("411000", debit="480.00", subsidiary="FOOBAR"),
                _line("707000", credit="400.00"),
                _line("445710", credit="80.00"),
            ],
        },
    }


# -- progress -----------------------------------------------------------------------------------


class Console:
    """Writes the story: step titles, progress while waiting (one updating line on a terminal)."""

    def __init__(self, out: TextIO | None = None, *, interactive: bool | None = None):
        self.out = out or sys.stdout
        self.interactive = self.out.isatty() if interactive is None else interactive
        self._last_progress = 0.0
        self._progress_shown = False

    def line(self, text: str = "") -> None:
        self.end_progress()
        self.out.write(text + "\n")
        self.out.flush()

    def progress(self, text: str) -> None:
        if self.interactive:
            self.out.write("\r\033[2K    " + text)
            self.out.flush()
            self._progress_shown = True
        elif time.monotonic() - self._last_progress >= 2.0:
            self.out.write("    " + text + "\n")
            self.out.flush()
            self._last_progress = time.monotonic()

    def end_progress(self) -> None:
        if self._progress_shown:
            self.out.write("\r\033[2K")
            self.out.flush()
            self._progress_shown = False


def table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    rule = "  ".join("-" * w for w in widths)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join("  " + line.rstrip() for line in lines)


# -- the story ----------------------------------------------------------------------------------


class Story:
    """The demo's steps, over HTTP: ``api`` is the stack, ``emulator`` MyUnisoft's stand-in."""

    def __init__(self, api: str, emulator: str, console: Console | None = None, *, wait_s: float = 90.0):
        self.api = api.rstrip("/")
        self.emulator = emulator.rstrip("/")
        self.console = console or Console()
        self.wait_s = wait_s
        self.http = httpx.Client(
            base_url=self.api, headers={"Authorization": f"Bearer dev:{TENANT}"}, timeout=60.0
        )
        self.control = httpx.Client(base_url=self.emulator, timeout=30.0)
        self.storage = httpx.Client(timeout=30.0)
        self.outcome = Outcome()
        self.connection_id = ""
        self.file: dict[str, Any] = {}
        self.sent: dict[str, dict[str, Any]] = {}
        self.hub = HubWebhook()
        self.uploaded: list[str] = []

    def close(self) -> None:
        for client in (self.http, self.control, self.storage):
            client.close()

    # helpers ---------------------------------------------------------------------------------

    def call(self, method: str, path: str, expect: Iterable[int], **kwargs: Any) -> Any:
        """One API call; a 503 with Retry-After (MyUnisoft's rate budget busy) is retried."""
        deadline = time.monotonic() + self.wait_s
        while True:
            response = self.http.request(method, path, **kwargs)
            if response.status_code == 503 and time.monotonic() < deadline:
                wait = float(response.headers.get("retry-after") or 1)
                self.console.progress(f"{method} {path}: the rate budget is busy, retrying in {wait:.0f}s")
                time.sleep(min(wait, 5.0))
                continue
            break
        if response.status_code not in set(expect):
            raise StepFailed(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def wait(self, what: str, check: Callable[[], tuple[bool, str]], timeout_s: float | None = None) -> str:
        """Poll ``check`` (done?, status text) until done, showing progress; fails after the timeout."""
        started = time.monotonic()
        limit = self.wait_s if timeout_s is None else timeout_s
        while True:
            done, status = check()
            elapsed = time.monotonic() - started
            if done:
                self.console.end_progress()
                return status
            if elapsed > limit:
                raise StepFailed(f"{what}: still not done after {limit:.0f}s ({status})")
            self.console.progress(f"{what}: {status} ({elapsed:.0f}s)")
            time.sleep(0.25)

    def step(self, title: str, action: Callable[[], str]) -> bool:
        self.console.line(f"\n▶ {title}")
        started = time.monotonic()
        try:
            detail = action()
            ok = True
        except (StepFailed, httpx.HTTPError) as exc:
            detail, ok = f"FAILED: {exc}", False
        except KeyError as exc:
            detail, ok = f"FAILED: the answer lacks {exc}", False
        seconds = time.monotonic() - started
        self.outcome.steps.append(Step(title, ok, detail, seconds))
        mark = "✔" if ok else "✘"
        self.console.line(f"  {mark} {detail.splitlines()[0] if detail else ''} [{seconds:.1f}s]")
        for extra in detail.splitlines()[1:]:
            self.console.line(extra)
        return ok

    # steps -----------------------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            steps: list[tuple[str, Callable[[], str]]] = [
                ("Register the hub's webhook (a receiver on 127.0.0.1)", lambda: self.hub.register(self)),
                ("Onboard the demo firm's MyUnisoft key", self.onboard),
                ("Fetch every client file's references", self.references),
                ("Fire the nightly refresh now", self.nightly),
                (
                    "Upload a purchase, a sale, an expense report and a bank transaction with PDFs",
                    self.upload,
                ),
                ("Read the entries back from MyUnisoft: each one verified with its id", self.verified),
                ("Revoke the key in MyUnisoft: new entries are parked", self.revoke),
                ("Paste a new key: the parked entries are uploaded", self.replace_key),
                (
                    "Upload everyday entries: a new supplier, twin bank fees, a January entry",
                    lambda: everyday(self),
                ),
                ("What MyUnisoft received", self.report),
                ("The events the hub received, signatures checked", lambda: self.hub.report(self)),
            ]
            for title, action in steps:
                if not self.step(title, action):
                    break
        finally:
            self.close()
        return self.outcome

    def onboard(self) -> str:
        body = self.call("POST", "/connections", (201, 200), json={"api_key": DEMO_KEY})
        self.connection_id = body["connection_id"]
        files = body["files"]
        if body["status"] != "active" or not files:
            raise StepFailed(f"expected an active connection with files, got {body}")
        self.outcome.files = files
        self.file = files[0]
        names = ", ".join(f"{f['name']} ({f['society_id']})" for f in files)
        return f"connection {self.connection_id} is active; {len(files)} client files: {names}"

    def _files(self) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = self.call("GET", f"/connections/{self.connection_id}/files", (200,))[
            "files"
        ]
        return files

    def references(self) -> str:
        def ready() -> tuple[bool, str]:
            files = [f for f in self._files() if f["visible"]]
            statuses = [f["references"]["status"] for f in files]
            failed = [f["name"] for f in files if f["references"]["status"] == "failed"]
            if failed:
                raise StepFailed(f"the references of {', '.join(failed)} failed")
            done = sum(1 for s in statuses if s == "ready")
            return bool(files) and done == len(files), f"{done}/{len(files)} files have their references"

        self.wait("waiting for the refresh workers", ready)
        rows = []
        for item in self._files():
            refs = self.call("GET", f"/files/{item['file_id']}/references", (200,))
            subsidiaries = [a["number"] for a in refs["subsidiaries"]]
            general = [a["number"] for a in refs["accounts"]]
            misplaced = [n for n in general if n.startswith(("401", "411"))]
            if misplaced or "401000" not in subsidiaries:
                raise StepFailed(
                    f"401*/411* accounts must all be subsidiaries; general accounts hold {misplaced}"
                )
            years = refs["fiscal_years"]
            open_years = sum(1 for y in years if not y["closed"])
            rows.append(
                [
                    item["name"],
                    item["society_id"],
                    refs["version"],
                    len(general),
                    len(subsidiaries),
                    f"{len(refs['journals'])} ({sum(1 for j in refs['journals'] if j['blocked'])} blocked)",
                    f"{open_years} open, {len(years) - open_years} closed",
                ]
            )
        headers = ["file", "society", "version", "accounts", "subsidiaries", "journals", "fiscal years"]
        return (
            f"{len(rows)} files ready; every 401*/411* account (401000 included) is a subsidiary account\n"
            + table(headers, rows)
        )

    def nightly(self) -> str:
        before = {f["file_id"]: f["references"]["last_refresh"]["at"] for f in self._files()}
        schedules = httpx.get(f"{self.api}/_local/stack", timeout=10).json()["schedules"]
        if len(schedules) != 1:
            raise StepFailed(f"expected one schedule in the template, found {schedules}")
        response = httpx.post(f"{self.api}/_local/schedules/{schedules[0]}", timeout=330)
        if response.status_code != 200:
            raise StepFailed(f"the schedule answered {response.status_code}: {response.text[:300]}")
        result = response.json()["result"]

        def refreshed() -> tuple[bool, str]:
            files = self._files()
            done = [f for f in files if f["references"]["last_refresh"]["at"] != before.get(f["file_id"])]
            return len(done) == len(files), f"{len(done)}/{len(files)} files checked again"

        self.wait("waiting for the nightly refresh", refreshed)
        outcomes = sorted({f["references"]["last_refresh"]["outcome"] for f in self._files()})
        versions = sorted({f["references"]["version"] for f in self._files()})
        if outcomes != ["unchanged"]:
            raise StepFailed(f"nothing changed in MyUnisoft, yet the refresh outcomes are {outcomes}")
        return (
            f"the schedule queued {result.get('messages')} messages for {result.get('files')} files; "
            f"references unchanged (version {', '.join(map(str, versions))})"
        )

    def _upload_available(self) -> None:
        routes = set(httpx.get(f"{self.api}/_local/stack", timeout=10).json()["routes"])
        missing = UPLOAD_ROUTES - routes
        if missing:
            raise StepFailed(
                "the upload half of the story needs functions/upload and its routes, which this tree does "
                f"not have yet (missing: {', '.join(sorted(missing))})"
            )

    def _attach(self, filename: str, text: str) -> dict[str, Any]:
        pdf = tiny_pdf(text)
        answer = self.call(
            "POST",
            f"/files/{self.file['file_id']}/attachments",
            (201,),
            json={
                "filename": filename,
                "content_type": "application/pdf",
                "sha256": hashlib.sha256(pdf).hexdigest(),
            },
        )
        put = self.storage.put(answer["upload_url"], content=pdf, headers={"Content-Type": "application/pdf"})
        if put.status_code not in (200, 204):
            raise StepFailed(f"the PDF upload to storage answered {put.status_code}: {put.text[:200]}")
        return {"filename": filename, "s3_key": answer["s3_key"], "content_type": "application/pdf"}

    def send_entries(self, entries: list[dict[str, Any]]) -> None:
        self.call("POST", f"/files/{self.file['file_id']}/entries", (202,), json=entries)
        for entry in entries:
            self.sent[entry["entry_id"]] = entry

    def _entry(self, entry_id: str) -> dict[str, Any]:
        entry: dict[str, Any] = self.call("GET", f"/files/{self.file['file_id']}/entries/{entry_id}", (200,))
        return entry

    def wait_statuses(self, what: str, ids: list[str], wanted: set[str]) -> dict[str, dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}

        def settled() -> tuple[bool, str]:
            for entry_id in ids:
                seen[entry_id] = self._entry(entry_id)
            counts: dict[str, int] = {}
            for entry in seen.values():
                counts[entry["status"]] = counts.get(entry["status"], 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            return all(seen[i]["status"] in wanted for i in ids), summary

        self.wait(what, settled)
        return seen

    def upload(self) -> str:
        self._upload_available()
        entries = story_entries()
        documents = {
            "purchase": ("facture-edf-2026-11.pdf", "EDF - invoice F2026-0042 - 120.00 EUR"),
            "sale": ("facture-durand-118.pdf", "Invoice FA-2026-118 to DURAND ET FILS - 240.00 EUR"),
            "expense_report": ("ticket-train-paris-lyon.pdf", "SNCF - Paris-Lyon return - 86.40 EUR"),
            "bank_transaction": ("releve-2026-11.pdf", "Bank statement November 2026 - transfer to EDF"),
        }
        batch = []
        for role in ("purchase", "sale", "expense_report", "bank_transaction", "rejected"):
            entry = entries[role]
            if role in documents:
                entry["attachments"] = [self._attach(*documents[role])]
            batch.append(entry)
        self.send_entries(batch)
        ids = [e["entry_id"] for e in batch]
        seen = self.wait_statuses("waiting for the upload worker", ids, SETTLED)
        expected = {e["entry_id"]: "uploaded" for e in batch}
        expected[entries["rejected"]["entry_id"]] = "rejected"
        wrong = {i: seen[i]["status"] for i in ids if seen[i]["status"] != expected[i]}
        if wrong:
            raise StepFailed(f"unexpected statuses: {wrong}; details: {[seen[i] for i in wrong]}")
        self.uploaded = [i for i in ids if expected[i] == "uploaded"]
        rejected = seen[entries["rejected"]["entry_id"]]
        error = _reason(rejected)
        if not error.get("code"):
            raise StepFailed(f"the rejected entry carries no reason: {rejected}")
        truncated = seen[entries["expense_report"]["entry_id"]]
        warnings = [w for w in truncated.get("warnings") or [] if _code(w) == "LABEL_TRUNCATED"]
        if not warnings:
            raise StepFailed(f"the long label carries no LABEL_TRUNCATED warning: {truncated}")
        return (
            f"4 entries uploaded with their PDFs\n"
            f"    rejected  {rejected['entry_id']}: {error.get('code')} {error.get('message', '')}\n"
            f"    warning   {truncated['entry_id']}: {_describe(warnings[0])}"
        )

    def verified(self) -> str:
        """The verification worker reads the file back from MyUnisoft's export (docs/operations.md)."""
        seen: dict[str, dict[str, Any]] = {}

        def done() -> tuple[bool, str]:
            for entry_id in self.uploaded:
                seen[entry_id] = self._entry(entry_id).get("myunisoft") or {}
            states = sorted(str(m.get("verification")) for m in seen.values())
            return all(s != "pending" for s in states), ", ".join(states)

        self.wait("waiting for the read-back", done)
        wrong = {
            i: m for i, m in seen.items() if m.get("verification") != "verified" or not m.get("entry_id")
        }
        if wrong:
            raise StepFailed(f"entries not verified: {wrong}")
        rows = [
            (i, self.sent[i]["journal"], self.sent[i]["date"], seen[i]["entry_id"]) for i in self.uploaded
        ]
        return f"{len(rows)} entries verified\n" + table(["entry", "journal", "date", "MyUnisoft id"], rows)

    def revoke(self) -> str:
        response = self.control.post(f"/_emulator/keys/{DEMO_KEY}/revoke")
        if response.status_code >= 400:
            raise StepFailed(f"the emulator refused the revocation: {response.status_code}")
        entries = story_entries()
        parked = [entries["parked_purchase"], entries["parked_sale"]]
        self.send_entries(parked)
        ids = [e["entry_id"] for e in parked]
        seen = self.wait_statuses("waiting for the upload worker", ids, SETTLED)
        wrong = {i: seen[i]["status"] for i in ids if seen[i]["status"] != "waiting_for_key"}
        if wrong:
            raise StepFailed(f"entries sent with a revoked key should wait for a key: {wrong}")
        connection = self.call("GET", f"/connections/{self.connection_id}", (200,))
        return f"{len(ids)} entries waiting_for_key; the connection is {connection['status']}"

    def replace_key(self) -> str:
        body = self.call("PUT", f"/connections/{self.connection_id}/key", (200,), json={"api_key": NEW_KEY})
        if body["status"] != "active":
            raise StepFailed(f"the connection should be active again: {body}")
        entries = story_entries()
        ids = [entries["parked_purchase"]["entry_id"], entries["parked_sale"]["entry_id"]]
        seen = self.wait_statuses("waiting for the parked entries", ids, {"uploaded", "rejected", "failed"})
        wrong = {i: seen[i]["status"] for i in ids if seen[i]["status"] != "uploaded"}
        if wrong:
            raise StepFailed(f"the parked entries should be uploaded now: {wrong}")
        return f"the connection is active again; {len(ids)} parked entries uploaded"

    def report(self) -> str:
        rows = []
        for entry_id, sent in self.sent.items():
            entry = self._entry(entry_id)
            self.outcome.entries.append(entry)
            error = _reason(entry)
            notes = "; ".join(_describe(w) for w in entry.get("warnings") or [])
            if error:
                notes = f"{error.get('code')}: {error.get('message', '')}" + (f"; {notes}" if notes else "")
            rows.append([entry_id, sent["kind"], entry["status"], entry.get("attempts", ""), notes])
        response = self.control.get("/_emulator/imports")
        response.raise_for_status()
        imports: list[dict[str, Any]] = response.json()
        self.outcome.imports = imports
        uploaded = sum(1 for e in self.outcome.entries if e["status"] == "uploaded")
        if not imports or uploaded != len(self.sent) - 1:
            raise StepFailed(f"{uploaded} entries uploaded and {len(imports)} imports received")
        lines = [
            f"{uploaded} of {len(self.sent)} entries uploaded in {len(imports)} TRA+PJ imports",
            table(["entry", "kind", "status", "attempts", "reason / warnings"], rows),
        ]
        for item in imports:
            attachments = ", ".join(item.get("attachments") or []) or "none"
            lines.append(
                f"\n  TRA received for society {item['society_id']} (md5 {item['md5']}; PJ: {attachments})"
            )
            lines += ["  | " + tra_line.rstrip() for tra_line in str(item["tra"]).splitlines()]
        return "\n".join(lines)


def _code(warning: Any) -> str:
    return str(warning.get("code", "")) if isinstance(warning, dict) else str(warning).split(" ", 1)[0]


def _reason(entry: dict[str, Any]) -> dict[str, Any]:
    """Why an entry was refused or failed: its last error, else its first problem."""
    error = entry.get("last_error") or next(iter(entry.get("problems") or []), None) or {}
    return error if isinstance(error, dict) else {"code": str(error)}


def _describe(warning: Any) -> str:
    if not isinstance(warning, dict):
        return str(warning)
    if warning.get("original") is not None and warning.get("result") is not None:
        return f"{warning.get('code', '')}: {warning['original']!r} -> {warning['result']!r}"
    return f"{warning.get('code', '')} {warning.get('message', '')}".strip()


# -- the command --------------------------------------------------------------------------------


def summary(outcome: Outcome) -> str:
    rows = [[("PASS" if s.ok else "FAIL"), s.title, f"{s.seconds:.1f}s"] for s in outcome.steps]
    return table(["", "step", "time"], rows)


def main(*, api_port: int = 0, emulator_port: int = 0, keep_logs: bool = False) -> int:
    console = Console()
    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="bridge-demo-"))
    console.line("myunisoft-bridge demo: the whole story against a local stack (no AWS account needed)")
    stack = StackProcess(log_dir, ["--api-port", str(api_port), "--emulator-port", str(emulator_port)])
    outcome = Outcome()
    try:
        console.line(
            "\n▶ Start the local stack (moto, DynamoDB Local, the MyUnisoft emulator, the functions)"
        )
        try:
            stack.start(progress=lambda s: console.progress(f"starting... ({s:.0f}s)"))
        except LaunchError as exc:
            console.line(f"  ✘ {exc}")
            return 1
        console.line(f"  ✔ READY api={stack.api} emulator={stack.emulator} [{stack.ready_s:.1f}s]")
        outcome = Story(stack.api, stack.emulator, console).run()
    except KeyboardInterrupt:
        console.line("\ninterrupted")
        return 130
    finally:
        console.line("\n▶ Stop the local stack")
        stopping = time.monotonic()
        code = stack.stop()
        leftovers = [line for line in stack.output().splitlines() if "still running" in line]
        stopped_ok = code == 0 and not leftovers
        detail = "every child process stopped" if stopped_ok else f"exit {code}; {' '.join(leftovers)}"
        outcome.steps.append(Step("Stop the local stack", stopped_ok, detail, time.monotonic() - stopping))
        console.line(f"  {'✔' if stopped_ok else '✘'} {detail}")
        if keep_logs or not outcome.ok:
            console.line(f"  logs: {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
    console.line("\n" + summary(outcome))
    verdict = "every step did what it says" if outcome.ok else "a step failed (see above)"
    console.line(
        f"\n{'PASS' if outcome.ok else 'FAIL'}: {verdict} ({time.monotonic() - started:.0f}s in all)"
    )
    return 0 if outcome.ok else 1
