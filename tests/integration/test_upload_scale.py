"""1,000 entries across 10 client files, uploaded by four concurrent workers under one rate budget.

Each worker is a separate process (as Lambdas are) running the real upload handler on the local
upload queue, gathering up to 50 messages per invocation like the template's event source. The hub
posts the entries (100 per request) while the workers run, keeping at most ``MAX_BACKLOG``
messages waiting: moto's SQS slows down with the queue's depth, which would otherwise pace the run.

The firm is onboarded with the tests' fast budget; then MyUnisoft (the emulator) and the bridge
both limit the key to the budget under test, so one request over the budget would show as a 429;
the test also counts the emulator's request log into MyUnisoft's fixed windows. The achieved rate
of uploads is reported as a fraction of the budget (the goal is 0.9 or more): printed, and recorded
as test properties.
Timing is measured and reported, never asserted.

The test runs twice: with verified delivery on (a verification worker, a fifth process, reads every
uploaded entry back from the emulator's export under the same budget, and every entry must end
``verified``) and off. It reports the read-back requests per uploaded entry and, once both ran, the
ratio of the upload throughputs (on / off) for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator

import boto3
import pytest

from local.services import REPO_ROOT, Service
from tests.support.fixtures import EmulatorControl, make_stack, start_test_emulator, worker_environment
from tests.support.upload_bridge import (
    TEST_UPLOAD_SETTINGS,
    UploadBridge,
    busiest_window,
    emulator_imports,
    entry,
    myunisoft_window_counts,
)

pytestmark = pytest.mark.integration

FILES = 10
ENTRIES_PER_FILE = 100
WORKERS = 4
DEMO_DOSSIERS = 3
#: The budget: MyUnisoft's shape (requests per window), scaled so the run takes seconds.
LIMIT = 6
WINDOW_S = 3.0
MARGIN_S = 0.25
#: Entries per archive: a year of backlog goes up in archives of this many entries.
BATCH_ENTRIES = 20
#: Most messages the hub lets wait on the queue before posting the next file.
MAX_BACKLOG = 150
#: Verified delivery in the run: the first read-back a second after an archive, later checks 2 s apart.
VERIFY_SETTINGS = {
    "VERIFY_DELAY_SECONDS": "1",
    "VERIFY_INTERVAL_SECONDS": "2",
    "VERIFY_BUDGET_SHARE": "0.5",
    "VERIFY_BUDGET_MAX_WAIT_SECONDS": "1",
}
#: Entries per second of upload in each mode, for the on/off ratio.
THROUGHPUT: dict[str, float] = {}


@pytest.fixture(scope="module")
def ten_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """An emulator whose demo firm has 10 dossiers."""
    arguments = ["--dossiers", str(FILES - DEMO_DOSSIERS)]
    with start_test_emulator(tmp_path_factory.mktemp("ten"), *arguments) as service:
        yield service


def start_worker(
    environment: dict[str, str], queue_url: str, handler: str = "upload.app.lambda_handler", idle_s: float = 3
) -> subprocess.Popen[str]:
    paths = [str(REPO_ROOT / "functions"), str(REPO_ROOT / "layers" / "tra_core"), str(REPO_ROOT)]
    env = {**environment, "PYTHONPATH": os.pathsep.join(paths), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    command = [
        sys.executable,
        "-m",
        "tests.support.upload_poller",
        "--queue-url",
        queue_url,
        "--handler",
        handler,
        "--batch-size",
        "50" if handler.startswith("upload") else "10",
        "--batch-window",
        "1",
        "--until-idle",
        str(idle_s),
        "--max-seconds",
        "240",
    ]
    return subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("verification", ["on", "off"])
def test_a_thousand_entries_across_ten_files_are_uploaded_by_four_workers_within_the_budget(
    verification: str,
    aws: boto3.session.Session,
    ten_files: Service,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    # Given a connected firm of 10 files (onboarded with the tests' fast budget), then MyUnisoft and
    # the bridge both limiting the key to the budget under test
    emulator = EmulatorControl(ten_files)
    emulator.reset()
    stack = make_stack(aws, myunisoft_url=emulator.url)
    bridge = UploadBridge(stack, monkeypatch)
    files = [f["file_id"] for f in bridge.onboard()["files"]]
    assert len(files) == FILES
    emulator.configure(rate_limit=LIMIT, rate_window_s=WINDOW_S)
    budget = {
        "RATE_LIMIT_REQUESTS": str(LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": str(WINDOW_S),
        "RATE_LIMIT_MARGIN_SECONDS": str(MARGIN_S),
        "RATE_LIMIT_MAX_WAIT_SECONDS": "30",
        "UPLOAD_BATCH_MAX_ENTRIES": str(BATCH_ENTRIES),
        "UPLOAD_LEASE_SECONDS": "40",
    }
    before = len(emulator.requests())
    # moto's SQS, under concurrent receives, now and then hands a message to two workers and then
    # refuses one's delete; a shorter visibility than the template's 30 minutes bounds that wait.
    sqs = stack.session.client("sqs")
    sqs.set_queue_attributes(QueueUrl=stack.ref("UploadQueue"), Attributes={"VisibilityTimeout": "45"})

    # When four workers run while the hub posts 1,000 entries (100 per file, one request per file)
    environment = {**worker_environment(stack, "UploadFunction"), **TEST_UPLOAD_SETTINGS, **budget}
    environment.update(VERIFY_SETTINGS if verification == "on" else {"VERIFY_QUEUE_URL": ""})
    verifier_environment = {**worker_environment(stack, "VerifyFunction"), **budget, **VERIFY_SETTINGS}
    started = time.monotonic()
    workers = [start_worker(environment, stack.ref("UploadQueue")) for _ in range(WORKERS)]
    if verification == "on":
        workers.append(
            start_worker(
                verifier_environment, stack.ref("VerifyQueue"), "verify.app.lambda_handler", idle_s=10
            )
        )

    def queue_depth() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.ref("UploadQueue"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    for file_id in files:
        # The hub keeps a backlog without burying moto's SQS, whose receive slows down with depth.
        while queue_depth() > MAX_BACKLOG:
            time.sleep(0.2)
        raws = [
            entry(f"n-{i:04d}", reference=f"N-{i:04d}", label=f"Invoice {i}") for i in range(ENTRIES_PER_FILE)
        ]
        answer = bridge.post_entries(file_id, raws)
        assert answer.status == 202, answer.body
    intake_s = time.monotonic() - started
    outputs = [w.communicate(timeout=300) for w in workers]
    elapsed = time.monotonic() - started

    # Then every worker ended cleanly and every entry is uploaded
    stats = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    assert sum(s["errors"] for s in stats) == 0
    statuses: Counter[str] = Counter()
    verified: Counter[str | None] = Counter()
    for file_id in files:
        listed = bridge.list_entries(file_id)
        statuses.update(e["status"] for e in listed)
        verified.update(e["myunisoft"] and e["myunisoft"]["verification"] for e in listed)
    assert statuses == {"uploaded": FILES * ENTRIES_PER_FILE}
    assert verified == ({"verified": FILES * ENTRIES_PER_FILE} if verification == "on" else {None: 1000})
    imports = emulator_imports(emulator)
    assert (
        sum(len([ln for ln in i["entries"] if ln["direction"]]) for i in imports)
        == 3 * FILES * ENTRIES_PER_FILE
    )
    # And no request went over the budget: no 429, and no window of MyUnisoft's counted more than the limit
    requests = emulator.requests()[before:]
    uploads = [r for r in requests if r["path"] == "/api/v1/TRA/partial"]
    read_backs = [r for r in requests if r["path"] == "/api/v1/mad/entries"]
    assert [r["status"] for r in requests if r["status"] != 200] == []
    assert max(myunisoft_window_counts([r["at"] for r in requests], WINDOW_S)) <= LIMIT

    # Report the achieved throughput as a fraction of the budget
    times = sorted(r["at"] for r in uploads)
    span = times[-1] - times[0]
    achieved = (len(times) - 1) / span if span > 0 else float("inf")
    allowed = LIMIT / WINDOW_S
    fraction = achieved / allowed
    THROUGHPUT[verification] = FILES * ENTRIES_PER_FILE / span if span > 0 else float("inf")
    report = {
        "verification": verification,
        "entries": FILES * ENTRIES_PER_FILE,
        "uploads": len(uploads),
        "entries_per_upload": round(FILES * ENTRIES_PER_FILE / len(uploads), 1),
        "budget_per_s": allowed,
        "achieved_per_s": round(achieved, 2),
        "fraction_of_budget": round(fraction, 3),
        "busiest_window": busiest_window([r["at"] for r in uploads], WINDOW_S),
        "busiest_window_all_requests": busiest_window([r["at"] for r in requests], WINDOW_S),
        "read_backs": len(read_backs),
        "read_backs_per_entry": round(len(read_backs) / (FILES * ENTRIES_PER_FILE), 4),
        "entries_per_upload_s": round(THROUGHPUT[verification], 2),
        "throughput_on_over_off": round(THROUGHPUT["on"] / THROUGHPUT["off"], 3)
        if {"on", "off"} <= set(THROUGHPUT)
        else None,
        "intake_s": round(intake_s, 1),
        "upload_s": round(elapsed, 1),
        "entries_per_s": round(FILES * ENTRIES_PER_FILE / elapsed, 1),
        "worker_cpu_s": [s["cpu_s"] for s in stats],
        "workers_ended": [s["ended"] for s in stats],
    }
    print("upload throughput:", json.dumps(report))
    for name, value in report.items():
        record_property(f"upload_{name}", value)
    emulator.close()
