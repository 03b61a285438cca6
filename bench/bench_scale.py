"""Scale through the local stack: fairness between firms, and a backfill against MyUnisoft's budget.

Both scenarios run against ``bridge stack`` (a fresh one each, started as ``make demo`` does), with
MyUnisoft's real budget: 20 requests per 10 s per key, enforced by the emulator (the stack passes
the template's ``RateLimitRequests``/``RateLimitWindowSeconds`` to it) and followed by the bridge
(the same parameters become every function's ``RATE_LIMIT_*``). Functions run up to their
template concurrency (5 upload workers, docs/architecture.md §7). Firms are onboarded over HTTP
with the demo's helpers (``local.demo``): firm A is the emulator's demo firm (``demo-firm-key``),
firm B the other firm (``demo-other-firm-key``), each its own tenant, connection and key.

fairness
    Firm B posts one entry on the idle stack and the time from its POST to its status ``uploaded``
    is measured (polling the entry every ``--poll`` s): the idle latency, ``--runs`` times. Then,
    per run, firm A posts ``--load-entries`` entries at once (lists of ``--chunk``, as fast as the
    intake takes them), firm B posts one entry, and B's latency is measured again; A's
    backlog drains before the next run. Printed: every run, the medians and the ratio
    median-under-load / median-idle (the goal is 2 or less; printed, never asserted).
backfill
    Firm A posts ``--entries`` entries at once. Printed: the time from the first POST to the last
    entry ``uploaded``, the archives MyUnisoft received (the emulator's request log), the ideal
    time at the budget (archives / 2 per s), ideal / actual, the key's requests (the most in one of
    MyUnisoft's fixed 10 s windows, and the mean per sliding 10 s window over the steady part, from
    the first upload to the last) and the 429s MyUnisoft answered (there must be none).

"At once": the local intake (the API function on DynamoDB Local and moto, on a shared laptop) takes
entries far slower than MyUnisoft's budget lets the workers upload them (tens per second against
100), so posting alone would never build a backlog. The upload mapping is therefore switched off
while the entries are posted and on again once they are all queued (``POST /_local/mappings/
UploadRequests``, what ``UpdateEventSourceMapping --no-enabled`` does on AWS): the backlog is then
there at once, as if the hub's posts had landed together, and the clock starts when the mapping is
switched on. ``--no-hold`` posts with the workers running (the clock starts at the first POST).
The posting time is printed either way. The stack's moto keeps SQS calls independent of the queue's
depth (``local.moto_server``), so the defaults are the sizes of the issue: 5,000 entries for the
fairness load, 10,000 for the backfill, 250 per POST. ``--batch-entries`` sets the stack's
``UploadBatchMaxEntries`` (50 by default, as deployed); the ideal time of the backfill is the
archives that many entries need at 2 per second.

Verified delivery is off unless ``--verify`` (its read-backs share the key's budget, which would
blur the upload figures); webhooks stay as deployed (the relay reads every change, no tenant
registers a webhook, so nothing is delivered).

    python bench/bench_scale.py [--scenario fairness|backfill|both] [--runs 3] [--load-entries 5000]
                                [--entries 10000] [--stack-arg=--parameter --stack-arg=Name=Value]...
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from local.demo import Console, Story, story_entries  # noqa: E402
from local.launcher import StackProcess  # noqa: E402
from tests.support.upload_bridge import myunisoft_windows  # noqa: E402

FIRM_A = ("bench-firm-a", "demo-firm-key")
FIRM_B = ("bench-firm-b", "demo-other-firm-key")
#: MyUnisoft's budget per key (the template's defaults; the emulator enforces the same).
BUDGET_REQUESTS, BUDGET_WINDOW_S = 20, 10.0
UPLOAD_PATH = "/api/v1/TRA/partial"
#: The upload worker's SQS mapping (its event in template.yaml).
UPLOAD_MAPPING = "UploadRequests"
#: Statuses an entry leaves the upload queue in; anything but "uploaded" is reported as a problem.
SETTLED = {"uploaded", "rejected", "failed", "waiting_for_key", "waiting_for_references"}


def max_entries_per_post() -> int:
    """The API's most entries per POST, from its OpenAPI document (kept equal to the code)."""
    document = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    return int(document["components"]["schemas"]["Entries"]["oneOf"][1]["maxItems"])


