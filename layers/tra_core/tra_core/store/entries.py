"""Entries the hub sent, as the bridge remembers them, and the upload-queue message (docs/architecture.md §5).

One record per entry of a client file holds its latest version: the entry itself (so it can be
re-queued), its status (``tra_core.domain.lifecycle``), the number of upload attempts, the
warnings, every reason it was refused, the last error (MyUnisoft's code and message verbatim), the
batch that carries it and, once uploaded, the md5 of the ``.tra`` and MyUnisoft's request id.
Records never expire: every accepted entry has a readable status.

Every change is conditional on the version (and, for entries inside a batch, the batch) it
expects, so a duplicated delivery, a crashed worker or an older version can never overwrite a
newer state. The DynamoDB adapter is ``tra_core.store.dynamodb_entries``; this module has no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tra_core.domain.entry import Entry, decode_json
from tra_core.domain.errors import EntryProblem, Notice
from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.domain.verification import Verification
from tra_core.store.base import Record
from tra_core.store.records import file_id_for


class EntryIssue(Record):
    """A reason an entry was refused, or the error of its last attempt.

    ``code`` is the bridge's stable code; ``myunisoft_code``/``myunisoft_message`` are MyUnisoft's
    own words, verbatim, when MyUnisoft answered.
    """

    code: str
    message: str
    line: int | None = None
    field: str | None = None
    myunisoft_code: str | None = None
    myunisoft_message: str | None = None
    request_id: str | None = None

    @classmethod
    def of_problem(cls, problem: EntryProblem) -> EntryIssue:
        return cls(code=problem.code, message=problem.message, line=problem.line, field=problem.field)

    def as_item(self) -> dict[str, Any]:
        """The issue as stored on an entry or a batch (JSON values, unset fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class EntryWarning(Record):
    """A warning of the rendering (a label cut to 35 characters, a character transliterated...)."""

    code: str
    message: str
    line: int | None = None
    field: str | None = None
    original: str | None = None
    result: str | None = None

    @classmethod
    def of_notice(cls, notice: Notice) -> EntryWarning:
        return cls(
            code=notice.code,
            message=notice.message,
            line=notice.line,
            field=notice.field,
            original=notice.original,
            result=notice.result,
        )

    def as_item(self) -> dict[str, Any]:
        """The warning as stored on an entry (JSON values, unset fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class MyUnisoftCopy(Record):
    """The entry as MyUnisoft holds it, read back from its export (verified delivery).

    ``entry_id`` is MyUnisoft's ``producerId`` of the entry once ``verified``; ``checks`` counts
    the read-backs that did not find it (``not_found`` after the configured number).
    """

    verification: Verification
    entry_id: str | None = None
    verified_at: datetime | None = None
    checks: int = 0

    def as_item(self) -> dict[str, Any]:
        """As stored on the entry (JSON values, unset fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True, slots=True)
class EntryKey:
    """Names one entry of one client file."""

    connection_id: str
    society_id: int
    entry_id: str


class EntryRecord(Record):
    """The latest version of one entry of a client file, and where it stands."""

    tenant: str
    connection_id: str
    society_id: int
    entry_id: str
    version: int
    kind: str
    status: EntryStatus
    body: str
    """The entry as validated (JSON, amounts as strings): what is rendered and re-queued."""
    attempts: int = 0
    maintenance_waits: int = 0
    """Times the entry waited for MyUnisoft's maintenance to end (never counted as attempts; the
    wait grows with it, capped like the upload backoff)."""
    warnings: tuple[EntryWarning, ...] = ()
    problems: tuple[EntryIssue, ...] = ()
    last_error: EntryIssue | None = None
    batch_id: str | None = None
    tra_md5: str | None = None
    request_id: str | None = None
    uploaded_at: datetime | None = None
    myunisoft: MyUnisoftCopy | None = None
    """Set when the entry is uploaded: the read-back's result (``None`` for entries uploaded
    before verified delivery existed, or with it switched off)."""
    queued_at: datetime
    updated_at: datetime

    @property
    def key(self) -> EntryKey:
        return EntryKey(self.connection_id, self.society_id, self.entry_id)

    @property
    def file_id(self) -> str:
        return file_id_for(self.connection_id, self.society_id)

    def entry(self) -> Entry:
        """The entry itself, parsed again (amounts exact)."""
        return Entry.model_validate(decode_json(self.body))

    @classmethod
    def queued(
        cls,
        entry: Entry,
        *,
        tenant: str,
        connection_id: str,
        society_id: int,
        warnings: Sequence[EntryWarning],
        now: datetime,
    ) -> EntryRecord:
        return cls(
            tenant=tenant,
            connection_id=connection_id,
            society_id=society_id,
            entry_id=entry.entry_id,
            version=entry.version,
            kind=entry.kind.value,
            status=EntryStatus.QUEUED,
            body=entry.model_dump_json(),
            warnings=tuple(warnings),
            queued_at=now,
            updated_at=now,
        )


QueueReason = Literal["intake", "retry", "key_replaced", "unsent", "refreshed"]


class UploadRequest(Record):
    """One message of the upload queue: an entry version, wrapped with its connection and file."""

    tenant: str
    connection_id: str
    society_id: int
    entry: dict[str, Any]
    """The entry (docs/architecture.md §3.1) as stored; its ``entry_id`` and ``version`` name the work."""
    reason: QueueReason = "intake"
    queued_at: datetime

    @property
    def entry_id(self) -> str:
        return str(self.entry.get("entry_id", ""))

    @property
    def version(self) -> int:
        value = self.entry.get("version", 1)
        return value if isinstance(value, int) else int(str(value))

    @property
    def key(self) -> EntryKey:
        return EntryKey(self.connection_id, self.society_id, self.entry_id)

    @classmethod
    def of(cls, record: EntryRecord, reason: QueueReason, now: datetime) -> UploadRequest:
        return cls(
            tenant=record.tenant,
            connection_id=record.connection_id,
            society_id=record.society_id,
            entry=json.loads(record.body),
            reason=reason,
            queued_at=now,
        )


SubmitOutcome = Literal["queued", "superseded", "unchanged", "outdated"]


@dataclass(frozen=True, slots=True)
class Submitted:
    """What storing a posted entry did: ``queued`` (new), ``superseded`` (replaced an older
    version), ``unchanged`` (this version was already stored) or ``outdated`` (a newer one is)."""

    outcome: SubmitOutcome
    record: EntryRecord


class _Keep:
    """Marker: leave the batch reference as it is."""


KEEP = _Keep()
BatchExpectation = str | None | _Keep
"""What a conditional update expects of the entry's batch: a batch id, no batch (``None``) or
anything (``KEEP``)."""


@dataclass(frozen=True)
class EntryChange:
    """One conditional change of an entry version; ``transition`` names its status write, if any."""

    key: EntryKey
    version: int
    transition: Transition | None = None
    expect_status: Collection[EntryStatus] | None = None
    expect_batch: BatchExpectation = KEEP
    set_values: Mapping[str, Any] | None = None
    remove: Sequence[str] = ()
    add_attempts: int = 0
