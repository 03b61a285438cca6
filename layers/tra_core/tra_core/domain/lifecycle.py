"""The entry lifecycle: its statuses and the only ways an entry version moves between them.

Business rule (docs/architecture.md §4). An entry version is posted ``queued``. The worker moves it
into a batch (``uploading``) and MyUnisoft's answer settles it: ``uploaded`` (MyUnisoft holds it)
or ``rejected`` (the entry is wrong: our checks or MyUnisoft's refusal, every reason kept). Those
two are *final*: the version never leaves them by itself, only an accountant's retry (``rejected``)
or a new version does. An entry that cannot be sent for a reason outside itself is *parked*, never
failed: ``waiting_for_key`` (the firm's key was refused or removed; a new key resumes it) and
``waiting_for_references`` (the client file lacks a fiscal year or a third party that only a change
in MyUnisoft brings; a refresh checks it again). ``failed`` means transient errors exhausted the
attempts: the message is dead-lettered and an accountant may retry it.

A new version of an entry starts a new lifecycle at ``queued``, whatever the older version's status;
that is a new record, not a transition. Every other status write names one :class:`Transition`;
the store refuses a write whose expected statuses the table does not allow
(:class:`TransitionRefused`), and makes the write conditional on them.

The table (:class:`Transition`), as ``name: from -> to``:

- ``CLAIM``: any open status (a bisected batch's members included) -> uploading (into a new batch)
- ``RESEND``: an open status other than uploading -> uploading (back into the batch that carries it)
- ``UPLOAD``: any open status -> uploaded
- ``REJECT``: any open status -> rejected
- ``PARK_FOR_KEY``: any open status -> waiting_for_key
- ``PARK_FOR_REFERENCES``: queued, uploading, failed -> waiting_for_references
- ``FAIL``: any open status -> failed
- ``REQUEUE``: uploading -> queued (its batch was dissolved before MyUnisoft could hold it: maintenance)
- ``RETRY``: failed, rejected -> queued (an accountant's retry)
- ``RESUME``: waiting_for_key, waiting_for_references -> queued (a new key, a refresh)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, StrEnum


class EntryStatus(StrEnum):
    """Where an entry version stands (docs/architecture.md §4)."""

    QUEUED = "queued"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    REJECTED = "rejected"
    WAITING_FOR_KEY = "waiting_for_key"
    WAITING_FOR_REFERENCES = "waiting_for_references"
    FAILED = "failed"


FINAL_STATUSES = frozenset({EntryStatus.UPLOADED, EntryStatus.REJECTED})
"""Statuses an entry version never leaves by itself (only a retry or a new version does)."""

OPEN_STATUSES = frozenset(set(EntryStatus) - FINAL_STATUSES)
"""Statuses the worker may still move an entry version from."""

PARKED_STATUSES = frozenset({EntryStatus.WAITING_FOR_KEY, EntryStatus.WAITING_FOR_REFERENCES})
"""Statuses of entries that wait for something outside them (a key, MyUnisoft's references)."""


class Transition(Enum):
    """One allowed change of status: the statuses it leaves from and the status it reaches."""

    CLAIM = ("claim", OPEN_STATUSES, EntryStatus.UPLOADING)
    RESEND = ("resend", OPEN_STATUSES - {EntryStatus.UPLOADING}, EntryStatus.UPLOADING)
    UPLOAD = ("upload", OPEN_STATUSES, EntryStatus.UPLOADED)
    REJECT = ("reject", OPEN_STATUSES, EntryStatus.REJECTED)
    PARK_FOR_KEY = ("park_for_key", OPEN_STATUSES, EntryStatus.WAITING_FOR_KEY)
    PARK_FOR_REFERENCES = (
        "park_for_references",
        frozenset({EntryStatus.QUEUED, EntryStatus.UPLOADING, EntryStatus.FAILED}),
        EntryStatus.WAITING_FOR_REFERENCES,
    )
    FAIL = ("fail", OPEN_STATUSES, EntryStatus.FAILED)
    REQUEUE = ("requeue", frozenset({EntryStatus.UPLOADING}), EntryStatus.QUEUED)
    RETRY = ("retry", frozenset({EntryStatus.FAILED, EntryStatus.REJECTED}), EntryStatus.QUEUED)
    RESUME = ("resume", PARKED_STATUSES, EntryStatus.QUEUED)

    def __init__(self, label: str, sources: frozenset[EntryStatus], target: EntryStatus) -> None:
        self.label = label
        self.sources = sources
        self.target = target

    def allows(self, status: EntryStatus) -> bool:
        """Whether an entry in ``status`` may take this transition."""
        return status in self.sources


class TransitionRefused(ValueError):
    """A status write the lifecycle table does not allow (a programming error, never user input)."""

    def __init__(self, transition: Transition, refused: Iterable[EntryStatus]):
        self.transition = transition
        self.refused = tuple(sorted(refused))
        names = ", ".join(s.value for s in self.refused)
        super().__init__(
            f"transition {transition.label} cannot leave from {names} (it reaches {transition.target.value})"
        )


def allowed_pairs() -> frozenset[tuple[EntryStatus, EntryStatus]]:
    """Every (from, to) pair some transition allows."""
    return frozenset((source, t.target) for t in Transition for source in t.sources)


def is_allowed(source: EntryStatus, target: EntryStatus) -> bool:
    """Whether an entry may move from ``source`` to ``target`` by some transition."""
    return (source, target) in allowed_pairs()


def expected_sources(
    transition: Transition, expected: Iterable[EntryStatus] | None
) -> frozenset[EntryStatus]:
    """The statuses a write of ``transition`` may leave from: ``expected`` when the table allows each
    of them (else :class:`TransitionRefused`), every source of the transition when ``None``."""
    if expected is None:
        return transition.sources
    wanted = frozenset(expected)
    refused = wanted - transition.sources
    if refused or not wanted:
        raise TransitionRefused(transition, refused)
    return wanted