# -- the firms --------------------------------------------------------------------------------------


@dataclass
class Firm:
    """One firm onboarded through the stack's API: its tenant, key, connection and first client file."""

    name: str
    tenant: str
    key: str
    story: Story
    file_id: str = ""
    sent: int = 0

    @classmethod
    def onboard(cls, name: str, tenant: str, key: str, api: str, emulator: str, console: Console) -> Firm:
        story = Story(api, emulator, console, wait_s=300)
        story.http.close()
        story.http = httpx.Client(
            base_url=api, headers={"Authorization": f"Bearer dev:{tenant}"}, timeout=300
        )
        body = story.call("POST", "/connections", (201, 200), json={"api_key": key})
        story.connection_id = body["connection_id"]
        story.file = body["files"][0]
        file_id = story.file["file_id"]

        def references_ready() -> tuple[bool, str]:
            # The file's accounts, journals and fiscal years fetched: its entries can be checked.
            status = story.call("GET", f"/files/{file_id}/references", (200, 404, 409))
            state = next(f for f in story._files() if f["file_id"] == file_id)["references"]["status"]
            if state == "failed":
                raise RuntimeError(f"the references of {story.file['name']} failed: {status}")
            return state == "ready", f"references {state}"

        story.wait(f"firm {name}: waiting for the references", references_ready)
        console.line(
            f"  firm {name}: tenant {tenant}, connection {story.connection_id}, file {story.file['name']}"
        )
        return cls(name, tenant, key, story, story.file["file_id"])

    def entries(self, count: int, tag: str) -> list[dict[str, Any]]:
        """``count`` distinct purchase entries (the demo's), ids and references numbered."""
        model = story_entries()["purchase"]
        made = []
        for _ in range(count):
            self.sent += 1
            number = self.sent
            made.append(
                {
                    **model,
                    "entry_id": f"{self.name}-{tag}-{number}",
                    "reference": f"F{number:07d}",
                    "label": f"EDF electricity {tag} {number}",
                }
            )
        return made

    def post(self, entries: list[dict[str, Any]]) -> None:
        self.story.call("POST", f"/files/{self.file_id}/entries", (202,), json=entries)

    def status(self, entry_id: str) -> str:
        entry = self.story.call("GET", f"/files/{self.file_id}/entries/{entry_id}", (200,))
        return str(entry["status"])

    def count(self, status: str, *, all_pages: bool = False) -> int:
        """Entries of the file in ``status``: the first page only (is there any?) or all of them."""
        total, cursor = 0, None
        while True:
            params: dict[str, Any] = {"status": status, "limit": 1000 if all_pages else 1}
            if cursor:
                params["cursor"] = cursor
            page = self.story.call("GET", f"/files/{self.file_id}/entries", (200,), params=params)
            total += len(page["entries"])
            cursor = page.get("next")
            if not all_pages or not cursor:
                return total


