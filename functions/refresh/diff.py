"""What changed between two versions of a client file's references."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from tra_core.domain.references import Account, FiscalYear, Journal, References
from tra_core.store.records import ChangeSet, ReferenceChanges

T = TypeVar("T")


def diff_references(previous: References | None, current: References) -> ReferenceChanges:
    """Accounts, subsidiaries, journals and fiscal years added, removed, closed or reopened.

    A journal counts as closed when it becomes blocked; a first version has no diff (``initial``).
    """
    if previous is None:
        return ReferenceChanges(initial=True)
    return ReferenceChanges(
        accounts=_diff(previous.accounts, current.accounts, _account_key, _account_closed),
        subsidiaries=_diff(previous.subsidiaries, current.subsidiaries, _account_key, _account_closed),
        journals=_diff(previous.journals, current.journals, _journal_key, _journal_closed),
        fiscal_years=_diff(previous.fiscal_years, current.fiscal_years, _year_key, _year_closed),
    )


def _diff(
    before: Sequence[T], after: Sequence[T], key: Callable[[T], str], closed: Callable[[T], bool]
) -> ChangeSet:
    old = {key(item): item for item in before}
    new = {key(item): item for item in after}
    both = sorted(old.keys() & new.keys())
    return ChangeSet(
        added=tuple(sorted(new.keys() - old.keys())),
        removed=tuple(sorted(old.keys() - new.keys())),
        closed=tuple(k for k in both if closed(new[k]) and not closed(old[k])),
        reopened=tuple(k for k in both if closed(old[k]) and not closed(new[k])),
    )


def _account_key(account: Account) -> str:
    return account.number


def _account_closed(account: Account) -> bool:
    return account.closed


def _journal_key(journal: Journal) -> str:
    return journal.code


def _journal_closed(journal: Journal) -> bool:
    return journal.blocked


def _year_key(year: FiscalYear) -> str:
    return f"{year.start.isoformat()}/{year.end.isoformat()}"


def _year_closed(year: FiscalYear) -> bool:
    return year.closed
