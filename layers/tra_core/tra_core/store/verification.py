"""Verified delivery's records (docs/architecture.md §4, §5): the verification queue's message and
the claim that ties one MyUnisoft entry id to one entry of a client file.

After MyUnisoft accepts an archive, the upload worker queues one :class:`VerifyRequest` naming the
archive's entry versions; the verification worker reads the file's entries back from MyUnisoft's
export and matches them. A MyUnisoft id found for an entry is *claimed*: one item per id,
``FILE#<connection>#<society>`` / ``MUID#<producerId>``, written in the same transaction as the
entry's verification, on the condition that no other entry holds it. So two identical entries of a
file (twins) can never be verified against the same MyUnisoft entry, whichever worker matches them.
This module has no I/O; the DynamoDB adapter is ``tra_core.store.dynamodb_claims``.
"""

from __future__ import annotations

from datetime import datetime

from tra_core.store.base import Record
from tra_core.store.entries import EntryKey


class VerifyMember(Record):
    """One entry version to verify."""

    entry_id: str
    version: int


class VerifyRequest(Record):
    """One message of the verification queue: entry versions of one client file to read back.

    ``round`` counts how many times the request was put back without a check (the entries were not
    settled yet, or the key's budget had no room): past a limit it is dropped, with a log line.
    """

    tenant: str
    connection_id: str
    society_id: int
    entries: tuple[VerifyMember, ...]
    round: int = 0
    queued_at: datetime

    def keys(self) -> list[EntryKey]:
        return [EntryKey(self.connection_id, self.society_id, m.entry_id) for m in self.entries]


class IdClaim(Record):
    """Who holds a MyUnisoft entry id in a client file: an entry version."""

    producer_id: str
    entry_id: str
    version: int

    def held_by(self, entry_id: str, version: int) -> bool:
        return (self.entry_id, self.version) == (entry_id, version)
