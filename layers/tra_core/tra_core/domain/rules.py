"""MyUnisoft's rules, as small pure functions (docs/architecture.md §3.2).

Sources: MyUnisoft's account model (``myunisoft-api.md`` §7.1: every 401*/411* account is an
auxiliary account), Qonto's TRA guide for MyUnisoft (35-character labels, ``401EDF`` codes) and
the Cegid spec (``tra-format.md`` §4.1: an ``X`` line carries the auxiliary code at column 32
and a collective GENERAL account at column 14).
"""

from __future__ import annotations

from collections.abc import Mapping

from tra_core.domain.errors import Notice
from tra_core.domain.text import LABEL_WIDTH, cut, fit_encoding

ALWAYS_SUBSIDIARY_ROOTS = frozenset({"401", "411"})
"""Business rule: every account starting with these is a subsidiary account, 401000 included."""

OPTIONAL_SUBSIDIARY_ROOTS = frozenset({"421", "467"})
"""Business rule: these are subsidiary accounts when the line names a subsidiary or the number
has a non-digit (``421DUPONT``)."""

SUBSIDIARY_ROOTS = ALWAYS_SUBSIDIARY_ROOTS | OPTIONAL_SUBSIDIARY_ROOTS

DEFAULT_COLLECTIVES: Mapping[str, str] = {
    "401": "401000",
    "411": "411000",
    "421": "421000",
    "467": "467000",
}
"""The collective (control) account written in GENERAL for each subsidiary root, unless a client
file configures its own."""

ACCOUNT_WIDTH = 17
JOURNAL_WIDTH = 3
REFERENCE_WIDTH = 35


def account_root(account: str) -> str:
    """The first three characters of an account number (``401000`` → ``401``)."""
    return account[:3]


def is_subsidiary_account(account: str, subsidiary: str | None = None) -> bool:
    """Business rule: is this line posted on a subsidiary (auxiliary) account?

    Every account starting with 401 or 411 is one, without exception (``401000`` too). Accounts
    starting with 421 or 467 are one when the line names a subsidiary or the account number holds
    a non-digit (``467ASSOC``).
    """
    root = account_root(account)
    if root in ALWAYS_SUBSIDIARY_ROOTS:
        return True
    if root in OPTIONAL_SUBSIDIARY_ROOTS:
        return bool(subsidiary) or not account.isdigit()
    return False


def subsidiary_code(account: str, subsidiary: str | None = None) -> str:
    """Business rule: a subsidiary code starts with the first 3 digits of its account.

    ``("401000", "EDF")`` → ``401EDF``; a code that already starts with the root is kept
    (``("401000", "401EDF")`` → ``401EDF``); without a subsidiary the account itself is the
    code (``("401000", None)`` → ``401000``).
    """
    root = account_root(account)
    if not subsidiary:
        return account
    if subsidiary.startswith(root):
        return subsidiary
    return root + subsidiary


def collective_account(account: str, collectives: Mapping[str, str] | None = None) -> str:
    """Business rule: the GENERAL of a subsidiary line is the collective account of its root.

    Defaults: 401000, 411000, 421000, 467000; a client file may configure others.
    """
    table = DEFAULT_COLLECTIVES if collectives is None else collectives
    root = account_root(account)
    return table.get(root) or DEFAULT_COLLECTIVES.get(root) or account


def fit_label(
    label: str,
    *,
    encoding: str = "cp1252",
    width: int = LABEL_WIDTH,
    entry_id: str | None = None,
    line: int | None = None,
    field: str = "label",
) -> tuple[str, list[Notice]]:
    """Business rule: LIBELLE holds at most 35 characters the file encoding can hold.

    Returns the text to write and the warnings: ``TEXT_TRANSLITERATED`` when characters were
    replaced or removed, ``LABEL_TRUNCATED`` when the text was cut to its first ``width``
    characters. Surrounding blanks are not significant in a fixed-width field and are dropped.
    """
    notices: list[Notice] = []
    text = label.strip()
    encoded = fit_encoding(text, encoding).strip()
    if encoded != text:
        notices.append(
            Notice(
                code="TEXT_TRANSLITERATED",
                message=f"Characters the {encoding} file cannot hold were replaced or removed.",
                entry_id=entry_id,
                line=line,
                field=field,
                original=text,
                result=encoded,
            )
        )
    result = cut(encoded, width)
    if len(encoded) > width:
        notices.append(
            Notice(
                code="LABEL_TRUNCATED" if field == "label" else "TEXT_TRUNCATED",
                message=(f"MyUnisoft reads at most {width} characters here: the text was cut to {result!r}."),
                entry_id=entry_id,
                line=line,
                field=field,
                original=encoded,
                result=result,
            )
        )
    return result, notices
