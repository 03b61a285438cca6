"""Every behaviour MyUnisoft leaves undocumented, as a setting with the default of ``myunisoft-api.md`` §14.

Each field is listed, with its reason, in ``docs/myunisoft-assumptions.md``. Settings come from
``create_app(config=...)``, the ``"config"`` object of a fixture file, ``POST /_emulator/config``
or the command's flags.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class EmulatorConfig:
    # -- rate limiting (§10): a fixed window per token ---------------------------------------
    rate_limit: int = 20
    rate_window_s: float = 10.0
    #: Units counted per call, by path; any other route costs 1.
    route_costs: dict[str, int] = field(default_factory=lambda: {"/api/v1/TRA/partial": 1})
    max_concurrent: int = 10
    #: "route": at most ``max_concurrent`` in flight per token and route; "dossier": per token and dossier.
    concurrency_scope: Literal["route", "dossier"] = "route"
    concurrency_code: str = "ERR-TOO-MANY-CONCURRENT-REQUEST"
    concurrency_status: int = 429

    # -- gateway statuses (§12: undocumented except 429) ---------------------------------------
    secret_status: int = 401
    auth_status: int = 401
    revoked_code: Literal["ERR-API-TOKEN-NOT-FOUND", "ERR-FIRM-TOKEN-NOT-FOUND"] = "ERR-API-TOKEN-NOT-FOUND"
    revoked_status: int = 401
    disconnected_status: int = 403
    forbidden_route_status: int = 403
    maintenance_status: int = 503
    health_status_in_maintenance: int = 503

    # -- key activation (§4.3) ---------------------------------------------------------------
    #: Any authenticated call activates the key (default: only ``key/info?mode=extended``).
    activate_on_any_call: bool = False
    #: Refuse every route but ``key/info`` with ``ERR-FORBIDDEN-ACCESS`` until the key is activated.
    require_activation: bool = False
    #: How a firm key's ``target.societyId`` appears in ``key/info?mode=extended``: ``null`` or absent.
    firm_key_society_id: Literal["null", "omit"] = "null"

    # -- society scoping (§5) ----------------------------------------------------------------
    missing_society_code: str = "SOCIETE10"
    missing_society_status: int = 400
    foreign_society_code: str = "DROIT1"
    foreign_society_status: int = 403
    #: A society (api) key ignores ``society-id`` and always targets its own dossier.
    api_key_ignores_society_id: bool = True
    #: Also read the dossier from ``accounting-folder-id`` (the GED guide's newer header name).
    accept_accounting_folder_id: bool = True

    # -- reference data (§7.3) -----------------------------------------------------------------
    account_mode1_default_limit: int = 5

    # -- TRA/partial (§11) -------------------------------------------------------------------
    #: What to do with a GENERAL account missing from the chart: refuse (COMPTE2) or create it.
    unknown_general_accounts: Literal["reject", "create"] = "reject"
    #: What to do with an AUXILIAIRE missing from the chart: create it (as a TRA import of a new
    #: third party would) or refuse (COMPTE2).
    unknown_auxiliary_accounts: Literal["reject", "create"] = "create"
    #: How an attachment is tied to an entry: "g_line" (TYPE CPTE G, file name at column 84) or
    #: "reference" (a file at the zip root whose name without extension equals REFINTERNE).
    attachment_link: Literal["g_line", "reference"] = "g_line"
    #: Where HascodeVerif looks for an earlier import of the same .tra: the dossier or the schema.
    duplicate_scope: Literal["dossier", "schema"] = "dossier"
    #: "all_or_nothing": one bad entry rejects the file; "partial": the good entries are imported
    #: and the answer is the first bad entry's error (one error per answer, as MyUnisoft).
    commit_mode: Literal["all_or_nothing", "partial"] = "all_or_nothing"
    #: Refuse files with TRA format problems found by ``tra_core.tra.linter`` (as IMPORT18).
    strict_format: bool = True
    #: Linter codes not treated as format errors (balance is checked separately, as IMPORT13).
    lint_ignore: tuple[str, ...] = ("UNBALANCED",)
    #: Where the entries export (MAD) shows a movement's REFINTERNE: "invoiceNumber", "freeNumber"
    #: or "none" (the bridge must match entries without it).
    mad_reference_field: Literal["invoiceNumber", "freeNumber", "none"] = "invoiceNumber"
    #: The user named in an IMPORT25 message.
    import_user: str = "API PARTENAIRE"

    # -- error JSON (§12) ----------------------------------------------------------------------
    #: "full": ``details`` is ``{url, method, requestedAt, requestId}``; "empty": ``details: ""``.
    error_details: Literal["full", "empty"] = "full"
    #: "wrapped": ``{"error": {...}}``; "unwrapped": ``{"code", "message", "details": ""}``.
    error_shape: Literal["wrapped", "unwrapped"] = "wrapped"

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied; unknown names are refused."""
        return from_dict(changes, base=self)


_FIELDS = {f.name: f for f in dataclasses.fields(EmulatorConfig)}


def from_dict(values: dict[str, Any], *, base: EmulatorConfig | None = None) -> EmulatorConfig:
    """Build a config from JSON-like values (lists become tuples); unknown names raise ``ValueError``."""
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown emulator setting(s): {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "lint_ignore":
            value = tuple(value)
        elif name == "route_costs":
            value = {str(k): int(v) for k, v in dict(value).items()}
        changes[name] = value
    return dataclasses.replace(base or EmulatorConfig(), **changes)


def as_dict(config: EmulatorConfig) -> dict[str, Any]:
    """The JSON view served by ``GET /_emulator/config``."""
    data = dataclasses.asdict(config)
    data["lint_ignore"] = list(config.lint_ignore)
    return data
