"""Typed views of MyUnisoft's answers, tolerant of the documented inconsistencies.

Shapes follow ``myunisoft-api.md`` §4–§11 and the Postman examples. The models ignore fields they
do not name (MyUnisoft adds fields freely), accept ``null`` wherever an example shows one, accept
both the list form (``ape: "6201Z"``) and the detailed form (``ape: {"label": "6201Z", ...}``) of a
dossier, both ``YYYYMMDD`` and ``YYYY-MM-DD`` dates, and keep account numbers as exact strings
(alphanumeric, of varying length: never padded or normalised).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The routes the bridge calls; ``KeyInfo.missing_routes`` checks a key against them.
REQUIRED_ROUTES: tuple[tuple[str, str], ...] = (
    ("get", "/api/v1/society"),
    ("get", "/api/v1/account"),
    ("get", "/api/v1/diary"),
    ("get", "/api/v1/society/exercice"),
    ("post", "/api/v1/TRA/partial"),
)

#: Routes used by the bridge's optional features; a key without them keeps uploading.
ACCOUNT_CREATE_ROUTE: tuple[str, str] = ("post", "/api/v1/account")
MAD_ENTRIES_ROUTE: tuple[str, str] = ("get", "/api/v1/mad/entries")

# The key/info documentation example spells the fiscal-year route "exercie" (§4.3); a key listing
# that spelling is taken to allow the real route.
_ROUTE_ALIASES = {"/api/v1/society/exercie": "/api/v1/society/exercice"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _none_to_false(value: Any) -> Any:
    return False if value is None else value


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def _parse_compact_date(value: Any) -> Any:
    """``"20261231"`` or ``"2026-12-31"`` (or a date) → a date; blank → ``None``."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text):
        return datetime.strptime(text, "%Y%m%d").date()
    return date.fromisoformat(text[:10])


class Route(_Model):
    """One allowed route of a key: ``{"path": "/api/v1/...", "method": "get"}``."""

    path: str
    method: str

    @field_validator("method")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    def matches(self, method: str, path: str) -> bool:
        """Whether this route allows ``method path``; ``:param`` segments match any one segment."""
        if method.lower() != self.method:
            return False
        pattern = _ROUTE_ALIASES.get(self.path, self.path).rstrip("/").split("/")
        actual = path.split("?", 1)[0].rstrip("/").split("/")
        if len(pattern) != len(actual):
            return False
        return all(p.startswith(":") or p.lower() == a.lower() for p, a in zip(pattern, actual, strict=True))


class KeyTarget(_Model):
    """Who the key belongs to. ``type`` is ``"firm"`` (accès cabinet) or ``"api"`` (one dossier)."""

    type: str
    schema_id: int | None = Field(default=None, alias="schemaId")
    third_party_id: int | None = Field(default=None, alias="thirdPartyId")
    society_id: int | None = Field(default=None, alias="societyId")


class ApiVersion(_Model):
    current: int | None = None
    latest: int | None = None
    beta: bool = False


class KeyInfo(_Model):
    """``GET /api/v1/key/info``: the key's route allow-list, plus the extended fields when asked.

    Without ``mode=extended`` MyUnisoft returns only the routes; ``target``, ``version`` and the
    activation flags are then ``None``.
    """

    routes: tuple[Route, ...] = ()
    target: KeyTarget | None = None
    version: ApiVersion | None = None
    can_be_activated: bool | None = Field(default=None, alias="canBeActivated")
    is_activated: bool | None = Field(default=None, alias="isActivated")

    @property
    def is_firm_key(self) -> bool:
        """True for an "accès cabinet" key (only known with ``extended=True``)."""
        return self.target is not None and self.target.type == "firm"

    def allows(self, method: str, path: str) -> bool:
        """Whether the key's allow-list contains ``method path``."""
        return any(route.matches(method, path) for route in self.routes)

    def missing_routes(self, required: Iterable[tuple[str, str]] = REQUIRED_ROUTES) -> list[tuple[str, str]]:
        """The ``(method, path)`` pairs of ``required`` that this key may not call."""
        return [(method, path) for method, path in required if not self.allows(method, path)]


