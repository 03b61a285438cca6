"""The API fuzz run (``make fuzz``): schemathesis against ``bridge stack``, as a hostile hub would call it.

The run is slow (a whole stack, hundreds of requests), so it is collected only when ``BRIDGE_FUZZ=1``
(which ``make fuzz`` sets); the default ``make test`` leaves it out.

The stack is started once for the session. Its tenant owns a real connection (the emulator's demo
key, onboarded over ``POST /connections``) whose files have their references and one real entry, so
the fuzzed requests reach past the 404s. The schema is the project's ``docs/openapi.json`` when there
is one, else the document generated from the API's code at the start of the run.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest

from local.demo import TENANT, Console, Story, story_entries
from local.launcher import StackProcess
from tests.fuzz.harness import WORLDS, FuzzWorld, RealIds
from tests.support.local_stack import fast_stack

collect_ignore_glob = [] if os.environ.get("BRIDGE_FUZZ") == "1" else ["test_*.py"]


@pytest.fixture(scope="session")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with fast_stack(
        tmp_path_factory.mktemp("fuzz-stack"), skip_without_dynamodb=False, timeout_s=180
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def fuzz_world(fuzz_stack: StackProcess) -> Iterator[FuzzWorld]:
    """The demo key onboarded, every file's references fetched, one real entry accepted."""
    story = Story(fuzz_stack.api, fuzz_stack.emulator, Console(io.StringIO(), interactive=False), wait_s=120)
    story.onboard()
    story.references()
    entry = story_entries()["purchase"]
    story.call("POST", f"/files/{story.file['file_id']}/entries", (202,), json=[entry])
    ids = RealIds(story.connection_id, story.file["file_id"], entry["entry_id"])
    world = FuzzWorld(api=fuzz_stack.api, tenant=TENANT, ids=ids, story=story)
    WORLDS.append(world)
    yield world
    story.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many requests each operation got, the statuses seen, and the failures found."""
    if WORLDS:
        terminalreporter.section("API fuzz run")
        for line in WORLDS[0].summary():
            terminalreporter.write_line(line)
