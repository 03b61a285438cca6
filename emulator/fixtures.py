"""The emulator's reference data: third parties, firms (schemas), dossiers, keys.

:func:`demo_fixtures` is the built-in data set of ``docs/architecture.md`` §3.5. A fixture file
(JSON) can extend or replace it::

    {
      "include_demo": true,                      # start from the demo data (default true)
      "third_parties": [{"secret": "...", "third_party_id": 7, "name": "ACME"}],
      "firms": [{"schema_id": 90, "name": "CABINET X"}],
      "dossiers": [{"society_id": 9001, "schema_id": 90, "name": "SARL Y", "siret": "...",
                    "active": true, "accounts": "standard" | [{"number": "401000", "label": "...",
                    "closed": false, "blocked": false}], "journals": "standard" | [{"code": "ACH",
                    "name": "...", "type": "ACH", "blocked": false, "closed": false,
                    "account": "512000"}], "fiscal_years": "standard" | [{"start": "2026-01-01",
                    "end": "2026-12-31", "closed": false, "label": "N"}]}],
      "generate_dossiers": {"schema_id": 80, "count": 300, "first_id": 10000},
      "keys": [{"token": "...", "type": "firm", "schema_id": 90, "routes": "all",
                "activated": false, "third_party_id": 101}],
      "config": {"rate_limit": 100, "rate_window_s": 1}
    }
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

DEMO_SECRET = "demo-third-party-secret"
DEMO_THIRD_PARTY_ID = 101
DEMO_FIRM_SCHEMA = 80
OTHER_FIRM_SCHEMA = 81

#: Every route the emulator serves, as (method, path): the allow-list of an "all routes" key.
ALL_ROUTES: tuple[tuple[str, str], ...] = (
    ("get", "/api/v1/society"),
    ("get", "/api/v1/society/search"),
    ("get", "/api/v1/society/exercice"),
    ("get", "/api/v1/account"),
    ("post", "/api/v1/account"),
    ("get", "/api/v1/account/v2"),
    ("get", "/api/v1/diary"),
    ("post", "/api/v1/TRA/partial"),
    ("get", "/api/v1/mad/accounts"),
    ("get", "/api/v1/mad/journals"),
    ("get", "/api/v1/mad/exercices"),
    ("get", "/api/v1/mad/entries"),
)
FIRM_ONLY_ROUTES = frozenset({("get", "/api/v1/society/search")})

#: Journal types (``myunisoft-api.md`` §8): code → (diary_type_id, label).
DIARY_TYPES: dict[str, tuple[int, str]] = {
    "ACH": (1, "Achat"),
    "VTE": (2, "Vente"),
    "BQ": (3, "Banque"),
    "CAISSE": (4, "Caisse"),
    "OD": (5, "OD"),
    "OD_AUDIT": (6, "OD Audit"),
    "OD_SIMUL": (7, "OD Simulation"),
    "A_EXT": (8, "À extourner"),
    "EXT": (9, "Extourne"),
    "AN": (10, "À Nouveaux"),
    "OD_PAIE": (11, "OD Paie"),
    "OD_LET": (12, "OD Lettrage"),
    "NDF": (13, "Note de frais"),
    "OD_DECL_FISCALE": (14, "OD TVA"),
    "OD_EXC": (15, "OD Extracomptable"),
    "RBAL": (19, "Reprise Balance"),
}


@dataclass
class Account:
    account_id: int
    number: str
    label: str
    closed: bool = False
    blocked: bool = False
    counterpart: str | None = None
    third_party: dict[str, Any] | None = None
    #: Flags of the detailed chart (``intraco``, ``das_2``, ``presta``, ``exoneration``,
    #: ``btp_autoliquidation``): set by ``POST /api/v1/account``, all false by default.
    flags: dict[str, bool] = field(default_factory=dict)


@dataclass
class Journal:
    diary_id: int
    code: str
    name: str
    type: str | None = None
    blocked: bool = False
    closed: bool = False
    account: str | None = None


@dataclass
class FiscalYear:
    exercice_id: int
    start: date
    end: date
    label: str
    closed: bool = False
    result: float = 0
    ca: float = 0


@dataclass
class Dossier:
    society_id: int
    schema_id: int
    name: str
    siret: str | None = None
    folder_reference: str | None = None
    active: bool = True
    ape: str | None = "6920Z"
    ape_label: str = "Activités comptables"
    legal_form: str | None = "SARL"
    address_number: str | None = None
    road_type: str | None = "Rue"
    street_name: str | None = None
    postal_code: str | None = None
    city: str = ""
    formule_code: str = "STAN"
    registration_date: str = "2015-01-01"
    member_id: int = 1
    accounts: list[Account] = field(default_factory=list)
    journals: list[Journal] = field(default_factory=list)
    fiscal_years: list[FiscalYear] = field(default_factory=list)

    def account(self, number: str) -> Account | None:
        for account in self.accounts:
            if account.number == number:
                return account
        return None


@dataclass
class ThirdParty:
    secret: str
    third_party_id: int
    name: str


@dataclass
class KeyFixture:
    token: str
    type: str  # "firm" | "api"
    schema_id: int
    third_party_id: int = DEMO_THIRD_PARTY_ID
    society_id: int | None = None
    routes: list[tuple[str, str]] = field(default_factory=lambda: list(ALL_ROUTES))
    activated: bool = False


@dataclass
class Fixtures:
    third_parties: list[ThirdParty] = field(default_factory=list)
    firms: dict[int, str] = field(default_factory=dict)
    dossiers: list[Dossier] = field(default_factory=list)
    keys: list[KeyFixture] = field(default_factory=list)
    logins: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Fixtures:
        return copy.deepcopy(self)

    def dossier(self, society_id: int) -> Dossier | None:
        for dossier in self.dossiers:
            if dossier.society_id == society_id:
                return dossier
        return None


# -- builders --------------------------------------------------------------------------------


def luhn_siret(seed: int) -> str:
    """A 14-digit SIRET that passes the Luhn check, derived from ``seed`` (deterministic)."""
    body = str(10**12 + (seed * 7_919_113 + 312_456_789_012) % (9 * 10**12))
    for last in range(10):
        candidate = body + str(last)
        total = 0
        for index, char in enumerate(reversed(candidate)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable: one check digit always fits")  # pragma: no cover


# (number, label, closed, blocked, counterpart). Mixed lengths and alphanumeric auxiliaries on purpose.
_STANDARD_CHART: tuple[tuple[str, str, bool, bool, str | None], ...] = (
    ("101000", "CAPITAL", False, False, None),
    ("106100", "RESERVE LEGALE", False, False, "101000"),
    ("120000", "RESULTAT DE L'EXERCICE (BENEFICE)", False, False, None),
    ("164000", "EMPRUNTS AUPRES DES ETS DE CREDIT", False, False, None),
    ("215400", "MATERIEL INDUSTRIEL", False, False, None),
    ("401000", "FOURNISSEURS", False, False, None),
    ("401EDF", "EDF", False, False, None),
    ("401UBER", "UBER", False, False, None),
    ("401ORANGE", "ORANGE", False, False, None),
    ("4010000000", "FOURNISSEURS DIVERS", False, False, None),
    ("404000", "FOURNISSEURS D'IMMOBILISATIONS", False, False, None),
    ("411000", "CLIENTS", False, False, None),
    ("411FOOBAR", "FOOBAR", False, False, None),
    ("411DURAND", "DURAND ET FILS", False, False, None),
    ("4110000000", "CLIENTS DIVERS", False, False, None),
    ("421000", "PERSONNEL - REMUNERATIONS DUES", False, False, None),
    ("421MARTIN", "MARTIN CLAIRE", False, False, None),
    ("431000", "SECURITE SOCIALE", False, False, None),
    ("445660", "TVA DEDUCTIBLE SUR ABS", False, False, None),
    ("445710", "TVA COLLECTEE", False, False, None),
    ("455000", "ASSOCIES - COMPTES COURANTS", False, True, None),
    ("467000", "AUTRES COMPTES DEBITEURS OU CREDITEURS", False, False, None),
    ("471000", "COMPTE D'ATTENTE", True, False, None),
    ("512000", "BANQUE", False, False, None),
    ("530000", "CAISSE", False, False, None),
    ("601000", "ACHATS STOCKES - MATIERES PREMIERES", False, False, None),
    ("606100", "FOURNITURES NON STOCKABLES (EAU, ENERGIE)", False, False, None),
    ("606300", "FOURNITURES D'ENTRETIEN ET PETIT EQUIPEMENT", False, False, None),
    ("606400", "FOURNITURES ADMINISTRATIVES", False, False, None),
    ("613200", "LOCATIONS IMMOBILIERES", False, False, None),
    ("625100", "VOYAGES ET DEPLACEMENTS", False, False, None),
    ("626000", "FRAIS POSTAUX ET DE TELECOMMUNICATIONS", False, False, None),
    ("627000", "SERVICES BANCAIRES ET ASSIMILES", False, False, None),
    ("641000", "REMUNERATIONS DU PERSONNEL", False, False, None),
    ("706000", "PRESTATIONS DE SERVICES", False, False, None),
    ("707000", "VENTES DE MARCHANDISES", False, False, None),
)

_THIRD_PARTY_INFO: dict[str, dict[str, Any]] = {
    "401EDF": {"name": "EDF", "siren": "552081317", "city": "PARIS", "postal_code": "75008"},
    "401UBER": {"name": "UBER FRANCE", "siren": "797550118", "city": "PARIS", "postal_code": "75010"},
    "401ORANGE": {"name": "ORANGE", "siren": "380129866", "city": "ISSY-LES-MOULINEAUX"},
    "411FOOBAR": {"name": "FOOBAR SAS", "siren": "812345675", "city": "LYON", "postal_code": "69002"},
    "411DURAND": {"name": "DURAND ET FILS", "siren": "433221119", "city": "NANTES"},
}

# (code, name, type, blocked, bank account). One blocked journal and one untyped journal.
_STANDARD_JOURNALS: tuple[tuple[str, str, str | None, bool, str | None], ...] = (
    ("ACH", "JOURNAL D'ACHATS", "ACH", False, None),
    ("VTE", "JOURNAL DE VENTES", "VTE", False, None),
    ("BQ", "BANQUE", "BQ", False, "512000"),
    ("CAI", "CAISSE", "CAISSE", False, "530000"),
    ("OD", "OPERATIONS DIVERSES", "OD", False, None),
    ("NDF", "NOTES DE FRAIS", "NDF", False, None),
    ("AN", "A NOUVEAUX", "AN", False, None),
    ("ACA", "ACHATS ANCIENS (BLOQUE)", "ACH", True, None),
    ("SIT", "SITUATIONS", None, False, None),
)


def standard_accounts(society_id: int) -> list[Account]:
    return [
        Account(
            account_id=society_id * 1000 + index,
            number=number,
            label=label,
            closed=closed,
            blocked=blocked,
            counterpart=counterpart,
            third_party=dict(_THIRD_PARTY_INFO[number]) if number in _THIRD_PARTY_INFO else None,
        )
        for index, (number, label, closed, blocked, counterpart) in enumerate(_STANDARD_CHART, start=1)
    ]


def standard_journals(society_id: int) -> list[Journal]:
    return [
        Journal(
            diary_id=society_id * 100 + index, code=code, name=name, type=kind, blocked=blocked, account=bank
        )
        for index, (code, name, kind, blocked, bank) in enumerate(_STANDARD_JOURNALS, start=1)
    ]


def standard_fiscal_years(society_id: int) -> list[FiscalYear]:
    """Calendar years: 2025 closed (N-1), 2026 open (N), 2027 open (N+1); newest first."""
    return [
        FiscalYear(society_id * 10 + 3, date(2027, 1, 1), date(2027, 12, 31), "N+1"),
        FiscalYear(society_id * 10 + 2, date(2026, 1, 1), date(2026, 12, 31), "N", result=0, ca=0),
        FiscalYear(
            society_id * 10 + 1,
            date(2025, 1, 1),
            date(2025, 12, 31),
            "N-1",
            closed=True,
            result=38738.95,
            ca=671925.85,
        ),
    ]


def standard_dossier(society_id: int, schema_id: int, name: str, **extra: Any) -> Dossier:
    dossier = Dossier(society_id=society_id, schema_id=schema_id, name=name, **extra)
    if dossier.siret is None:
        dossier.siret = luhn_siret(society_id)
    dossier.accounts = standard_accounts(society_id)
    dossier.journals = standard_journals(society_id)
    dossier.fiscal_years = standard_fiscal_years(society_id)
    return dossier


def generated_dossiers(schema_id: int, count: int, first_id: int = 10_000) -> list[Dossier]:
    """``count`` dossiers with the standard chart, journals and fiscal years (deterministic)."""
    return [
        standard_dossier(
            first_id + index,
            schema_id,
            f"DOSSIER GENERE {index + 1:04d}",
            folder_reference=f"GEN{index + 1:04d}",
            city="LYON",
            postal_code="69003",
            street_name="DE LA REPUBLIQUE",
            address_number=str(index % 90 + 1),
        )
        for index in range(count)
    ]


#: The demo dossiers: (society_id, schema, name, details). Realistic names, places and activity codes.
_DEMO_DOSSIERS: tuple[tuple[int, int, str, dict[str, Any]], ...] = (
    (
        2101,
        DEMO_FIRM_SCHEMA,
        "BOULANGERIE MARTIN",
        {
            "folder_reference": "BMARTIN",
            "ape": "1071C",
            "ape_label": "Boulangerie et boulangerie-pâtisserie",
            "address_number": "12",
            "street_name": "DES LILAS",
            "postal_code": "69003",
            "city": "LYON",
            "formule_code": "BUSI",
            "registration_date": "2012-05-14",
        },
    ),
    (
        2102,
        DEMO_FIRM_SCHEMA,
        "GARAGE DUPONT ET FILS",
        {
            "folder_reference": "GDUPONT",
            "ape": "4520A",
            "ape_label": "Entretien et réparation de véhicules automobiles légers",
            "address_number": "4",
            "road_type": "Avenue",
            "street_name": "JEAN JAURES",
            "postal_code": "33000",
            "city": "BORDEAUX",
            "registration_date": "2008-09-01",
        },
    ),
    (
        2103,
        DEMO_FIRM_SCHEMA,
        "SCI LES TILLEULS",
        {
            "folder_reference": "TILLEULS",
            "ape": "6820B",
            "ape_label": "Location de terrains et d'autres biens immobiliers",
            "legal_form": "SCI",
            "address_number": "7",
            "road_type": "Place",
            "street_name": "DU MARCHE",
            "postal_code": "35000",
            "city": "RENNES",
            "registration_date": "2019-02-20",
        },
    ),
    (
        3101,
        OTHER_FIRM_SCHEMA,
        "ATELIER BERNARD",
        {
            "folder_reference": "ABERNARD",
            "ape": "3109B",
            "ape_label": "Fabrication d'autres meubles",
            "city": "NANCY",
            "postal_code": "54000",
            "street_name": "STANISLAS",
            "address_number": "2",
            "member_id": 2,
        },
    ),
    (
        3102,
        OTHER_FIRM_SCHEMA,
        "ANCIENNE SOCIETE (INACTIVE)",
        {
            "folder_reference": "INACTIF",
            "active": False,
            "city": "NANCY",
            "postal_code": "54000",
            "member_id": 2,
        },
    ),
)


def demo_fixtures() -> Fixtures:
    """The built-in data of ``docs/architecture.md`` §3.5 (``docs/myunisoft-assumptions.md`` E13)."""
    dossiers = [
        standard_dossier(sid, schema, name, **details) for sid, schema, name, details in _DEMO_DOSSIERS
    ]
    return Fixtures(
        third_parties=[ThirdParty(DEMO_SECRET, DEMO_THIRD_PARTY_ID, "myunisoft-bridge demo")],
        firms={DEMO_FIRM_SCHEMA: "CABINET DEMO EXPERTISE", OTHER_FIRM_SCHEMA: "CABINET AUTRE CONSEIL"},
        dossiers=dossiers,
        keys=[
            KeyFixture("demo-firm-key", "firm", DEMO_FIRM_SCHEMA),
            KeyFixture("demo-firm-key-2", "firm", DEMO_FIRM_SCHEMA),
            KeyFixture("demo-other-firm-key", "firm", OTHER_FIRM_SCHEMA),
            KeyFixture(
                "demo-society-key",
                "api",
                DEMO_FIRM_SCHEMA,
                society_id=2101,
                routes=[route for route in ALL_ROUTES if route not in FIRM_ONLY_ROUTES],
            ),
        ],
        logins=[
            {"mail": "demo@cabinet-demo.example", "password": "demo-password", "token": "demo-firm-key"},
        ],
    )


# -- fixture files -----------------------------------------------------------------------------


def _accounts_from(raw: Any, society_id: int) -> list[Account]:
    if raw in (None, "standard"):
        return standard_accounts(society_id)
    accounts = []
    for index, item in enumerate(raw, start=1):
        accounts.append(
            Account(
                account_id=int(item.get("account_id", society_id * 1000 + index)),
                number=str(item["number"]),
                label=str(item.get("label", "")),
                closed=bool(item.get("closed", False)),
                blocked=bool(item.get("blocked", False)),
                counterpart=item.get("counterpart"),
                third_party=item.get("third_party"),
            )
        )
    return accounts


def _journals_from(raw: Any, society_id: int) -> list[Journal]:
    if raw in (None, "standard"):
        return standard_journals(society_id)
    return [
        Journal(
            diary_id=int(item.get("diary_id", society_id * 100 + index)),
            code=str(item["code"]),
            name=str(item.get("name", item["code"])),
            type=item.get("type"),
            blocked=bool(item.get("blocked", False)),
            closed=bool(item.get("closed", False)),
            account=item.get("account"),
        )
        for index, item in enumerate(raw, start=1)
    ]


def _fiscal_years_from(raw: Any, society_id: int) -> list[FiscalYear]:
    if raw in (None, "standard"):
        return standard_fiscal_years(society_id)
    return [
        FiscalYear(
            exercice_id=int(item.get("exercice_id", society_id * 10 + index)),
            start=date.fromisoformat(item["start"]),
            end=date.fromisoformat(item["end"]),
            label=str(item.get("label", "")),
            closed=bool(item.get("closed", False)),
        )
        for index, item in enumerate(raw, start=1)
    ]


_DOSSIER_FIELDS = {
    "folder_reference",
    "active",
    "ape",
    "ape_label",
    "legal_form",
    "address_number",
    "road_type",
    "street_name",
    "postal_code",
    "city",
    "formule_code",
    "registration_date",
    "member_id",
}


def fixtures_from_dict(data: dict[str, Any]) -> Fixtures:
    """Build fixtures from the JSON form described in the module docstring."""
    fixtures = demo_fixtures() if data.get("include_demo", True) else Fixtures()
    for item in data.get("third_parties", []):
        fixtures.third_parties.append(
            ThirdParty(str(item["secret"]), int(item["third_party_id"]), str(item.get("name", "")))
        )
    for item in data.get("firms", []):
        fixtures.firms[int(item["schema_id"])] = str(item.get("name", f"CABINET {item['schema_id']}"))
    for item in data.get("dossiers", []):
        society_id = int(item["society_id"])
        dossier = Dossier(
            society_id=society_id,
            schema_id=int(item["schema_id"]),
            name=str(item["name"]),
            siret=item.get("siret") or luhn_siret(society_id),
            **{k: v for k, v in item.items() if k in _DOSSIER_FIELDS},
        )
        dossier.accounts = _accounts_from(item.get("accounts"), society_id)
        dossier.journals = _journals_from(item.get("journals"), society_id)
        dossier.fiscal_years = _fiscal_years_from(item.get("fiscal_years"), society_id)
        fixtures.dossiers.append(dossier)
    generate = data.get("generate_dossiers")
    if generate:
        fixtures.dossiers.extend(
            generated_dossiers(
                int(generate.get("schema_id", DEMO_FIRM_SCHEMA)),
                int(generate["count"]),
                int(generate.get("first_id", 10_000)),
            )
        )
    for item in data.get("keys", []):
        routes = item.get("routes", "all")
        fixtures.keys.append(
            KeyFixture(
                token=str(item["token"]),
                type=str(item.get("type", "firm")),
                schema_id=int(item["schema_id"]),
                third_party_id=int(item.get("third_party_id", DEMO_THIRD_PARTY_ID)),
                society_id=item.get("society_id"),
                routes=list(ALL_ROUTES)
                if routes == "all"
                else [(str(r["method"]).lower(), str(r["path"])) for r in routes],
                activated=bool(item.get("activated", False)),
            )
        )
    fixtures.logins.extend(data.get("logins", []))
    fixtures.config = dict(data.get("config", {}))
    return fixtures


def load_fixtures(path: str | Path) -> Fixtures:
    """Read a fixture file (UTF-8 JSON)."""
    return fixtures_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
