"""JSON bodies shaped exactly like MyUnisoft's Postman examples (keys, nesting and types).

One function per answer. The tests compare each against the saved example of the same request
(``tests/unit/emulator/test_postman_shapes.py``).
"""

from __future__ import annotations

from typing import Any

from emulator.fixtures import DIARY_TYPES, Account, Dossier, FiscalYear, Journal

_DETAILED_INFO_KEYS = (
    "id_info_compte_tiers",
    "person_in_charge",
    "address_number",
    "indice_repetition",
    "address",
    "address_complement",
    "postal_code",
    "city",
    "siren",
    "name",
    "contact_lastname",
    "contact_firstname",
    "function",
    "tel",
    "email",
    "comment",
    "profession",
    "firstname",
    "lastname",
    "type_info_compte_tiers",
    "iban_list",
    "way_type",
    "amount_type_paid",
    "ape",
    "payment_deadline",
    "id_payment_deadline",
    "payment_type_id",
    "payment_type",
)
_V2_INFO_KEYS = (
    "ape",
    "tel",
    "city",
    "name",
    "email",
    "siren",
    "address",
    "comment",
    "function",
    "lastname",
    "typevoie",
    "firstname",
    "iban_list",
    "id_country",
    "profession",
    "postal_code",
    "payment_type",
    "address_number",
    "payment_type_id",
    "amount_type_paid",
    "contact_lastname",
    "payment_deadline",
    "person_in_charge",
    "contact_firstname",
    "indice_repetition",
    "address_complement",
    "id_payment_deadline",
    "id_info_compte_tiers",
    "type_info_compte_tiers",
)


def _compact(day: Any) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


# -- dossiers ----------------------------------------------------------------------------------


def _address(dossier: Dossier) -> str:
    parts = [
        dossier.address_number,
        dossier.road_type,
        dossier.street_name,
        dossier.postal_code,
        dossier.city,
    ]
    return " ".join(p for p in parts if p) + " FRANCE"


def society_list_item(dossier: Dossier) -> dict[str, Any]:
    return {
        "ape": dossier.ape,
        "city": dossier.city,
        "name": dossier.name,
        "step": "",
        "insee": None,
        "siret": dossier.siret,
        "status": "" if dossier.active else "Inactif",
        "address": _address(dossier),
        "capital": 0,
        "country": "FRANCE",
        "secured": False,
        "analytics": False,
        "member_id": dossier.member_id,
        "road_type": dossier.road_type,
        "complement": None,
        "coordonnee": [],
        "society_id": dossier.society_id,
        "address_bis": None,
        "companyType": "",
        "mail_liasse": None,
        "postal_code": dossier.postal_code,
        "safe_status": True,
        "street_name": dossier.street_name,
        "address_number": dossier.address_number,
        "enable_quantity": False,
        "id_type_company": 1,
        "folder_reference": dossier.folder_reference,
    }


def society_list(dossiers: list[Dossier]) -> dict[str, Any]:
    return {
        "row_numbers": len(dossiers),
        "pages_number": None,
        "society_array": [society_list_item(d) for d in dossiers],
    }


def society_detail(dossier: Dossier, firm_name: str, *, by_siret: bool = False) -> dict[str, Any]:
    """The detailed dossier object; ``by_siret`` adds the fields of the ``?siret=`` example."""
    body: dict[str, Any] = {
        "ape": {"id": 500 + dossier.society_id % 400, "label": dossier.ape, "value": dossier.ape_label},
        "register": None,
        "legal_form": (
            {"id": 1, "label": dossier.legal_form, "code": dossier.legal_form} if dossier.legal_form else None
        ),
        "road_type": {"id": 9, "label": dossier.road_type, "value": dossier.road_type}
        if dossier.road_type
        else None,
        "owner_company": {"id": dossier.schema_id, "label": firm_name, "value": firm_name},
        "bilan": None,
        "impot": None,
        "vat_regime": {"id": 8, "label": "Réel Normal Trimestrielle", "value": "T"},
        "coordonnee": None,
        "footer": None,
        "city": {"label": dossier.city, "value": dossier.city},
        "comment": "",
        "society_id": dossier.society_id,
        "name": dossier.name,
        "siret": dossier.siret,
        "activity": "",
        "rof_tva": "",
        "rof_tdfc": "",
        "rof_cfe": "",
        "rof_cvae": "",
        "address_number": dossier.address_number,
        "id_accountant": 1,
        "id_rm": 9,
        "id_collab": None,
        "accountant": {"id_ex": 1, "prenom": "CLAIRE", "nom": "EXPERT"},
        "rm": {"id_ex": 9, "prenom": "Paul", "nom": "Revisor"},
        "collab": None,
        "secured": False,
        "analytics": False,
        "enable_quantity": False,
        "folder_reference": dossier.folder_reference or "",
        "adherent_code": "",
        "formule_code": dossier.formule_code if dossier.active else "INAC",
        "safe_status": True,
        "logo": None,
        "address_bis": None,
        "street_name": dossier.street_name,
        "complement": "",
        "postal_code": dossier.postal_code,
        "country": "FRANCE",
        "address": _address(dossier),
        "id_centre_gestion": 0,
        "code_sheet_group": "",
        "registration_date": dossier.registration_date,
        "close_entries_VAT": False,
        "id_type_company": 1,
    }
    if by_siret:
        body["gescom"] = {"label": "Aucune", "code": "NONE", "nb_user_required": 0}
        body["id_parent_society"] = 0
        body["secondary_establishments"] = None
        body["date_engage_letter"] = ""
    return body


