"""The API's part in third parties and waiting entries: the connection's setting (PATCH, shown by
GET), the preview saying which accounts an upload would create, and the retry of a waiting entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import app as api_app
from api import wiring
from api.connections import ApiPorts
from api.entries import preview_entries, retry_entry
from api.request import decode_json_body
from tests.support.events import LambdaContext, api_event
from tests.support.upload_world import TENANT, World
from tra_core.domain.lifecycle import EntryStatus


@pytest.fixture
def call(ports: ApiPorts, monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Any:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    monkeypatch.setattr(wiring, "get_ports", lambda: ports)

    def invoke(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = api_app.lambda_handler(api_event(method, path, **kwargs), LambdaContext())
        return response["statusCode"], json.loads(response["body"] or "null")

    return invoke


def test_the_setting_is_on_by_default_changed_by_patch_and_shown_by_get(call: Any) -> None:
    # Given a connection
    _, created = call("POST", "/connections", body={"api_key": "firm-key"})
    path = f"/connections/{created['connection_id']}"
    assert call("GET", path)[1]["settings"] == {"create_missing_subsidiaries": True}

    # When the hub turns creation off
    status, patched = call("PATCH", path, body={"create_missing_subsidiaries": False})

    # Then the answer is the connection with the new setting, and GET shows it
    assert status == 200
    assert patched["connection_id"] == created["connection_id"]
    assert patched["settings"] == {"create_missing_subsidiaries": False}
    assert call("GET", path)[1]["settings"] == {"create_missing_subsidiaries": False}
    # And reconnecting the same firm keeps it
    call("POST", "/connections", body={"api_key": "firm-key"})
    assert call("GET", path)[1]["settings"] == {"create_missing_subsidiaries": False}


@pytest.mark.parametrize(
    "patch",
    [{}, {"create_missing_subsidiaries": "no"}, {"create_missing_subsidiaries": 0}, {"other": True}],
    ids=["empty", "text", "number", "unknown-field"],
)
def test_a_bad_settings_body_is_a_400_and_changes_nothing(call: Any, patch: dict[str, Any]) -> None:
    _, created = call("POST", "/connections", body={"api_key": "firm-key"})
    path = f"/connections/{created['connection_id']}"

    status, answer = call("PATCH", path, body=patch)

    assert status == 400 and answer["error"]["code"]
    assert call("GET", path)[1]["settings"] == {"create_missing_subsidiaries": True}


def test_the_settings_of_an_unknown_connection_are_not_found(call: Any) -> None:
    status, answer = call("PATCH", "/connections/cnope", body={"create_missing_subsidiaries": False})
    assert (status, answer["error"]["code"]) == (404, "NOT_FOUND")


NEWCO = [
    {"account": "401000", "subsidiary": "NEWCO", "credit": "10", "third_party": {"name": "NewCo SAS"}},
    {"account": "606100", "debit": "10"},
]


def _body(*raws: dict[str, Any]) -> Any:
    return decode_json_body(json.dumps(list(raws)))


def test_the_preview_says_which_accounts_the_upload_would_create() -> None:
    # Given two entries naming the same new supplier, and one a new customer without details
    world = World()
    sale = world.entry(
        "c",
        kind="sale",
        journal="VTE",
        lines=[
            {"account": "411000", "subsidiary": "ACME", "debit": "10"},
            {"account": "706000", "credit": "10"},
        ],
    )
    raws = (world.entry("a", lines=NEWCO), world.entry("b", lines=NEWCO, reference="F-B"), sale)

    # When the hub previews them
    preview = preview_entries(TENANT, world.file_id, _body(*raws), world.intake)

    # Then they are valid, each names what it would create, and the list has each account once
    assert preview.valid
    assert [[a.number for a in e.would_create] for e in preview.entries] == [
        ["401NEWCO"],
        ["401NEWCO"],
        ["411ACME"],
    ]
    assert [(a.number, a.label) for a in preview.would_create] == [
        ("401NEWCO", "NewCo SAS"),
        ("411ACME", "411ACME"),
    ]
    assert world.accounts.calls == []

    # And with creation off, the same entries have their problem and nothing would be created
    world.connections.set_settings(
        TENANT, world.connection_id, create_missing_subsidiaries=False, now=world.clock()
    )
    preview = preview_entries(TENANT, world.file_id, _body(*raws), world.intake)
    assert not preview.valid and preview.would_create == ()
    assert [p.code for p in preview.entries[0].problems] == ["SUBSIDIARY_UNKNOWN"]


def test_a_waiting_entry_can_be_retried_at_once() -> None:
    # Given an entry waiting for its fiscal year
    world = World()
    world.run(world.post(world.entry("jan", date="2027-01-05")))
    assert world.record("jan").status is EntryStatus.WAITING_FOR_REFERENCES

    # When the hub retries it
    retried = retry_entry(TENANT, world.file_id, "jan", world.intake)

    # Then it is queued again, its old problems cleared, with one message
    assert (retried.status, retried.problems) == (EntryStatus.QUEUED, ())
    assert [(m.entry_id, m.reason) for m in world.queue.take()] == [("jan", "retry")]
