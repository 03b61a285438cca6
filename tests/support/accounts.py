"""An in-memory fake of MyUnisoft's find-or-create of accounts (``upload.ports.AccountCreators``).

It behaves as the route does as far as the worker can tell: an existing number comes back as it is,
a new one is created with the label given, and ``script`` makes the next calls raise (a refusal such
as ``COMPTE7``, maintenance, a 429...). Every call is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tra_core.myunisoft.errors import MyUnisoftError
from tra_core.myunisoft.models import AccountRecord, ThirdPartyDetails
from upload.ports import AccountCreator, AccountCreators


@dataclass(frozen=True)
class AccountCall:
    """One ``POST /api/v1/account`` the fake received."""

    society_id: int
    number: str
    label: str
    third_party: ThirdPartyDetails | None


@dataclass
class FakeAccounts(AccountCreators):
    """Accounts by (dossier, number); ``script`` holds errors to raise on the next calls, in order."""

    accounts: dict[tuple[int, str], AccountRecord] = field(default_factory=dict)
    calls: list[AccountCall] = field(default_factory=list)
    script: list[MyUnisoftError | None] = field(default_factory=list)
    opened_with: list[str] = field(default_factory=list)

    def open(self, api_key: str) -> FakeAccountCreator:
        self.opened_with.append(api_key)
        return FakeAccountCreator(self)

    def created(self, society_id: int) -> list[str]:
        """The numbers created in a dossier, in order."""
        return [number for (society, number) in self.accounts if society == society_id]


class FakeAccountCreator(AccountCreator):
    def __init__(self, server: FakeAccounts):
        self.server = server

    def close(self) -> None:
        return None

    def create_account(
        self,
        society_id: int,
        account_number: str,
        label: str,
        *,
        third_party: ThirdPartyDetails | None = None,
    ) -> AccountRecord:
        self.server.calls.append(AccountCall(society_id, account_number, label, third_party))
        if self.server.script:
            error = self.server.script.pop(0)
            if error is not None:
                raise error
        key = (society_id, account_number)
        if key not in self.server.accounts:
            self.server.accounts[key] = AccountRecord(
                account_id=1000 + len(self.server.accounts), account_number=account_number, label=label
            )
        return self.server.accounts[key]
