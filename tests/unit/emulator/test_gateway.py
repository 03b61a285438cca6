"""The emulator's gateway: checks in MyUnisoft's order, keys, scoping, limits, errors, control routes."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from emulator.app import EmulatorApp, Fault, create_app
from emulator.clock import ManualClock
from emulator.fixtures import DEMO_SECRET
from emulator.testing import EmulatorTransport
from tests.unit.emulator.support import FIRM, error_code

# -- authentication order --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "ERR-SECRET-HEADER-NOT-SET"),
        ({"Authorization": "Bearer demo-firm-key"}, 401, "ERR-SECRET-HEADER-NOT-SET"),
        ({"X-Third-Party-Secret": "wrong", "Authorization": "junk"}, 401, "ERR-INVALID-SECRET"),
        ({"X-Third-Party-Secret": DEMO_SECRET}, 401, "ERR-INVALID-AUTH-HEADER"),
        (
            {"X-Third-Party-Secret": DEMO_SECRET, "Authorization": "demo-firm-key"},
            401,
            "ERR-INVALID-AUTH-HEADER",
        ),
        (
            {"X-Third-Party-Secret": DEMO_SECRET, "Authorization": "Bearer not a token"},
            401,
            "ERR-INVALID-JWT",
        ),
        (
            {"X-Third-Party-Secret": DEMO_SECRET, "Authorization": "Bearer unknown"},
            401,
            "ERR-API-TOKEN-NOT-FOUND",
        ),
    ],
    ids=["nothing", "no-secret", "bad-secret-first", "no-auth", "no-bearer", "unparseable", "unknown"],
)
def test_secret_then_auth_checks(http: httpx.Client, headers: dict[str, str], status: int, code: str) -> None:
    response = http.get("/api/v1/society", headers=headers)

    assert (response.status_code, error_code(response)) == (status, code)
    assert "x-rate-limit-remaining" not in response.headers  # not authenticated: no budget spent


def test_every_answer_has_a_unique_request_id_matching_the_error_details(http: httpx.Client) -> None:
    first = http.get("/api/v1/society", headers={})
    second = http.get("/api/v1/society", headers={})

    details = first.json()["error"]["details"]
    assert details["requestId"] == first.headers["request-id"] != second.headers["request-id"]
    assert details["url"] == "http://emulator.test/api/v1/society"
    assert details["method"] == "GET"
    assert details["requestedAt"] == "02 Mar 2026, 09:00:00"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"error_details": "empty"}, {"error": {"code": "ERR-SECRET-HEADER-NOT-SET", "details": ""}}),
        ({"error_shape": "unwrapped"}, {"code": "ERR-SECRET-HEADER-NOT-SET", "details": ""}),
    ],
)
def test_optional_error_shapes(clock: ManualClock, config: dict[str, str], expected: dict[str, Any]) -> None:
    app = create_app(clock=clock, config=config)
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        body = http.get("/api/v1/society").json()
    inner = body.get("error", body)
    expected_inner = expected.get("error", expected)
    assert set(body) == set(expected) | ({"message"} if "error" not in expected else set())
    assert inner["code"] == expected_inner["code"] and inner["details"] == ""


def test_revocation_and_restoration_through_control_routes(http: httpx.Client) -> None:
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200

    assert http.post("/_emulator/keys/demo-firm-key/revoke").json() == {
        "token": "demo-firm-key",
        "revoked": True,
    }
    revoked = http.get("/api/v1/society", headers=FIRM)
    assert (revoked.status_code, error_code(revoked)) == (401, "ERR-API-TOKEN-NOT-FOUND")
    other = {**FIRM, "Authorization": "Bearer demo-firm-key-2"}
    assert http.get("/api/v1/society", headers=other).status_code == 200  # only that key

    http.post("/_emulator/keys/demo-firm-key/restore")
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200
    assert http.post("/_emulator/keys/nope/revoke").status_code == 404


def test_third_party_disconnection(http: httpx.Client) -> None:
    http.post("/_emulator/third-party", json={"connected": False, "message": "Contrat résilié"})
    response = http.get("/api/v1/society", headers=FIRM)
    assert (response.status_code, error_code(response)) == (403, "ERR-THIRD-PARTY-DISCONNECTED")
    assert response.json()["error"]["message"] == "Contrat résilié"

    http.post("/_emulator/third-party", json={"connected": True})
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200


# -- keys -------------------------------------------------------------------------------------


def test_activation_only_by_extended_key_info(http: httpx.Client, app: EmulatorApp) -> None:
    http.get("/api/v1/key/info", headers=FIRM)
    http.get("/api/v1/society", headers=FIRM)
    assert app.keys["demo-firm-key"].activated is False

    body = http.get("/api/v1/key/info", params={"mode": "extended"}, headers=FIRM).json()

    assert body["isActivated"] is True and body["canBeActivated"] is True
    assert body["target"] == {"type": "firm", "schemaId": 80, "thirdPartyId": 101, "societyId": None}
    keys = {k["token"]: k for k in http.get("/_emulator/keys").json()}
    assert keys["demo-firm-key"]["activated"] and not keys["demo-firm-key-2"]["activated"]


def test_activation_settings(clock: ManualClock) -> None:
    app = create_app(clock=clock, config={"require_activation": True, "firm_key_society_id": "omit"})
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        refused = http.get("/api/v1/society", headers=FIRM)
        assert (refused.status_code, error_code(refused)) == (403, "ERR-FORBIDDEN-ACCESS")
        target = http.get("/api/v1/key/info?mode=extended", headers=FIRM).json()["target"]
        assert "societyId" not in target
        assert http.get("/api/v1/society", headers=FIRM).status_code == 200

    eager = create_app(clock=clock, config={"activate_on_any_call": True})
    with httpx.Client(transport=EmulatorTransport(eager), base_url="http://e") as http:
        http.get("/api/v1/society", headers=FIRM)
    assert eager.keys["demo-firm-key"].activated


def test_route_allow_list_with_parameters(clock: ManualClock) -> None:
    # Given a key allowed a parameterised route only
    app = create_app(
        {
            "keys": [
                {
                    "token": "param-key",
                    "schema_id": 80,
                    "routes": [
                        {"method": "get", "path": "/api/v1/:anything"},
                        {"method": "GET", "path": "/api/v1/diary"},
                    ],
                }
            ]
        },
        clock=clock,
    )
    headers = {**FIRM, "Authorization": "Bearer param-key", "society-id": "2101"}
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        # Then one-segment paths match the wildcard, deeper ones do not
        assert http.get("/api/v1/society", headers=headers).status_code == 200
        assert http.get("/api/v1/diary", headers=headers).status_code == 200
        refused = http.get("/api/v1/society/exercice", headers=headers)
        assert (refused.status_code, error_code(refused)) == (403, "ERR-FORBIDDEN-ROUTE")
        assert error_code(http.post("/api/v1/TRA/partial", headers=headers)) == "ERR-FORBIDDEN-ROUTE"
        # key/info is always allowed
        assert http.get("/api/v1/key/info", headers=headers).status_code == 200


# -- society scoping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("society_id", "status", "code"),
    [(None, 400, "SOCIETE10"), ("abc", 400, "SOCIETE16"), ("3101", 403, "DROIT1"), ("999999", 403, "DROIT1")],
)
def test_firm_key_dossier_routes_need_a_dossier_of_the_firm(
    http: httpx.Client, society_id: str | None, status: int, code: str
) -> None:
    headers = dict(FIRM) if society_id is None else {**FIRM, "society-id": society_id}
    response = http.get("/api/v1/diary", headers=headers)
    assert (response.status_code, error_code(response)) == (status, code)


def test_inactive_dossier_is_refused_on_dossier_routes(http: httpx.Client) -> None:
    headers = {**FIRM, "Authorization": "Bearer demo-other-firm-key", "society-id": "3102"}
    response = http.get("/api/v1/account", params={"mode": "2"}, headers=headers)
    assert (response.status_code, error_code(response)) == (400, "SOCIETE12")


def test_society_list_filters_sort_siret_and_detail(http: httpx.Client, app: EmulatorApp) -> None:
    listed = http.get("/api/v1/society", headers=FIRM).json()
    assert listed["row_numbers"] == 3 and listed["pages_number"] is None

    assert [
        s["name"]
        for s in http.get("/api/v1/society", params={"q": "garage"}, headers=FIRM).json()["society_array"]
    ] == ["GARAGE DUPONT ET FILS"]
    ordered = http.get(
        "/api/v1/society", params={"sort": '{"column":"city","direction":"desc"}'}, headers=FIRM
    ).json()["society_array"]
    assert [s["city"] for s in ordered] == ["RENNES", "LYON", "BORDEAUX"]

    siret = app.data.dossier(2102).siret  # type: ignore[union-attr]
    for value in (siret, siret[:9]):  # type: ignore[index]
        detail = http.get("/api/v1/society", params={"siret": value}, headers=FIRM).json()
        assert detail["society_id"] == 2102 and "gescom" in detail

    detail = http.get("/api/v1/society", headers={**FIRM, "society-id": "2103"}).json()
    assert detail["society_id"] == 2103 and detail["legal_form"]["code"] == "SCI"


def test_society_key_targets_its_own_dossier(http: httpx.Client) -> None:
    headers = {**FIRM, "Authorization": "Bearer demo-society-key", "society-id": "2102"}
    assert http.get("/api/v1/society", headers=headers).json()["society_id"] == 2101
    accounts = http.get("/api/v1/account", params={"mode": "2", "begin_by": "401000"}, headers=headers).json()
    assert accounts["account_array"][0]["society_id"] == 2101
    refused = http.get("/api/v1/society/search", params={"reference": "BMARTIN"}, headers=headers)
    assert error_code(refused) == "ERR-FORBIDDEN-ROUTE"


def test_society_search_by_reference(clock: ManualClock) -> None:
    app = create_app(
        {
            "dossiers": [
                {"society_id": 2201, "schema_id": 80, "name": "DOUBLON", "folder_reference": "BMARTIN"}
            ]
        },
        clock=clock,
    )
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        found = http.get("/api/v1/society/search", params={"reference": "GDUPONT"}, headers=FIRM).json()
        assert found["society_id"] == 2102 and set(found) == {"name", "siret", "society_id"}
        assert (
            error_code(http.get("/api/v1/society/search", params={"reference": "BMARTIN"}, headers=FIRM))
            == "SOCIETE17"
        )
        assert (
            error_code(http.get("/api/v1/society/search", params={"reference": "NONE"}, headers=FIRM))
            == "SOCIETE16"
        )


# -- reference data -----------------------------------------------------------------------------


def test_account_modes(http: httpx.Client, app: EmulatorApp) -> None:
    headers = {**FIRM, "society-id": "2101"}
    chart = app.data.dossier(2101).accounts  # type: ignore[union-attr]

    assert len(http.get("/api/v1/account", headers=headers).json()) == 5  # mode=1, default limit 5
    assert len(
        http.get("/api/v1/account", params={"mode": "1", "limit": "100"}, headers=headers).json()
    ) == len(chart)
    assert [
        a["account_number"]
        for a in http.get(
            "/api/v1/account", params={"mode": "1", "q": "411", "limit": "100"}, headers=headers
        ).json()
    ] == [
        "411000",
        "411FOOBAR",
        "411DURAND",
        "4110000000",
    ]

    full = http.get("/api/v1/account", params={"mode": "2"}, headers=headers).json()
    assert full["rows_number"] == len(chart) == len(full["account_array"])
    assert full["account_array"][0]["row_number"] == 1
    one = chart[3]
    by_id = http.get(
        "/api/v1/account", params={"mode": "2", "account_id": one.account_id}, headers=headers
    ).json()
    assert [a["account_number"] for a in by_id["account_array"]] == [
        one.number
    ] and "rows_number" not in by_id

    v2 = http.get(
        "/api/v1/account/v2", params={"begin_by": "401", "details": "true", "compta": "true"}, headers=headers
    ).json()
    assert {a["account_number"] for a in v2} == {"401000", "401EDF", "401UBER", "401ORANGE", "4010000000"}
    assert all("complementary_informations" in a and "blocked" in a for a in v2)
    both = http.get("/api/v1/account/v2", params={"begin_by": "4", "account_id": "1"}, headers=headers)
    assert error_code(both) == "GBL10"


def test_diary_filters(http: httpx.Client) -> None:
    headers = {**FIRM, "society-id": "2101"}
    assert [d["code"] for d in http.get("/api/v1/diary", params={"code": "BQ"}, headers=headers).json()] == [
        "BQ"
    ]
    assert [d["code"] for d in http.get("/api/v1/diary", params={"type": "ACH"}, headers=headers).json()] == [
        "ACH",
        "ACA",
    ]
    assert [
        d["code"] for d in http.get("/api/v1/diary", params={"q": "situation"}, headers=headers).json()
    ] == ["SIT"]


def test_generated_dossiers_for_scale(clock: ManualClock) -> None:
    app = create_app(clock=clock, extra_dossiers=300, rate_limit=1000, rate_window_s=1)
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        listed = http.get("/api/v1/society", headers=FIRM).json()
        assert listed["row_numbers"] == 303
        last = listed["society_array"][-1]["society_id"]
        assert http.get("/api/v1/diary", headers={**FIRM, "society-id": str(last)}).status_code == 200
    sirets = [d.siret for d in app.data.dossiers]
    assert len(set(sirets)) == len(sirets)


# -- rate and concurrency limits ---------------------------------------------------------------------


def test_fixed_window_rate_limit_with_headers(http: httpx.Client, clock: ManualClock) -> None:
    start = clock.now()
    answers = [http.get("/api/v1/society", headers=FIRM) for _ in range(21)]

    assert [a.status_code for a in answers[:20]] == [200] * 20
    first, last_ok, refused = answers[0], answers[19], answers[20]
    assert first.headers["X-Rate-Limit-Total"] == "20" and first.headers["X-Rate-Limit-Remaining"] == "19"
    assert last_ok.headers["x-rate-limit-remaining"] == "0"
    assert (refused.status_code, error_code(refused)) == (429, "ERR-TOO-MANY-REQUEST")
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert float(refused.headers["X-Rate-Limit-Reset"]) == pytest.approx(start + 10.0)

    # A second key has its own budget; time passing renews the first one
    assert (
        http.get("/api/v1/society", headers={**FIRM, "Authorization": "Bearer demo-firm-key-2"}).status_code
        == 200
    )
    clock.advance(10.0)
    renewed = http.get("/api/v1/society", headers=FIRM)
    assert renewed.status_code == 200 and renewed.headers["X-Rate-Limit-Remaining"] == "19"


def test_route_costs_and_fast_windows(clock: ManualClock) -> None:
    app = create_app(
        clock=clock, config={"route_costs": {"/api/v1/society": 5}}, rate_limit=10, rate_window_s=1
    )
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        assert [http.get("/api/v1/society", headers=FIRM).status_code for _ in range(3)] == [200, 200, 429]
        clock.advance(1.0)
        assert http.get("/api/v1/society", headers=FIRM).status_code == 200


def test_concurrency_limit_per_route() -> None:
    # Given calls on /diary that stay in flight until released
    gate = threading.Event()

    class GatedClock(ManualClock):
        def sleep(self, seconds: float) -> None:
            gate.wait(5)

    app = create_app(clock=GatedClock(), config={"max_concurrent": 2})
    app.add_fault(Fault(route="/api/v1/diary", delay_s=1.0, count=2))
    headers = {**FIRM, "society-id": "2101"}
    results: list[int] = []

    def call() -> None:
        with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
            results.append(http.get("/api/v1/diary", headers=headers).status_code)

    workers = [threading.Thread(target=call) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
            for _ in range(100):  # wait until both are in flight
                if sum(app.in_flight.values()) == 2:
                    break
                threading.Event().wait(0.01)
            # When a third call on the same route arrives
            third = http.get("/api/v1/diary", headers=headers)
            # Then it is refused, while another route still answers
            other = http.get("/api/v1/society/exercice", headers=headers)
    finally:
        gate.set()
        for worker in workers:
            worker.join()
    assert (third.status_code, error_code(third)) == (429, "ERR-TOO-MANY-CONCURRENT-REQUEST")
    assert other.status_code == 200
    assert results == [200, 200]


def test_maintenance_switch(http: httpx.Client) -> None:
    assert http.post("/_emulator/maintenance", json={"on": True}).json() == {"maintenance": True}
    response = http.get("/api/v1/society", headers=FIRM)
    assert (response.status_code, error_code(response)) == (503, "ERR-API-UNDER-MAINTENANCE")
    assert http.get("/api/partners/health").status_code == 503
    http.post("/_emulator/maintenance", json={"on": False})
    assert http.get("/api/partners/health").json() == {"status": "ok"}


# -- faults and control routes -----------------------------------------------------------------------


def test_faults_status_count_and_customerror_code(http: httpx.Client) -> None:
    created = http.post("/_emulator/faults", json={"route": "/api/v1/society", "status": 500, "count": 2})
    assert created.status_code == 201
    statuses = [http.get("/api/v1/society", headers=FIRM) for _ in range(3)]
    assert [s.status_code for s in statuses] == [500, 500, 200]
    assert error_code(statuses[0]) == "GBL1"

    http.post(
        "/_emulator/faults",
        json={"route": "/api/v1/society", "status": 503, "code": "ERR-API-UNDER-MAINTENANCE"},
    )
    assert error_code(http.get("/api/v1/society", headers=FIRM)) == "ERR-API-UNDER-MAINTENANCE"
    assert http.post("/_emulator/faults", json={"route": "/api/v1/society"}).status_code == 400


def test_delay_fault_uses_the_clock(http: httpx.Client, clock: ManualClock) -> None:
    http.post("/_emulator/faults", json={"route": "/api/v1/society", "delay_s": 30})
    start = clock.now()
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200
    assert clock.now() - start == pytest.approx(30.0)


def test_drop_fault_is_a_transport_error(http: httpx.Client, app: EmulatorApp) -> None:
    http.post("/_emulator/faults", json={"route": "/api/v1/society", "drop": True})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/api/v1/society", headers=FIRM)
    assert app.requests[-1]["code"] == "CONNECTION-DROPPED"
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200


def test_reset_restores_the_fixtures(http: httpx.Client, app: EmulatorApp) -> None:
    http.post("/_emulator/keys/demo-firm-key/revoke")
    http.post("/_emulator/faults", json={"route": "/api/v1/society", "status": 500, "count": 5})
    http.post("/_emulator/config", json={"rate_limit": 1})
    http.get("/api/v1/key/info?mode=extended", headers={**FIRM, "Authorization": "Bearer demo-firm-key-2"})

    assert http.post("/_emulator/reset").json() == {"status": "reset"}

    assert http.get("/_emulator/faults").json() == {"faults": []}
    assert http.get("/_emulator/imports").json() == []
    assert http.get("/_emulator/config").json()["rate_limit"] == 20
    assert not app.keys["demo-firm-key-2"].activated
    assert http.get("/api/v1/society", headers=FIRM).status_code == 200


def test_control_clock_and_config(http: httpx.Client, clock: ManualClock) -> None:
    start = clock.now()
    assert http.post("/_emulator/clock", json={"advance": 12.5}).json() == {"now": start + 12.5}
    assert http.post("/_emulator/config", json={"rate_limit": 3}).json()["rate_limit"] == 3
    assert http.post("/_emulator/config", json={"no_such_setting": 1}).status_code == 400
    assert http.get("/_emulator/nothing").status_code == 404
    assert http.get("/elsewhere").status_code == 404


def test_legacy_firm_login(http: httpx.Client) -> None:
    ok = http.post(
        "/api/authenticate/firm", json={"mail": "demo@cabinet-demo.example", "password": "demo-password"}
    )
    assert ok.json()["api_token"] == "demo-firm-key" and ok.json()["firm"]["id"] == 80
    refused = http.post("/api/authenticate/firm", json={"mail": "demo@cabinet-demo.example", "password": "x"})
    assert (refused.status_code, error_code(refused)) == (401, "DROIT5")