# -- accounts ----------------------------------------------------------------------------------


def _counterpart(dossier: Dossier, account: Account) -> Account | None:
    return dossier.account(account.counterpart) if account.counterpart else None


def _flags(account: Account) -> dict[str, bool]:
    """The chart's flags, in the detailed answer's order (false unless the upsert set them)."""
    names = ("intraco", "btp_autoliquidation", "presta", "exoneration", "das_2")
    return {name: bool(account.flags.get(name, False)) for name in names}


def _detailed_info(account: Account) -> dict[str, Any]:
    info: dict[str, Any] = dict.fromkeys(_DETAILED_INFO_KEYS)
    info["iban_list"] = []
    for key, value in (account.third_party or {}).items():
        if key in info:
            info[key] = value
    return info


def account_detailed(dossier: Dossier, account: Account, *, row_number: int | None = None) -> dict[str, Any]:
    """One account of ``/account?mode=2``; ``row_number`` only in the full list."""
    counterpart = _counterpart(dossier, account)
    body: dict[str, Any] = {} if row_number is None else {"row_number": row_number}
    body.update(
        {
            "account_id": account.account_id,
            "society_id": dossier.society_id,
            "account_number": account.number,
            "label": account.label,
            "solde": 0,
            "sens": "",
            "comment": "",
            **_flags(account),
            "closed": account.closed,
            "blocked": account.blocked,
            "vat_param": None,
            "counterpart_account": None
            if counterpart is None
            else {
                "account_id": counterpart.account_id,
                "account_number": counterpart.number,
                "label": counterpart.label,
            },
            "array_counterpart_account": None
            if counterpart is None
            else [
                {
                    "label": counterpart.label,
                    "num_ordre": 1,
                    "vat_param": None,
                    "account_id": counterpart.account_id,
                    "account_number": counterpart.number,
                }
            ],
            "complementary_informations": _detailed_info(account),
        }
    )
    return body


def account_simplified(dossier: Dossier, account: Account) -> dict[str, Any]:
    """One account of ``/account?mode=1``: counterpart keys only when there is one."""
    body: dict[str, Any] = {
        "account_id": account.account_id,
        "account_number": account.number,
        "label": account.label,
    }
    counterpart = _counterpart(dossier, account)
    if counterpart is not None:
        body["counterpart_account"] = {
            "account_id": counterpart.account_id,
            "account_number": counterpart.number,
            "label": counterpart.label,
        }
        body["array_counterpart_account"] = [
            {
                "label": counterpart.label,
                "num_ordre": 1,
                "vat_param": None,
                "account_id": counterpart.account_id,
                "account_number": counterpart.number,
            }
        ]
    return body


def account_v2(dossier: Dossier, account: Account, flags: set[str]) -> dict[str, Any]:
    """One account of ``/account/v2``; ``flags`` among details, compta, vat, counterpart, quantity."""
    counterpart = _counterpart(dossier, account)
    chart_flags = _flags(account)
    body: dict[str, Any] = {
        "das_2": chart_flags["das_2"],
        "label": account.label,
        "closed": account.closed,
        "id_tva": None,
        "presta": chart_flags["presta"],
        "comment": None,
        "intraco": chart_flags["intraco"],
        "account_id": account.account_id,
        "exoneration": chart_flags["exoneration"],
        "param_vat_id": None,
        "account_number": account.number,
        "btp_autoliquidation": chart_flags["btp_autoliquidation"],
        "correspondance_label": counterpart.label if counterpart else None,
        "id_compte_contrepart": counterpart.account_id if counterpart else None,
        "correspondance_no_compte": counterpart.number if counterpart else None,
    }
    if "details" in flags:
        info: dict[str, Any] = dict.fromkeys(_V2_INFO_KEYS)
        info["iban_list"] = []
        for key, value in (account.third_party or {}).items():
            if key in info:
                info[key] = value
        body["complementary_informations"] = info
    if "compta" in flags:
        body.update({"sens": "", "solde": 0, "blocked": account.blocked})
    if "vat" in flags:
        body["vat_param"] = None
    if "counterpart" in flags:
        body["counterpart_account"] = (
            None
            if counterpart is None
            else {
                "account_id": counterpart.account_id,
                "account_number": counterpart.number,
                "label": counterpart.label,
            }
        )
        body["array_counterpart_account"] = None
    if "quantity" in flags:
        body["quantities"] = None
    return body


