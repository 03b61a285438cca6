"""The emulator's test-control routes, under ``/_emulator/`` and never under ``/api/``.

What a test (or ``make demo``) does to the emulator that a MyUnisoft user would do in MyUnisoft's
own screens: revoke a key, add a fiscal year or an account to a dossier, hide a dossier from a
key; and what only a test does: inject faults, move the clock, change a setting, read what was
imported. The routes are listed in ``docs/architecture.md`` §3.5 and, with their bodies, in
``docs/myunisoft-assumptions.md`` (E12).

Every handler runs under the app's lock and answers ``(status, JSON body)``; bad bodies answer
400 with ``{"error": {"code", "message"}}``, unknown dossiers or keys 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from emulator import shapes
from emulator.clock import Clock
from emulator.config import EmulatorConfig, as_dict, from_dict
from emulator.faults import Fault
from emulator.fixtures import ALL_ROUTES, Account, Dossier, FiscalYear, Fixtures


class EmulatorApp(Protocol):
    """What the control routes read and change of the emulator (``emulator.app.EmulatorApp``).

    A protocol, so this module never imports the app that routes to it.
    """

    data: Fixtures
    keys: dict[str, Any]
    faults: list[Fault]
    imports: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    maintenance: bool
    disconnected: dict[str, str]
    clock: Clock
    config: EmulatorConfig

    def key_json(self, state: Any) -> dict[str, Any]: ...

    def set_visibility(self, token: str, society_id: int, visible: bool) -> None: ...

    def reset(self) -> None: ...


Answer = tuple[int, Any]
Handler = Callable[[EmulatorApp, dict[str, str], Any], Answer]


class ControlError(Exception):
    """A refused control call: answered as ``status`` with ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def answer(self) -> Answer:
        return self.status, {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class _ControlRoute:
    method: str
    pattern: tuple[str, ...]  # segments after /_emulator/; ":name" captures one segment
    handler: Handler

    def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
        if method != self.method or len(parts) != len(self.pattern):
            return None
        captured: dict[str, str] = {}
        for expected, actual in zip(self.pattern, parts, strict=True):
            if expected.startswith(":"):
                captured[expected[1:]] = actual
            elif expected != actual:
                return None
        return captured


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlError(400, "BAD_REQUEST", "the body must be a JSON object")
    return body


def _dossier(app: EmulatorApp, args: dict[str, str]) -> Dossier:
    raw = args["society_id"]
    dossier = app.data.dossier(int(raw)) if raw.isdigit() else None
    if dossier is None:
        raise ControlError(404, "UNKNOWN_DOSSIER", f"no dossier {raw}")
    return dossier


def _date(body: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(body[name]))
    except (KeyError, ValueError):
        raise ControlError(400, "BAD_REQUEST", f"{name} must be a date (YYYY-MM-DD)") from None


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ControlError(400, "BAD_REQUEST", f"{name} must be true or false")
    return value


# -- keys ----------------------------------------------------------------------------------------


def _key_state(app: EmulatorApp, token: str) -> Any:
    state = app.keys.get(token)
    if state is None:
        raise ControlError(404, "UNKNOWN_KEY", "no such key")
    return state


def _revoke(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    state = _key_state(app, args["token"])
    state.revoked = args["action"] == "revoke"
    return 200, {"token": args["token"], "revoked": state.revoked}


def _key_action(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    if args["action"] in ("revoke", "restore"):
        return _revoke(app, args, body)
    if args["action"] == "routes":
        return _key_routes(app, args, body)
    raise ControlError(404, "ERR-HTTP", "unknown control route")


def _parse_routes(raw: Any) -> list[tuple[str, str]]:
    if raw == "all":
        return list(ALL_ROUTES)
    if not isinstance(raw, list) or not all(isinstance(r, dict) and "path" in r for r in raw):
        raise ControlError(400, "BAD_REQUEST", 'routes must be "all" or a list of {"method", "path"}')
    return [(str(r.get("method", "get")).lower(), str(r["path"])) for r in raw]


def _key_routes(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    """``{"routes": "all" | [...]}`` replaces the key's allow-list; ``{"remove": [...]}`` narrows it."""
    state = _key_state(app, args["token"])
    data = _object(body)
    if "routes" in data:
        state.fixture.routes = _parse_routes(data["routes"])
    removed = set(_parse_routes(data.get("remove", [])))
    state.fixture.routes = [route for route in state.fixture.routes if route not in removed]
    return 200, app.key_json(state)


def _keys(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, [app.key_json(state) for state in app.keys.values()]


# -- dossiers ------------------------------------------------------------------------------------


def _add_fiscal_year(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    """``{"start", "end", "closed", "label"?}``: a new fiscal year, as an accountant opens one."""
    dossier = _dossier(app, args)
    data = _object(body)
    start, end = _date(data, "start"), _date(data, "end")
    if end < start:
        raise ControlError(400, "BAD_REQUEST", "end is before start")
    overlapping = [y for y in dossier.fiscal_years if y.start <= end and start <= y.end]
    if overlapping:
        other = overlapping[0]
        raise ControlError(409, "FISCAL_YEAR_OVERLAP", f"overlaps {other.start}..{other.end}")
    next_id = max((y.exercice_id for y in dossier.fiscal_years), default=dossier.society_id * 10) + 1
    year = FiscalYear(
        exercice_id=next_id,
        start=start,
        end=end,
        label=str(data.get("label") or f"{start.year}"),
        closed=_flag(data, "closed", False),
    )
    dossier.fiscal_years.append(year)
    return 201, shapes.exercice(year)


def _put_account(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    """``{"number", "label", "closed"}``: add the account, or change the label/closed of an existing one."""
    dossier = _dossier(app, args)
    data = _object(body)
    number = str(data.get("number") or "").strip()
    if not number or len(number) > 20:
        raise ControlError(400, "BAD_REQUEST", "number must be 1 to 20 characters")
    account = dossier.account(number)
    status = 200
    if account is None:
        next_id = max((a.account_id for a in dossier.accounts), default=dossier.society_id * 1000) + 1
        account = Account(account_id=next_id, number=number, label=number)
        dossier.accounts.append(account)
        status = 201
    if "label" in data:
        account.label = str(data["label"] or number)
    account.closed = _flag(data, "closed", account.closed)
    account.blocked = _flag(data, "blocked", account.blocked)
    return status, shapes.account_detailed(dossier, account)


def _visibility(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    """``{"token", "visible"}``: hide the dossier from one key (or show it again)."""
    dossier = _dossier(app, args)
    data = _object(body)
    token = str(data.get("token") or "")
    _key_state(app, token)
    visible = _flag(data, "visible", True)
    app.set_visibility(token, dossier.society_id, visible)
    return 200, {"society_id": dossier.society_id, "token": token, "visible": visible}


# -- faults, switches, clock, config, records ---------------------------------------------------------


def _add_faults(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:

    try:
        faults = [Fault.from_json(item) for item in (body if isinstance(body, list) else [body])]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ControlError(400, "BAD_FAULT", str(exc)) from None
    app.faults.extend(faults)
    return 201, {"faults": [fault.as_json() for fault in app.faults]}


def _list_faults(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, {"faults": [fault.as_json() for fault in app.faults]}


def _clear_faults(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    app.faults.clear()
    return _list_faults(app, args, body)


def _reset(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    app.reset()
    return 200, {"status": "reset"}


def _maintenance(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    app.maintenance = bool(_object(body).get("on", True))
    return 200, {"maintenance": app.maintenance}


def _third_party(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    data = _object(body)
    default = app.data.third_parties[0].secret if app.data.third_parties else ""
    secret = str(data.get("secret") or default)
    if data.get("connected", False):
        app.disconnected.pop(secret, None)
    else:
        app.disconnected[secret] = str(data.get("message") or "")
    return 200, {"connected": secret not in app.disconnected}


def _read_clock(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, {"now": app.clock.now()}


def _move_clock(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    mover = getattr(app.clock, "advance", None)
    if mover is None:
        raise ControlError(409, "REAL_CLOCK", "the clock is real")
    mover(float(_object(body).get("advance", 0)))
    return _read_clock(app, args, body)


def _read_config(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, as_dict(app.config)


def _change_config(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    try:
        app.config = from_dict(_object(body), base=app.config)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, "BAD_CONFIG", str(exc)) from None
    return _read_config(app, args, body)


def _imports(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, list(app.imports)


def _requests(app: EmulatorApp, args: dict[str, str], body: Any) -> Answer:
    return 200, list(app.requests)


ROUTES: tuple[_ControlRoute, ...] = (
    _ControlRoute("GET", ("keys",), _keys),
    _ControlRoute("POST", ("keys", ":token", ":action"), _key_action),
    _ControlRoute("POST", ("faults",), _add_faults),
    _ControlRoute("GET", ("faults",), _list_faults),
    _ControlRoute("DELETE", ("faults",), _clear_faults),
    _ControlRoute("GET", ("imports",), _imports),
    _ControlRoute("GET", ("requests",), _requests),
    _ControlRoute("POST", ("reset",), _reset),
    _ControlRoute("POST", ("maintenance",), _maintenance),
    _ControlRoute("POST", ("third-party",), _third_party),
    _ControlRoute("GET", ("clock",), _read_clock),
    _ControlRoute("POST", ("clock",), _move_clock),
    _ControlRoute("GET", ("config",), _read_config),
    _ControlRoute("POST", ("config",), _change_config),
    _ControlRoute("POST", ("dossiers", ":society_id", "fiscal-years"), _add_fiscal_year),
    _ControlRoute("POST", ("dossiers", ":society_id", "accounts"), _put_account),
    _ControlRoute("POST", ("dossiers", ":society_id", "visibility"), _visibility),
)


def handle_control(app: EmulatorApp, method: str, parts: list[str], body: Any) -> Answer:
    """Run the control route for ``method`` and the path ``parts`` (after ``_emulator``)."""
    for route in ROUTES:
        args = route.match(method, parts)
        if args is not None:
            try:
                return route.handler(app, args, body)
            except ControlError as error:
                return error.answer()
    return ControlError(404, "ERR-HTTP", "unknown control route").answer()
