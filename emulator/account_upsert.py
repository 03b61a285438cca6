"""``POST /api/v1/account``: MyUnisoft's find-or-create of an account (its "upsert").

The body is ``{"account_number", "label"}`` plus, at creation, the optional flags ``provider``,
``intraco_account``, ``btp_autoliquidation``, ``exoneration``, ``das_2``, the ids
``vat_param_id`` and ``counterpart_account_id``, and ``complementary_info`` (the third party's
``name``, ``siren``, ``email``, ``tel``, ``address``, ``postal_code``, ``city``, ``country``,
``iban_list`` of ``{"iban", "bic", "etablissement"}``, ``payment_type_id``...), as
``myunisoft-mad-entries.md`` §2 of the design folder summarises MyUnisoft's documentation.

Refusals, one per answer: a number over 20 characters ``COMPTE7``; a number not starting with a
digit 1–9 ``COMPTE6``; a missing number or a body of the wrong shape ``GBL10``. An existing
account is found and returned as it is (neither its label nor its details are changed: see
``docs/myunisoft-assumptions.md`` E18). The account then appears in ``GET /api/v1/account`` (every
mode), ``/account/v2`` and ``/mad/accounts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ApiError, api_error
from emulator.fixtures import Account, Dossier
from emulator.tra_import import create_accounts

#: Body flag → the flag of the detailed chart it sets.
_FLAGS = {
    "provider": "presta",
    "intraco_account": "intraco",
    "btp_autoliquidation": "btp_autoliquidation",
    "exoneration": "exoneration",
    "das_2": "das_2",
}


@dataclass(frozen=True)
class AccountUpsert:
    """A checked find-or-create request."""

    number: str
    label: str
    flags: dict[str, bool] = field(default_factory=dict)
    counterpart_account_id: int | None = None
    third_party: dict[str, Any] | None = None


def _number(body: dict[str, Any]) -> str:
    raw = body.get("account_number")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise api_error("GBL10")
    number = str(raw).strip()
    if not number:
        raise api_error("GBL10")
    if len(number) > 20:
        raise ApiError("COMPTE7", 400, "Le numéro de compte ne peut dépasser 20 caractères")
    if number[0] not in "123456789":
        raise ApiError("COMPTE6", 400, "Le numéro de compte doit commencer par un chiffre de 1 à 9")
    return number


def _third_party(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise api_error("GBL10")
    ibans = raw.get("iban_list", [])
    if not isinstance(ibans, list) or not all(isinstance(item, dict) for item in ibans):
        raise api_error("GBL10")
    return {**raw, "iban_list": [dict(item) for item in ibans]}


def parse_upsert(body: Any) -> AccountUpsert:
    """Check the body; raises :class:`ApiError` with MyUnisoft's code."""
    if not isinstance(body, dict):
        raise api_error("GBL10")
    number = _number(body)
    label = body.get("label")
    if label is not None and not isinstance(label, str):
        raise api_error("GBL10")
    flags: dict[str, bool] = {}
    for name, flag in _FLAGS.items():
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise api_error("GBL10")
        if value is not None:
            flags[flag] = value
    counterpart = body.get("counterpart_account_id")
    if counterpart is not None and (isinstance(counterpart, bool) or not isinstance(counterpart, int)):
        raise api_error("GBL10")
    return AccountUpsert(
        number=number,
        label=(label or "").strip() or number,
        flags=flags,
        counterpart_account_id=counterpart,
        third_party=_third_party(body.get("complementary_info")),
    )


def find_or_create(dossier: Dossier, request: AccountUpsert) -> Account:
    """The dossier's account numbered ``request.number``, created with the request's details if absent."""
    existing = dossier.account(request.number)
    if existing is not None:
        return existing
    counterpart = None
    if request.counterpart_account_id is not None:
        wanted = request.counterpart_account_id
        counterpart = next((a for a in dossier.accounts if a.account_id == wanted), None)
        if counterpart is None:
            raise api_error("COMPTE2", number=str(request.counterpart_account_id))
    [account] = create_accounts(dossier, {request.number: request.label})
    account.flags = dict(request.flags)
    account.counterpart = counterpart.number if counterpart else None
    if request.third_party is not None:
        account.third_party = dict(request.third_party)
    return account
