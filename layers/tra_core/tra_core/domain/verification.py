"""Matching the entries the bridge sent with the entries MyUnisoft exports back (verified delivery).

MyUnisoft's TRA import answers "success" and nothing more, so the bridge reads the file's entries
back (the MAD export) and looks for each entry it sent. The matching rule (docs/architecture.md
§4; assumption in docs/myunisoft-assumptions.md) rests only on what is certain to survive the
import:

- the journal code and the entry date;
- the lines as a multiset of (label as written in the TRA, debit, credit).

Account numbers are a tie-breaker, not a condition: the export's form of a subsidiary movement's
account (``401EDF`` or the collective ``401000``) is not documented. Matching is one-to-one: an
exported entry already claimed by another entry of the file (its twin, sent in another batch) is
never claimed twice, so two identical bank fees are verified against two different MyUnisoft ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

LineKey = tuple[str, Decimal, Decimal]


class Verification(StrEnum):
    """Where the read-back of an uploaded entry stands (docs/architecture.md §4).

    ``pending`` until MyUnisoft's export has been read; ``verified`` when the entry was found (its
    MyUnisoft id kept); ``not_found`` when MyUnisoft said success but the entry was still absent
    after every check; ``unavailable`` when the export could not be read with the firm's key.
    """

    PENDING = "pending"
    VERIFIED = "verified"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class MatchLine:
    """One line of an entry as the TRA carried it, or as the export shows it.

    ``accounts`` holds every account number the line may be known by (general and auxiliary
    when sent; the export's single number when read back), empty when unknown.
    """

    label: str
    debit: Decimal
    credit: Decimal
    accounts: frozenset[str] = frozenset()

    @property
    def key(self) -> LineKey:
        """What must be equal for two lines to be the same line (labels compared trimmed)."""
        return (self.label.strip(), self.debit, self.credit)


@dataclass(frozen=True, slots=True)
class MatchEntry:
    """An entry seen from outside: ``ref`` is our entry key when sent, MyUnisoft's id when found."""

    ref: str
    journal: str
    day: date
    lines: tuple[MatchLine, ...]

    @property
    def signature(self) -> tuple[str, date, tuple[LineKey, ...]]:
        """Journal, date and the sorted line keys: equal signatures are candidate matches."""
        return (self.journal.strip().upper(), self.day, tuple(sorted(line.key for line in self.lines)))


def _account_agreement(sent: MatchEntry, found: MatchEntry) -> int:
    """How many of the found entry's lines name an account the sent entry's lines carried."""
    ours = [line.accounts for line in sent.lines]
    score = 0
    for line in found.lines:
        if line.accounts and any(line.accounts & accounts for accounts in ours):
            score += 1
    return score


def match_entries(
    sent: Sequence[MatchEntry],
    found: Iterable[MatchEntry],
    claimed: Iterable[str] = (),
) -> Mapping[str, str]:
    """Map each sent entry's ``ref`` to the ``ref`` (MyUnisoft id) of the exported entry it is.

    ``claimed`` lists MyUnisoft ids already given to other entries of the file. Sent entries are
    matched in order; among equal candidates the one whose accounts agree most wins, then the
    export's order. A sent entry with no unclaimed candidate is absent from the result.
    """
    taken = set(claimed)
    by_signature: dict[tuple[str, date, tuple[LineKey, ...]], list[MatchEntry]] = {}
    for candidate in found:
        if candidate.ref not in taken:
            by_signature.setdefault(candidate.signature, []).append(candidate)
    result: dict[str, str] = {}
    for entry in sent:
        candidates = [c for c in by_signature.get(entry.signature, []) if c.ref not in taken]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: _account_agreement(entry, c))
        taken.add(best.ref)
        result[entry.ref] = best.ref
    return result
