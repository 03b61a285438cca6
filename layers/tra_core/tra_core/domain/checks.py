"""Checks of an entry against its client file's reference data, before anything is sent.

MyUnisoft refuses an import with one error at a time (``myunisoft-api.md`` §11-12); checking
first gives the accountant every reason at once, in plain words, and keeps a bad entry from
costing an upload. Rules (``myunisoft-api.md`` §8-9; docs/architecture.md §4):

- every general account exists in the chart and is not closed; every subsidiary code (after the
  3-digit prefix rule) exists among the subsidiary accounts and is not closed;
- the journal exists and is not closed or blocked;
- the journal type's posting rules hold: purchase journal (``ACH``) no 41x account, sales journal
  (``VTE``) no 40x account, bank journal (``BQ``) a 51x or 54x line, cash journal (``CAISSE``) a
  53x line, and no posting into an opening-balance journal (``AN``);
- the date falls in an open fiscal year.
"""

from __future__ import annotations

from tra_core.domain.entry import Entry
from tra_core.domain.errors import EntryProblem
from tra_core.domain.references import Account, Journal, References

PURCHASE, SALES, BANK, CASH, OPENING = "ACH", "VTE", "BQ", "CAISSE", "AN"


def _index(accounts: tuple[Account, ...]) -> dict[str, Account]:
    return {account.number: account for account in accounts}


def check_against_references(entry: Entry, references: References) -> list[EntryProblem]:
    """Every reason why MyUnisoft would refuse ``entry`` in this client file; ``[]`` if none.

    Business rule: an entry is only sent when its accounts, subsidiaries, journal and date are
    all usable in the client file as last refreshed.
    """
    problems: list[EntryProblem] = []

    def problem(code: str, message: str, line: int | None = None, field: str | None = None) -> None:
        problems.append(
            EntryProblem(code=code, message=message, entry_id=entry.entry_id, line=line, field=field)
        )

    general = _index(references.accounts)
    subsidiaries = _index(references.subsidiaries)
    for number, line in enumerate(entry.lines, start=1):
        code = line.subsidiary_code
        if code is not None:
            found = subsidiaries.get(code)
            field = "subsidiary" if line.subsidiary else "account"
            if found is None:
                problem(
                    "SUBSIDIARY_UNKNOWN",
                    f"subsidiary account {code} does not exist in this client file in MyUnisoft: "
                    "create the third party there (or fix the code), then refresh the references",
                    number,
                    field,
                )
            elif found.closed:
                problem(
                    "SUBSIDIARY_CLOSED", f"subsidiary account {code} is closed in MyUnisoft", number, field
                )
        else:
            found = general.get(line.account)
            if found is None:
                problem(
                    "ACCOUNT_UNKNOWN",
                    f"account {line.account} does not exist in this client file's chart of accounts",
                    number,
                    "account",
                )
            elif found.closed:
                problem("ACCOUNT_CLOSED", f"account {line.account} is closed in MyUnisoft", number, "account")
    journal = next((j for j in references.journals if j.code == entry.journal), None)
    if journal is None:
        problem(
            "JOURNAL_UNKNOWN",
            f"journal {entry.journal} does not exist in this client file in MyUnisoft",
            field="journal",
        )
    else:
        problems.extend(_journal_rules(entry, journal))
    problems.extend(_fiscal_year(entry, references))
    return problems


def _journal_rules(entry: Entry, journal: Journal) -> list[EntryProblem]:
    """Business rule: what each MyUnisoft journal type accepts (``myunisoft-api.md`` §8)."""
    found: list[EntryProblem] = []

    def problem(code: str, message: str, line: int | None = None, field: str = "journal") -> None:
        found.append(
            EntryProblem(code=code, message=message, entry_id=entry.entry_id, line=line, field=field)
        )

    if journal.blocked:
        problem("JOURNAL_BLOCKED", f"journal {journal.code} is closed or blocked in MyUnisoft")
    roots = [line.account[:2] for line in entry.lines]
    if journal.type == OPENING:
        problem(
            "JOURNAL_OPENING_BALANCE",
            f"journal {journal.code} holds opening balances (à-nouveaux): entries cannot be posted into it",
        )
    elif journal.type == PURCHASE:
        for number, root in enumerate(roots, start=1):
            if root == "41":
                problem(
                    "JOURNAL_ACCOUNT_FORBIDDEN",
                    f"purchase journal {journal.code} takes no customer account (41x)",
                    number,
                    "account",
                )
    elif journal.type == SALES:
        for number, root in enumerate(roots, start=1):
            if root == "40":
                problem(
                    "JOURNAL_ACCOUNT_FORBIDDEN",
                    f"sales journal {journal.code} takes no supplier account (40x)",
                    number,
                    "account",
                )
    elif journal.type == BANK and not any(root in {"51", "54"} for root in roots):
        problem(
            "BANK_ACCOUNT_MISSING",
            f"an entry of bank journal {journal.code} needs a bank account line (51x or 54x)",
        )
    elif journal.type == CASH and not any(root == "53" for root in roots):
        problem(
            "CASH_ACCOUNT_MISSING", f"an entry of cash journal {journal.code} needs a cash account line (53x)"
        )
    return found


def _fiscal_year(entry: Entry, references: References) -> list[EntryProblem]:
    """Business rule: the entry's date falls in an open fiscal year (``myunisoft-api.md`` §9)."""
    covering = [year for year in references.fiscal_years if year.covers(entry.date)]
    if any(not year.closed for year in covering):
        return []
    day = entry.date.isoformat()
    if covering:
        return [
            EntryProblem(
                code="FISCAL_YEAR_CLOSED",
                message=f"the fiscal year holding {day} is closed in MyUnisoft",
                entry_id=entry.entry_id,
                field="date",
            )
        ]
    return [
        EntryProblem(
            code="FISCAL_YEAR_MISSING",
            message=f"no fiscal year of this client file covers {day}: create it in MyUnisoft first",
            entry_id=entry.entry_id,
            field="date",
        )
    ]
