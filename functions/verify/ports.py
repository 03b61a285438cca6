"""What the verification worker is given: its ports (state, queue, MyUnisoft's export) and policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tra_core.store.ports import ConnectionRepository, EntryRepository, KeyVault, MyUnisoftIds, VerifyQueue
from verify.readback import ExportReaders


@dataclass(frozen=True)
class VerifyPolicy:
    """How often an uploaded entry is looked for before it is ``not_found``, and how far apart.

    ``max_checks`` read-backs that do not find an entry make it ``not_found``; each is
    ``interval_s`` after the previous one (MyUnisoft may show an import late). ``max_rounds`` bounds
    the times a request is put back without a check (entries not settled yet, no room in the key's
    budget) before it is dropped with a log line.
    """

    max_checks: int = 4
    interval_s: float = 20.0
    max_rounds: int = 30


@dataclass(frozen=True)
class VerifyPorts:
    """Everything the verification worker reads, writes and calls."""

    connections: ConnectionRepository
    vault: KeyVault
    entries: EntryRepository
    ids: MyUnisoftIds
    queue: VerifyQueue
    readers: ExportReaders
    clock: Callable[[], datetime]
    policy: VerifyPolicy = VerifyPolicy()
