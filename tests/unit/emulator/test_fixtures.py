"""Fixture files and settings: explicit data, generated dossiers, refused unknown settings."""

from __future__ import annotations

from datetime import date

import pytest

from emulator.app import create_app
from emulator.clock import ManualClock
from emulator.config import EmulatorConfig, as_dict, from_dict
from emulator.fixtures import demo_fixtures, fixtures_from_dict, luhn_siret


def test_demo_fixtures_match_contracts_section_5() -> None:
    fixtures = demo_fixtures()
    keys = {k.token: k for k in fixtures.keys}
    assert {t.secret for t in fixtures.third_parties} == {"demo-third-party-secret"}
    assert (
        keys["demo-firm-key"].schema_id
        == keys["demo-firm-key-2"].schema_id
        != keys["demo-other-firm-key"].schema_id
    )
    assert all(not k.activated for k in keys.values())
    assert (keys["demo-society-key"].type, keys["demo-society-key"].society_id) == ("api", 2101)
    firm = [d for d in fixtures.dossiers if d.schema_id == keys["demo-firm-key"].schema_id]
    assert len(firm) >= 3
    for dossier in firm:
        numbers = {a.number for a in dossier.accounts}
        assert {"401000", "411000", "421000"} <= numbers
        assert any(a.closed for a in dossier.accounts)
        assert {"ACH", "VTE", "BQ", "OD"} <= {j.code for j in dossier.journals}
        assert any(j.blocked for j in dossier.journals)
        assert any(y.closed for y in dossier.fiscal_years)
        assert any(not y.closed and y.start <= date(2026, 6, 1) <= y.end for y in dossier.fiscal_years)


def test_explicit_fixture_file_without_demo() -> None:
    fixtures = fixtures_from_dict(
        {
            "include_demo": False,
            "third_parties": [{"secret": "s-1", "third_party_id": 7}],
            "firms": [{"schema_id": 5, "name": "CABINET CINQ"}],
            "dossiers": [
                {
                    "society_id": 50,
                    "schema_id": 5,
                    "name": "SARL CINQ",
                    "accounts": [{"number": "512100", "label": "BANQUE 2", "blocked": True}],
                    "journals": [{"code": "BQ2", "type": "BQ", "account": "512100"}],
                    "fiscal_years": [{"start": "2026-07-01", "end": "2027-06-30", "label": "N"}],
                }
            ],
            "keys": [
                {"token": "k-1", "schema_id": 5, "routes": [{"method": "GET", "path": "/api/v1/diary"}]}
            ],
            "config": {"rate_limit": 3},
        }
    )
    [dossier] = fixtures.dossiers
    assert [a.number for a in dossier.accounts] == ["512100"] and dossier.accounts[0].blocked
    assert dossier.journals[0].account == "512100" and dossier.journals[0].name == "BQ2"
    assert dossier.fiscal_years[0].start == date(2026, 7, 1)
    assert fixtures.keys[0].routes == [("get", "/api/v1/diary")]
    assert create_app(fixtures, clock=ManualClock()).config.rate_limit == 3


def test_settings() -> None:
    config = from_dict({"lint_ignore": ["UNBALANCED", "ORDER"], "route_costs": {"/api/v1/TRA/partial": "3"}})
    assert config.lint_ignore == ("UNBALANCED", "ORDER")
    assert config.route_costs == {"/api/v1/TRA/partial": 3}
    assert as_dict(config)["lint_ignore"] == ["UNBALANCED", "ORDER"]
    assert EmulatorConfig().replace(rate_limit=5).rate_limit == 5
    with pytest.raises(ValueError, match="unknown emulator setting"):
        from_dict({"rate_limt": 5})
    with pytest.raises(ValueError):
        create_app({"config": {"nope": 1}})


def test_generated_sirets_pass_the_luhn_check() -> None:
    for seed in (1, 2101, 10_299):
        siret = luhn_siret(seed)
        digits = [int(c) for c in reversed(siret)]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        assert len(siret) == 14 and siret[0] != "0" and total % 10 == 0