def post_all(firm: Firm, entries: list[dict[str, Any]], chunk: int, concurrency: int) -> float:
    """Post ``entries`` in lists of ``chunk``, ``concurrency`` requests at a time; seconds taken."""
    started = time.monotonic()
    lists = [entries[i : i + chunk] for i in range(0, len(entries), chunk)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(firm.post, lists):
            pass
    return time.monotonic() - started


def switch_uploads(api: str, enabled: bool) -> float:
    """Switch the upload mapping on or off; the epoch time it happened."""
    response = httpx.post(f"{api}/_local/mappings/{UPLOAD_MAPPING}", json={"enabled": enabled}, timeout=30)
    response.raise_for_status()
    return time.time()


def post_backlog(
    firm: Firm, entries: list[dict[str, Any]], options: argparse.Namespace, api: str
) -> tuple[float, float]:
    """Post ``entries`` as fast as the intake takes them, held back from the workers unless
    ``--no-hold``; (seconds posting took, epoch time the backlog was released)."""
    released = time.time()
    if options.hold:
        switch_uploads(api, False)
    try:
        took = post_all(firm, entries, min(options.chunk, max_entries_per_post()), options.post_concurrency)
    finally:
        if options.hold:
            released = switch_uploads(api, True)
    return took, released


def time_to_uploaded(firm: Firm, entry: dict[str, Any], poll_s: float, limit_s: float) -> float:
    """POST one entry, poll it until ``uploaded``; seconds from the POST to the status seen."""
    started = time.monotonic()
    firm.post([entry])
    while True:
        status = firm.status(entry["entry_id"])
        elapsed = time.monotonic() - started
        if status == "uploaded":
            return elapsed
        if status in SETTLED or elapsed > limit_s:
            raise RuntimeError(f"{entry['entry_id']} is {status} after {elapsed:.0f}s")
        time.sleep(poll_s)


def wait_drained(firm: Firm, console: Console, limit_s: float, poll_s: float = 1.0) -> float:
    """Wait until none of the firm's entries is queued or uploading; seconds waited."""
    started = time.monotonic()
    while True:
        pending = firm.count("queued") + firm.count("uploading")
        elapsed = time.monotonic() - started
        if not pending:
            return elapsed
        if elapsed > limit_s:
            raise RuntimeError(f"firm {firm.name} still has entries waiting after {elapsed:.0f}s")
        console.progress(f"firm {firm.name}: backlog draining ({elapsed:.0f}s)")
        time.sleep(poll_s)


# -- the stack and MyUnisoft's log ------------------------------------------------------------------


@contextmanager
def stack(options: argparse.Namespace, console: Console, what: str) -> Iterator[StackProcess]:
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{what}-"))
    arguments = ["--api-port", "0", "--emulator-port", "0"]
    arguments += ["--parameter", f"UploadBatchMaxEntries={options.batch_entries}"]
    if not options.verify:
        arguments += ["--env", "VERIFY_QUEUE_URL="]  # the upload worker queues no read-backs
    arguments += options.stack_arg
    process = StackProcess(log_dir, arguments)
    console.line(f"\n== {what}: starting bridge stack {' '.join(arguments)}")
    try:
        process.start(timeout_s=300)
        console.line(f"  READY in {process.ready_s:.1f}s (logs in {log_dir})")
        yield process
    finally:
        process.stop()
        if options.keep_logs:
            console.line(f"  logs kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


def emulator_requests(emulator: str) -> list[dict[str, Any]]:
    """Every request MyUnisoft's stand-in received (``GET /_emulator/requests``)."""
    response = httpx.get(f"{emulator}/_emulator/requests", timeout=60)
    response.raise_for_status()
    requests: list[dict[str, Any]] = response.json()
    return requests


def sliding_counts(times: Sequence[float], window_s: float, start: float, end: float) -> list[int]:
    """Requests in ``[t, t + window_s)`` for ``t`` from ``start`` to ``end - window_s``, 1 s apart."""
    ordered = sorted(times)
    counts, moment = [], start
    while moment + window_s <= end:
        counts.append(sum(1 for t in ordered if moment <= t < moment + window_s))
        moment += 1.0
    return counts


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- the scenarios ----------------------------------------------------------------------------------


@dataclass
class Fairness:
    idle_s: list[float] = field(default_factory=list)
    loaded_s: list[float] = field(default_factory=list)
    post_s: list[float] = field(default_factory=list)
    drain_s: list[float] = field(default_factory=list)


def fairness(options: argparse.Namespace, console: Console) -> Fairness:
    result = Fairness()
    with stack(options, console, "fairness") as process:
        firm_a = Firm.onboard("a", *FIRM_A, process.api, process.emulator, console)
        firm_b = Firm.onboard("b", *FIRM_B, process.api, process.emulator, console)
        time.sleep(BUDGET_WINDOW_S)  # onboarding's requests leave the budget's window
        for run in range(1, options.runs + 1):
            (entry,) = firm_b.entries(1, "idle")
            result.idle_s.append(time_to_uploaded(firm_b, entry, options.poll, options.limit))
            console.line(f"  idle run {run}: B's entry uploaded {result.idle_s[-1]:.2f}s after its POST")
        for run in range(1, options.runs + 1):
            load = firm_a.entries(options.load_entries, f"load{run}")
            took, _ = post_backlog(firm_a, load, options, process.api)
            result.post_s.append(took)
            (entry,) = firm_b.entries(1, f"load{run}")
            result.loaded_s.append(time_to_uploaded(firm_b, entry, options.poll, options.limit))
            console.line(
                f"  load run {run}: A posted {len(load)} entries in {result.post_s[-1]:.1f}s; "
                f"B's entry uploaded {result.loaded_s[-1]:.2f}s after its POST"
            )
            result.drain_s.append(wait_drained(firm_a, console, options.limit))
            console.line(f"    A's backlog drained {result.drain_s[-1]:.0f}s later")
    return result


@dataclass
class Backfill:
    entries: int = 0
    batch_entries: int = 50
    post_s: float = 0.0
    actual_s: float = 0.0
    archives: int = 0
    imported_entries: int = 0
    requests: int = 0
    busiest: int = 0
    steady_mean: float = 0.0
    throttled: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    invocations: int = 0
    messages: int = 0
    peak_workers: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    windows: list[tuple[float, float, int]] = field(default_factory=list)
    """MyUnisoft's windows of the run: (opened, last request, requests), seconds after the release."""

    @property
    def ideal_s(self) -> float:
        """The archives needed (entries / entries per archive) at the budget's 2 per second."""
        return math.ceil(self.entries / self.batch_entries) / (BUDGET_REQUESTS / BUDGET_WINDOW_S)


def backfill(options: argparse.Namespace, console: Console) -> Backfill:
    result = Backfill(entries=options.entries, batch_entries=options.batch_entries)
    with stack(options, console, "backfill") as process:
        firm = Firm.onboard("a", *FIRM_A, process.api, process.emulator, console)
        time.sleep(BUDGET_WINDOW_S)
        entries = firm.entries(options.entries, "backfill")
        result.post_s, released = post_backlog(firm, entries, options, process.api)
        console.line(f"  posted {len(entries)} entries in {result.post_s:.1f}s")
        wait_drained(firm, console, options.limit)
        result.actual_s = time.time() - released
        uploaded = firm.count("uploaded", all_pages=True)
        for status in sorted(SETTLED - {"uploaded"}):
            found = firm.count(status, all_pages=True)
            if found:
                result.problems[status] = found
        if uploaded != len(entries):
            result.problems["not uploaded"] = len(entries) - uploaded
        queues = httpx.get(f"{process.api}/_local/queues", timeout=30).json()["queues"]
        (upload,) = [q for q in queues if q["function"] == "UploadFunction"]
        result.invocations, result.messages = upload["poller"]["batches"], upload["poller"]["received"]
        result.peak_workers = upload["poller"]["peak_in_flight"]
        requests = [
            r for r in emulator_requests(process.emulator) if r["key"] == firm.key and r["at"] >= released
        ]
    uploads = [r for r in requests if r["path"] == UPLOAD_PATH and r["status"] == 200]
    result.archives = len(uploads)
    result.requests = len(requests)
    result.throttled = sum(1 for r in requests if r["status"] == 429)
    for request in requests:
        result.by_path[request["path"]] = result.by_path.get(request["path"], 0) + 1
    times = [r["at"] for r in requests]
    windows = myunisoft_windows(times, BUDGET_WINDOW_S)
    result.busiest = max((count for _, _, count in windows), default=0)
    result.windows = [(opened - released, last - released, count) for opened, last, count in windows]
    if uploads:
        steady = sliding_counts(times, BUDGET_WINDOW_S, uploads[0]["at"], uploads[-1]["at"])
        result.steady_mean = statistics.fmean(steady) if steady else float("nan")
    return result


# -- report -----------------------------------------------------------------------------------------


def report_fairness(result: Fairness, options: argparse.Namespace) -> list[str]:
    idle, loaded = median(result.idle_s), median(result.loaded_s)
    return [
        f"fairness: firm B's one entry, POST to uploaded (poll every {options.poll}s), "
        f"firm A's {options.load_entries} entries ahead of it",
        f"  idle        median {idle:6.2f}s   runs: {', '.join(f'{s:.2f}' for s in result.idle_s)}",
        f"  under load  median {loaded:6.2f}s   runs: {', '.join(f'{s:.2f}' for s in result.loaded_s)}",
        f"  ratio under load / idle: {loaded / idle:.1f}x (goal: 2x or less)",
        f"  A's posts took {', '.join(f'{s:.1f}' for s in result.post_s)}s; "
        f"its backlog drained {', '.join(f'{s:.0f}' for s in result.drain_s)}s after B's upload",
    ]


def report_backfill(result: Backfill) -> list[str]:
    return [
        f"backfill: {result.entries} entries of one firm posted at once",
        f"  posting took {result.post_s:.1f}s; "
        f"backlog released to last entry uploaded: {result.actual_s:.1f}s",
        f"  archives MyUnisoft received: {result.archives} "
        f"({result.entries / result.archives if result.archives else float('nan'):.1f} entries each)",
        f"  ideal at the budget (archives needed, {math.ceil(result.entries / result.batch_entries)}, "
        f"/ {BUDGET_REQUESTS / BUDGET_WINDOW_S:.0f} per s): {result.ideal_s:.1f}s; "
        f"ideal / actual: {result.ideal_s / result.actual_s:.2f}",
        f"  the key's requests: {result.requests}; "
        f"most in one of MyUnisoft's {BUDGET_WINDOW_S:.0f}s windows {result.busiest} "
        f"(budget {BUDGET_REQUESTS}); per sliding {BUDGET_WINDOW_S:.0f}s window, mean over the "
        f"steady part {result.steady_mean:.1f} "
        f"({result.steady_mean / BUDGET_REQUESTS:.2f} of the budget)",
        "  MyUnisoft's windows (opened at / last request at, seconds after the release: requests): "
        + ", ".join(f"{opened:.1f}/{last:.1f}: {n}" for opened, last, n in result.windows),
        f"  by route: {', '.join(f'{path} {n}' for path, n in sorted(result.by_path.items()))}",
        f"  429s from MyUnisoft: {result.throttled} (must be 0)",
        f"  upload invocations: {result.invocations} ({result.messages} messages, "
        f"{result.messages / result.invocations if result.invocations else float('nan'):.1f} per batch), "
        f"at most {result.peak_workers} at once",
        f"  entries not uploaded: {result.problems or 'none'}",
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("fairness", "backfill", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="fairness: runs idle and under load (3)")
    parser.add_argument("--load-entries", type=int, default=5000, help="fairness: firm A's entries per run")
    parser.add_argument("--entries", type=int, default=10000, help="backfill: entries posted at once")
    parser.add_argument(
        "--batch-entries",
        type=int,
        default=50,
        help="entries per archive (the stack's UploadBatchMaxEntries; 50, the template's default)",
    )
    parser.add_argument(
        "--chunk",
        type=int,
        default=250,
        help="entries per POST (250; at most the API's 500, which a deep local queue slows past 30 s)",
    )
    parser.add_argument(
        "--poll", type=float, default=0.15, help="seconds between two status reads of B's entry"
    )
    parser.add_argument("--post-concurrency", type=int, default=2, help="POSTs in flight at once (2)")
    parser.add_argument(
        "--hold",
        action="store_true",
        help="hold the upload workers until every entry is posted (default: post while they run)",
    )
    parser.add_argument("--limit", type=float, default=1800, help="seconds before a wait gives up")
    parser.add_argument("--verify", action="store_true", help="keep verified delivery on (read-backs)")
    parser.add_argument(
        "--stack-arg", action="append", default=[], metavar="ARG", help="extra argument for bridge stack"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the stacks' logs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    console = Console()
    console.line(
        f"bench_scale: MyUnisoft budget {BUDGET_REQUESTS} requests / {BUDGET_WINDOW_S:.0f}s per key; "
        f"verified delivery {'on' if options.verify else 'off'}; backlogs "
        + ("held until posted" if options.hold else "uploaded while posted")
    )
    scenarios: list[tuple[str, Callable[[], list[str]]]] = []
    if options.scenario in ("fairness", "both"):
        scenarios.append(("fairness", lambda: report_fairness(fairness(options, console), options)))
    if options.scenario in ("backfill", "both"):
        scenarios.append(("backfill", lambda: report_backfill(backfill(options, console))))
    lines: list[str] = []
    for _, run in scenarios:
        started = time.monotonic()
        lines += run()
        lines.append(f"  (scenario took {time.monotonic() - started:.0f}s)")
    console.line("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
