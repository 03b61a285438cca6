"""Reference data of one client file: chart of accounts, subsidiaries, journals, fiscal years.

Shapes follow the API's answer (docs/architecture.md §3.4, ``GET /files/{file_id}/references``).
The classification of accounts into general and subsidiary ones applies MyUnisoft's rule
(docs/architecture.md §3.2 rule 2): every 401*/411* account is a subsidiary account, 401000
included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict

from tra_core.domain.rules import is_subsidiary_account


class Account(BaseModel):
    """A general or subsidiary account of the chart."""

    model_config = ConfigDict(frozen=True)

    number: str
    label: str = ""
    closed: bool = False


class Journal(BaseModel):
    """A journal (``diary``): ``type`` is MyUnisoft's type code (ACH, VTE, BQ, OD, AN, ...)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str = ""
    type: str = ""
    blocked: bool = False


class FiscalYear(BaseModel):
    """A fiscal year (``exercice``), both ends included."""

    model_config = ConfigDict(frozen=True)

    start: date
    end: date
    closed: bool = False

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls inside this fiscal year."""
        return self.start <= day <= self.end


class References(BaseModel):
    """Everything the bridge knows of a client file's setup at one version."""

    model_config = ConfigDict(frozen=True)

    accounts: tuple[Account, ...] = ()
    subsidiaries: tuple[Account, ...] = ()
    journals: tuple[Journal, ...] = ()
    fiscal_years: tuple[FiscalYear, ...] = ()


def classify_accounts(accounts: Iterable[Account]) -> tuple[list[Account], list[Account]]:
    """Split a chart into (general accounts, subsidiary accounts), each sorted by number.

    Business rule: every account whose number starts with 401 or 411 is a subsidiary account,
    without exception (``401000`` too); 421/467 accounts are when their number has a non-digit.
    """
    general: list[Account] = []
    subsidiaries: list[Account] = []
    for account in accounts:
        (subsidiaries if is_subsidiary_account(account.number) else general).append(account)
    general.sort(key=lambda a: a.number)
    subsidiaries.sort(key=lambda a: a.number)
    return general, subsidiaries
