"""What to do with an entry whose checks against its client file found problems.

Business rule (docs/architecture.md §4): an entry that is wrong in itself (unbalanced, unknown
general account, a journal rule broken, a closed fiscal year...) is ``rejected``; the accountant
must fix it. An entry that is right but names something the client file does not have *yet* is
not the accountant's mistake, and only a change in MyUnisoft fixes it:

- a subsidiary account that does not exist (``SUBSIDIARY_UNKNOWN``) is created by the bridge with
  MyUnisoft's find-or-create when the connection allows it (``create_missing_subsidiaries``);
  otherwise the entry waits for it (``waiting_for_references``);
- a date no fiscal year covers (``FISCAL_YEAR_MISSING``) waits until the firm opens the year.

Waiting entries are checked again after each refresh of their file and go on by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tra_core.domain.entry import Entry, ThirdParty
from tra_core.domain.errors import EntryProblem, Notice
from tra_core.domain.references import Account, References

SUBSIDIARY_UNKNOWN = "SUBSIDIARY_UNKNOWN"
FISCAL_YEAR_MISSING = "FISCAL_YEAR_MISSING"
SUBSIDIARY_CREATED = "SUBSIDIARY_CREATED"

WAITABLE_CODES = frozenset({SUBSIDIARY_UNKNOWN, FISCAL_YEAR_MISSING})
"""Problems that a change in MyUnisoft alone resolves: the entry waits instead of being rejected."""


@dataclass(frozen=True, slots=True)
class NewSubsidiary:
    """A subsidiary account the bridge would create in MyUnisoft for an entry.

    ``label`` is the third party's name when the hub gave one, else the account number itself.
    """

    number: str
    label: str
    third_party: ThirdParty | None = None


@dataclass(frozen=True, slots=True)
class Triage:
    """The verdict on an entry's problems: reject it, let it wait, or create accounts and go on."""

    rejecting: tuple[EntryProblem, ...] = ()
    waiting: tuple[EntryProblem, ...] = ()
    to_create: tuple[NewSubsidiary, ...] = ()

    @property
    def ready(self) -> bool:
        """Nothing stops the entry once ``to_create`` exists."""
        return not self.rejecting and not self.waiting

    @property
    def problems(self) -> tuple[EntryProblem, ...]:
        """Every problem that stops the entry (rejecting first)."""
        return self.rejecting + self.waiting


def missing_subsidiaries(entry: Entry, references: References) -> list[NewSubsidiary]:
    """The subsidiary accounts ``entry`` names that the client file lacks, once each, in line order."""
    known = {account.number for account in references.subsidiaries}
    wanted: dict[str, NewSubsidiary] = {}
    for line in entry.lines:
        code = line.subsidiary_code
        if code is None or code in known:
            continue
        named = wanted.get(code)
        if named is None or (named.third_party is None and line.third_party is not None):
            third_party = line.third_party
            label = third_party.name if third_party is not None else code
            wanted[code] = NewSubsidiary(number=code, label=label, third_party=third_party)
    return list(wanted.values())


def triage(
    entry: Entry,
    references: References,
    problems: Iterable[EntryProblem],
    *,
    create_missing_subsidiaries: bool,
) -> Triage:
    """Sort the problems of ``entry`` (from ``check_against_references``) into a verdict.

    Any problem outside ``WAITABLE_CODES`` rejects the entry, and then nothing is created: an
    entry that will be rejected anyway must not leave a new account behind in MyUnisoft.
    """
    found = list(problems)
    rejecting = tuple(p for p in found if p.code not in WAITABLE_CODES)
    if rejecting:
        return Triage(rejecting=rejecting)
    creatable = create_missing_subsidiaries
    waiting = tuple(p for p in found if p.code == FISCAL_YEAR_MISSING or not creatable)
    if waiting:
        return Triage(waiting=waiting)
    return Triage(to_create=tuple(missing_subsidiaries(entry, references)) if creatable else ())


def with_subsidiaries(references: References, created: Iterable[Account]) -> References:
    """``references`` with the subsidiary accounts just created in MyUnisoft added (sorted)."""
    by_number = {account.number: account for account in references.subsidiaries}
    for account in created:
        by_number.setdefault(account.number, account)
    merged = tuple(sorted(by_number.values(), key=lambda account: account.number))
    return references.model_copy(update={"subsidiaries": merged})


def created_notice(entry_id: str, account: NewSubsidiary, line: int | None = None) -> Notice:
    """The ``SUBSIDIARY_CREATED`` warning put on an entry whose upload created ``account``."""
    return Notice(
        code=SUBSIDIARY_CREATED,
        message=(
            f"subsidiary account {account.number} did not exist in MyUnisoft: the bridge created it "
            f"with the label {account.label!r}"
        ),
        entry_id=entry_id,
        line=line,
        field="subsidiary" if line is not None else None,
        result=account.number,
    )