def account_created(account: Account) -> dict[str, Any]:
    """``POST /account`` (find or create): 40x/41x accounts carry ``counterpart_account``."""
    body: dict[str, Any] = {
        "account_id": account.account_id,
        "account_number": account.number,
        "label": account.label,
    }
    if account.number.startswith(("40", "41")):
        body["counterpart_account"] = None
    else:
        body["array_counterpart_account"] = []
    return body


# -- journals and fiscal years -------------------------------------------------------------------


def diary(dossier: Dossier, journal: Journal) -> dict[str, Any]:
    type_id, type_name = DIARY_TYPES.get(journal.type or "", (None, ""))
    bank = dossier.account(journal.account) if journal.account else None
    return {
        "code": journal.code,
        "name": journal.name,
        "closed": journal.closed,
        "account": None
        if journal.account is None
        else {
            "id": bank.account_id if bank else None,
            "label": bank.label if bank else journal.account,
            "number": journal.account,
        },
        "blocked": journal.blocked,
        "diary_id": journal.diary_id,
        "diary_type_id": type_id,
        "diary_type_code": journal.type or "",
        "diary_type_name": type_name,
    }


def exercice(year: FiscalYear) -> dict[str, Any]:
    months = (year.end.year - year.start.year) * 12 + year.end.month - year.start.month + 1
    return {
        "exercice_id": year.exercice_id,
        "start_date": _compact(year.start),
        "end_date": _compact(year.end),
        "label": year.label,
        "result": year.result,
        "ca": year.ca,
        "closed": year.closed,
        "duration": months,
        "closed_at": _compact(year.end) if year.closed else None,
        "closed_by": None,
        "review_model": {"label": "Modèle Standard Myunisoft", "id_review_model": 1},
        "lettering_method_id": 1,
    }


# -- MAD (beta) alternatives ---------------------------------------------------------------------


def mad_account(dossier: Dossier, account: Account) -> dict[str, Any]:
    body: dict[str, Any] = {
        "producerId": str(account.account_id),
        "number": account.number,
        "name": account.label,
    }
    counterpart = _counterpart(dossier, account)
    if counterpart is not None:
        body["correspondanceAccount"] = {"name": counterpart.label, "number": counterpart.number}
    if account.number.startswith(("40", "41")) and account.third_party:
        info = account.third_party
        body["company"] = {
            "name": info.get("name", account.label),
            "SIREN": info.get("siren"),
            "CEO": None,
            "payment": None,
            "address": {
                "city": info.get("city"),
                "fullName": None,
                "addressNumber": None,
                "addressComplement": None,
                "locatingIndex": None,
                "postalCode": info.get("postal_code"),
                "streetName": None,
                "streetType": None,
                "country": "FRANCE",
            },
            "contacts": [],
            "ape": None,
        }
    return body


def mad_journal(dossier: Dossier, journal: Journal) -> dict[str, Any]:
    _, type_name = DIARY_TYPES.get(journal.type or "", (None, ""))
    bank = dossier.account(journal.account) if journal.account else None
    return {
        "producerId": str(journal.diary_id),
        "name": journal.name,
        "customerReferenceCode": journal.code,
        "type": type_name,
        "counterpartAccount": None
        if journal.account is None
        else {
            "producerId": str(bank.account_id) if bank else None,
            "number": journal.account,
            "name": bank.label if bank else journal.account,
        },
        "additionalProducerProperties": {"type": journal.type or "", "locked": journal.blocked},
    }


def mad_exercice(year: FiscalYear) -> dict[str, Any]:
    months = (year.end.year - year.start.year) * 12 + year.end.month - year.start.month + 1
    return {
        "producerId": str(year.exercice_id),
        "name": year.label,
        "period": {
            "start": year.start.isoformat(),
            "end": year.end.isoformat(),
            "duration": months,
            "closed": {"at": year.end.isoformat(), "by": None} if year.closed else None,
        },
        "state": "closed" if year.closed else "open",
        "additionalProducerProperties": {"lettering": "MONO"},
    }
