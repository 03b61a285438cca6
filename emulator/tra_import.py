"""``POST /api/v1/TRA/partial``: open the TRA+PJ zip, read and validate the ``.tra``, import it.

Steps, each failing with MyUnisoft's business code (``myunisoft-api.md`` §11, §14):

1. the body is a raw zip (``application/octet-stream``): else ``IMPORT8`` (``IMPORT9`` when a
   member cannot be extracted);
2. exactly one ``.tra`` at the zip root (any letter case): else ``IMPORT12``; empty: ``IMPORT14``;
3. with ``HascodeVerif=true``, the MD5 of the ``.tra`` bytes (attachments excluded) must not be
   already imported: else ``IMPORT25``;
4. the format (``tra_core.tra.linter``, when ``strict_format``): else ``IMPORT18``;
5. per entry (journal + date + reference, or NUMEROPIECE): the journal exists (``JOURNAL3``), is
   open (``JOURNAL2``) and is not an à-nouveaux journal (``JOURNAL13``); the date is in a fiscal
   year (``IMPORT29``; none defined: ``EXERCICE9``) that is open (``ECR9``); the accounts exist
   (``COMPTE2``, or created) and are open (``COMPTE32``);
6. the file balances (``IMPORT13``);
7. attachments named by ``G`` lines are in the zip: else, with ``mandatory_docs=1``, ``IMPORT26``.

With ``commit_mode="partial"`` steps 5–7 run per entry: the valid entries are kept and the others
reported (the app answers the first one's error; ``docs/myunisoft-assumptions.md`` E10).

The TRA is read with ``tra_core.tra.reader`` (the bridge's own reader, never a second parser).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emulator.config import EmulatorConfig
from emulator.errors import ApiError, api_error
from emulator.fixtures import Account, Dossier
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import TraLine, read_tra


@dataclass
class AcceptedEntry:
    """One entry of the file that MyUnisoft keeps: its lines (``G`` lines included) and documents."""

    lines: list[TraLine]
    attachments: list[str]

    @property
    def movements(self) -> list[TraLine]:
        return [line for line in self.lines if not line.is_document]


@dataclass
class ImportOutcome:
    """What an accepted import did: the entries kept, the attachments linked, the accounts created.

    ``rejected`` lists the entries a partial commit left out (``{"line", "code", "message"}``).
    """

    md5: str
    tra_text: str
    zip_names: list[str]
    accepted: list[AcceptedEntry]
    linked_attachments: list[str]
    created_accounts: dict[str, str] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lines(self) -> list[TraLine]:
        return [line for entry in self.accepted for line in entry.lines]


@dataclass
class _Archive:
    tra_name: str
    tra_bytes: bytes
    names: list[str]


def open_archive(body: bytes, content_type: str) -> _Archive:
    """Steps 1–2: the zip and its single root ``.tra``."""
    if content_type.lower().startswith("multipart/") or not zipfile.is_zipfile(io.BytesIO(body)):
        raise api_error("IMPORT8")
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            members = [info for info in zf.infolist() if not info.is_dir()]
            tra_members = [
                i for i in members if "/" not in i.filename and i.filename.lower().endswith(".tra")
            ]
            if len(tra_members) != 1:
                raise api_error("IMPORT12")
            tra_bytes = zf.read(tra_members[0])
            for info in members:  # every member must extract (CRC checked)
                zf.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, NotImplementedError, EOFError) as exc:
        raise api_error("IMPORT9") from exc
    if not tra_bytes.strip():
        raise api_error("IMPORT14")
    return _Archive(tra_members[0].filename, tra_bytes, [i.filename for i in members])


def tra_md5(tra_bytes: bytes) -> str:
    return hashlib.md5(tra_bytes).hexdigest()  # MyUnisoft's own duplicate check uses MD5


def _entries(lines: Iterable[TraLine]) -> list[list[TraLine]]:
    """Group movement lines (and the G lines after them) into entries, in file order."""
    groups: list[list[TraLine]] = []
    key: tuple[str, ...] | None = None
    for line in lines:
        line_key = (line.journal, line.date_text, line.piece_number or line.reference)
        if line.is_document and groups:
            groups[-1].append(line)
            continue
        if key != line_key or not groups:
            groups.append([])
            key = line_key
        groups[-1].append(line)
    return groups


class _Validator:
    def __init__(self, dossier: Dossier, config: EmulatorConfig, zip_names: list[str], mandatory_docs: bool):
        self.dossier = dossier
        self.config = config
        self.zip_names = zip_names
        self.mandatory_docs = mandatory_docs
        self.to_create: dict[str, str] = {}
        self.linked: list[str] = []

    def _account(self, number: str, label: str, auxiliary: bool) -> None:
        account = self.dossier.account(number)
        if account is None:
            policy = (
                self.config.unknown_auxiliary_accounts if auxiliary else self.config.unknown_general_accounts
            )
            if policy == "reject":
                raise api_error("COMPTE2", number=number)
            self.to_create.setdefault(number, label)
            return
        if account.closed:
            raise api_error("COMPTE32", number=number)

    def _journal(self, code: str) -> None:
        journal = next((j for j in self.dossier.journals if j.code == code), None)
        if journal is None:
            raise api_error("JOURNAL3", code=code)
        if journal.closed or journal.blocked:
            raise api_error("JOURNAL2", code=code)
        if journal.type == "AN":
            raise api_error("JOURNAL13")

    def _date(self, line: TraLine) -> None:
        day = line.accounting_date
        if not self.dossier.fiscal_years:
            raise api_error("EXERCICE9")
        year = next((y for y in self.dossier.fiscal_years if day and y.start <= day <= y.end), None)
        if year is None:
            raise api_error("IMPORT29")
        if year.closed:
            raise api_error("ECR9")

    def _attachment(self, name: str) -> str | None:
        match = name if name in self.zip_names else None
        if match is None:
            lowered = {n.lower(): n for n in self.zip_names}
            match = lowered.get(name.lower())
        if match is None and self.mandatory_docs:
            raise api_error("IMPORT26", name=name)
        return match

    def _documents(self, lines: list[TraLine], movements: list[TraLine]) -> list[str]:
        if self.config.attachment_link == "g_line":
            found = [self._attachment(line.document) for line in lines if line.is_document and line.document]
            return [name for name in found if name is not None]
        references = {line.reference for line in movements if line.reference}
        return [
            name
            for name in self.zip_names
            if name.rsplit(".", 1)[0] in references and not name.lower().endswith(".tra")
        ]

    def entry(self, lines: list[TraLine]) -> AcceptedEntry:
        """Validate one entry (raises :class:`ApiError`); the entry with its linked documents."""
        movements = [line for line in lines if not line.is_document]
        for line in movements:
            self._journal(line.journal)
            self._date(line)
            self._account(line.general, line.label, auxiliary=False)
            if line.account_type == "X" and line.auxiliary:
                self._account(line.auxiliary, line.label, auxiliary=True)
        documents = self._documents(lines, movements)
        self.linked.extend(documents)
        return AcceptedEntry(lines, documents)


def _balance(lines: Iterable[TraLine]) -> Decimal:
    total = Decimal(0)
    for line in lines:
        if line.is_document or line.amount is None:
            continue
        total += line.amount if line.direction == "D" else -line.amount
    return total


def _first_format_problem(tra_bytes: bytes, config: EmulatorConfig) -> ApiError | None:
    if not config.strict_format:
        return None
    for problem in sorted(lint_tra(tra_bytes)):
        if problem.code in config.lint_ignore:
            continue
        if problem.code in {"EMPTY_FILE", "NO_MOVEMENT"}:
            return api_error("IMPORT14")
        return ApiError(
            "IMPORT18",
            400,
            f"Le fichier est mal formaté : ligne {problem.line}, colonne {problem.column} : "
            f"{problem.code} {problem.message}",
        )
    return None


def _partial_commit(
    entries: list[list[TraLine]], validator: _Validator
) -> tuple[list[AcceptedEntry], list[dict[str, Any]]]:
    """Each entry on its own: the valid ones kept, the others listed with their first error."""
    accepted: list[AcceptedEntry] = []
    rejected: list[dict[str, Any]] = []
    for lines in entries:
        alone = _Validator(validator.dossier, validator.config, validator.zip_names, validator.mandatory_docs)
        try:
            entry = alone.entry(lines)
            if _balance(lines) != 0:
                raise api_error("IMPORT13")
        except ApiError as error:
            rejected.append({"line": lines[0].number, "code": error.code, "message": error.text()})
            continue
        validator.to_create.update(alone.to_create)
        validator.linked.extend(entry.attachments)
        accepted.append(entry)
    return accepted, rejected


def validate_import(
    tra_bytes: bytes, zip_names: list[str], dossier: Dossier, config: EmulatorConfig, *, mandatory_docs: bool
) -> ImportOutcome:
    """Steps 4–7 (the duplicate check is the caller's, under its lock). Raises :class:`ApiError`.

    All or nothing: the first error refuses the file. Partial commit: the valid entries are kept
    and the others listed in ``rejected`` (the caller answers the first of them); a file with no
    valid entry is refused with the first error.
    """
    problem = _first_format_problem(tra_bytes, config)
    if problem is not None:
        raise problem
    tra = read_tra(tra_bytes)
    if not [line for line in tra.lines if not line.is_document]:
        raise api_error("IMPORT14")
    validator = _Validator(dossier, config, zip_names, mandatory_docs)
    rejected: list[dict[str, Any]] = []
    if config.commit_mode == "all_or_nothing":
        accepted = [validator.entry(lines) for lines in _entries(tra.lines)]
        if _balance(tra.lines) != 0:
            raise api_error("IMPORT13")
    else:
        accepted, rejected = _partial_commit(_entries(tra.lines), validator)
    if not accepted:
        if not rejected:
            raise api_error("IMPORT6")
        raise ApiError(str(rejected[0]["code"]), 400, str(rejected[0]["message"]))
    return ImportOutcome(
        md5=tra_md5(tra_bytes),
        tra_text=tra_bytes.decode(tra.encoding, errors="replace"),
        zip_names=zip_names,
        accepted=accepted,
        linked_attachments=sorted(set(validator.linked)),
        created_accounts=dict(sorted(validator.to_create.items())),
        rejected=rejected,
    )


def create_accounts(dossier: Dossier, numbers_and_labels: dict[str, str]) -> list[Account]:
    """Add the accounts an import created to the dossier's chart."""
    created = []
    next_id = max((a.account_id for a in dossier.accounts), default=dossier.society_id * 1000) + 1
    for number, label in sorted(numbers_and_labels.items()):
        if dossier.account(number) is None:
            account = Account(account_id=next_id, number=number, label=label or number)
            dossier.accounts.append(account)
            created.append(account)
            next_id += 1
    return created