class Society(_Model):
    """A dossier (société), from the firm's list or from the detailed single-dossier answer.

    ``ape`` and ``city`` are plain strings in the list and objects in the detailed form; both read
    as the code/label string here.
    """

    society_id: int
    name: str = ""
    siret: str | None = None
    folder_reference: str | None = None
    ape: str | None = None
    city: str | None = None
    status: str | None = None
    step: str | None = None
    member_id: int | None = None
    formule_code: str | None = None
    id_type_company: int | None = None

    @field_validator("ape", "city", mode="before")
    @classmethod
    def _label_of_object(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = value.get("label") or value.get("value")
        return _blank_to_none(value)

    @field_validator("siret", "folder_reference", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        if isinstance(value, int):
            value = str(value)
        return _blank_to_none(value)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return _none_to_empty(value)


class CounterpartAccount(_Model):
    account_id: int | None = None
    account_number: str = ""
    label: str | None = None


class AccountRecord(_Model):
    """One account of a dossier's chart (``GET /api/v1/account?mode=2``).

    Subsidiary (third-party) accounts are ordinary accounts here (``401UBER``, ``411FOOBAR``);
    classifying them is the domain's job. ``complementary_informations`` holds the third-party
    data (name, SIREN...) as MyUnisoft sends it, or ``None``.
    """

    account_id: int
    account_number: str
    label: str = ""
    closed: bool = False
    blocked: bool = False
    solde: Decimal | None = None
    sens: str | None = None
    comment: str | None = None
    intraco: bool = False
    das_2: bool = False
    presta: bool = False
    exoneration: bool = False
    btp_autoliquidation: bool = False
    counterpart_account: CounterpartAccount | None = None
    complementary_informations: dict[str, Any] | None = None

    @field_validator("account_number", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> Any:
        return _none_to_empty(value)

    @field_validator(
        "closed", "blocked", "intraco", "das_2", "presta", "exoneration", "btp_autoliquidation", mode="before"
    )
    @classmethod
    def _flags(cls, value: Any) -> Any:
        return _none_to_false(value)

    @field_validator("solde", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        # Through str so that a JSON float never brings binary noise into a Decimal.
        return str(value) if isinstance(value, float) else value


class DiaryAccount(_Model):
    """The counterpart account of a bank or cash journal."""

    id: int | None = None
    label: str | None = None
    number: str = ""


class Diary(_Model):
    """A journal (``GET /api/v1/diary``). Use ``code`` (the TRA JOURNAL field), never ``name``."""

    diary_id: int
    code: str
    name: str = ""
    closed: bool = False
    blocked: bool = False
    account: DiaryAccount | None = None
    diary_type_id: int | None = None
    diary_type_code: str = ""
    diary_type_name: str = ""

    @field_validator("closed", "blocked", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        return _none_to_false(value)

    @field_validator("name", "diary_type_code", "diary_type_name", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _none_to_empty(value)


class FiscalYearRecord(_Model):
    """A fiscal year (``GET /api/v1/society/exercice``); compact ``YYYYMMDD`` dates become dates."""

    exercice_id: int
    start_date: date
    end_date: date
    label: str = ""
    closed: bool = False
    duration: int | None = None
    closed_at: date | None = None
    result: Decimal | None = None
    ca: Decimal | None = None

    @field_validator("start_date", "end_date", "closed_at", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _parse_compact_date(value)

    @field_validator("closed", mode="before")
    @classmethod
    def _closed(cls, value: Any) -> Any:
        return _none_to_false(value)

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> Any:
        return _none_to_empty(value)

    @field_validator("result", "ca", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        return str(value) if isinstance(value, float) else value

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls inside this fiscal year (both ends included)."""
        return self.start_date <= day <= self.end_date


class ThirdPartyDetails(BaseModel):
    """Who a third-party account is, for MyUnisoft's find-or-create (``POST /api/v1/account``).

    Sent as the upsert's ``complementary_info`` (``iban``/``bic``/``bank_name`` as its one-item
    ``iban_list``); MyUnisoft keeps them only when it creates the account. Every field is optional.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str | None = None
    siren: str | None = None
    email: str | None = None
    tel: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None

    def complementary_info(self) -> dict[str, object]:
        """The upsert's ``complementary_info`` object: the fields given, blanks left out."""
        info: dict[str, object] = {}
        for name in ("name", "siren", "email", "tel", "address", "postal_code", "city", "country"):
            value = getattr(self, name)
            if value is not None and value.strip():
                info[name] = value.strip()
        if self.iban and self.iban.strip():
            bank = {"iban": self.iban.replace(" ", ""), "bic": self.bic, "etablissement": self.bank_name}
            info["iban_list"] = [{k: v for k, v in bank.items() if v}]
        return info


UploadStatus = Literal["imported", "already_imported"]


@dataclass(frozen=True, slots=True)
class UploadResult:
    """The outcome of ``POST /api/v1/TRA/partial``.

    ``status`` is ``"imported"`` when MyUnisoft accepted the file on this call, or
    ``"already_imported"`` when it answered ``IMPORT25`` to a file the bridge had itself sent
    before (an earlier attempt whose answer was lost): the file is in MyUnisoft either way.
    ``request_id`` is MyUnisoft's id of the last answer, ``attempts`` the number of HTTP attempts
    made by this call, ``tra_md5`` the MD5 of the ``.tra`` inside the archive (what MyUnisoft's
    duplicate check hashes), ``myunisoft_message`` MyUnisoft's text for an ``IMPORT25``.
    """

    status: UploadStatus
    request_id: str | None
    attempts: int
    tra_md5: str | None = None
    myunisoft_message: str | None = None

    @property
    def already_imported(self) -> bool:
        return self.status == "already_imported"
