"""Onboarding through the real API handler, against moto, DynamoDB Local and the MyUnisoft emulator."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.bridge import Bridge
from tests.support.fixtures import NARROW_KEY, EmulatorControl, Stack

pytestmark = pytest.mark.integration

DEMO_FILES = [2101, 2102, 2103]


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    return Bridge(stack, monkeypatch)


def _table_items(stack: Stack) -> list[dict[str, Any]]:
    client = stack.session.client("dynamodb")
    return list(client.scan(TableName=stack.ref("StateTable"))["Items"])


def test_onboarding_the_demo_firm_creates_every_file_with_its_references(
    bridge: Bridge, stack: Stack, emulator: EmulatorControl
) -> None:
    # When the accountant pastes the demo firm key
    created = bridge.connect("demo-firm-key")

    # Then the connection is created with one file per dossier of the firm
    assert created.status == 201, created.body
    assert created.body["status"] == "active"
    assert [f["society_id"] for f in created.body["files"]] == DEMO_FILES
    connection_id = created.body["connection_id"]

    # And once the queued reference fetches ran, every file has its references
    stats = bridge.drain_refresh_queue()
    assert (stats.received, stats.failed) == (3, 0)
    files = bridge.call("GET", f"/connections/{connection_id}/files").body["files"]
    assert [f["references"]["status"] for f in files] == ["ready", "ready", "ready"]
    for file in created.body["files"]:
        references = bridge.call("GET", f"/files/{file['file_id']}/references")
        assert references.status == 200
        body = references.body
        assert body["version"] == 1
        subsidiaries = [a["number"] for a in body["subsidiaries"]]
        general = [a["number"] for a in body["accounts"]]
        # 401000 and every 401…/411… account are subsidiaries, never general accounts
        assert "401000" in subsidiaries
        assert any(n.startswith("411") for n in subsidiaries)
        assert not [n for n in general if n.startswith(("401", "411"))]
        assert {"number", "label", "closed"} == set(body["accounts"][0])
        assert {"code", "name", "type", "blocked"} == set(body["journals"][0])
        assert {"start", "end", "closed"} == set(body["fiscal_years"][0])

    # And the key was activated with key/info?mode=extended
    calls = [(r["method"], r["path"]) for r in emulator.requests() if r["key"] == "demo-firm-key"]
    assert calls[0] == ("GET", "/api/v1/key/info")


def test_the_key_is_kept_encrypted_and_never_shown_or_copied(bridge: Bridge, stack: Stack) -> None:
    # Given a connected firm
    created = bridge.connect("demo-firm-key")
    bridge.drain_refresh_queue()
    connection = bridge.call("GET", f"/connections/{created.body['connection_id']}")

    # Then the connection shows a fingerprint, the key sits in a KMS-encrypted secret, and no item holds it
    assert connection.body["key_fingerprint"].startswith("sha256:")
    assert "demo-firm-key" not in str(connection.body)
    secrets = stack.session.client("secretsmanager")
    prefix = stack.environment("ApiFunction")["KEY_SECRET_PREFIX"]
    secret = secrets.describe_secret(SecretId=f"{prefix}{created.body['connection_id']}")
    assert secret["KmsKeyId"] == stack.ref("KeyEncryptionKey")
    assert "demo-firm-key" not in str(_table_items(stack))


def test_the_same_firm_connected_twice_is_one_connection(bridge: Bridge, stack: Stack) -> None:
    # Given a connected firm
    first = bridge.connect("demo-firm-key")

    # When the same tenant pastes the second key of the same firm
    second = bridge.connect("demo-firm-key-2")

    # Then the existing connection is given back, with the same files, not duplicated
    assert (first.status, second.status) == (201, 200)
    assert second.body["connection_id"] == first.body["connection_id"]
    connections = [i for i in _table_items(stack) if i["SK"]["S"].startswith("CONN#")]
    files = [i for i in _table_items(stack) if i["SK"]["S"].startswith("FILE#")]
    assert (len(connections), len(files)) == (1, 3)


@pytest.mark.parametrize(
    ("key", "prepare", "status", "code", "says"),
    [
        pytest.param("demo-society-key", None, 422, "KEY_NOT_FIRM", "client-file key", id="dossier-key"),
        pytest.param(
            NARROW_KEY, None, 422, "KEY_MISSING_ROUTES", "POST /api/v1/TRA/partial", id="missing-route"
        ),
        pytest.param("demo-firm-key", "revoke", 422, "KEY_REVOKED", "revoked", id="revoked"),
        pytest.param("not a key", None, 422, "KEY_INVALID", "mistyped", id="unreadable"),
        pytest.param(
            "demo-firm-key", "secret", 503, "BRIDGE_NOT_AUTHORISED", "partner credentials", id="secret"
        ),
        pytest.param(
            "demo-firm-key", "maintenance", 503, "MYUNISOFT_MAINTENANCE", "maintenance", id="maintenance"
        ),
        pytest.param(
            "demo-firm-key",
            "disconnect",
            422,
            "THIRD_PARTY_DISCONNECTED",
            "Contrat suspendu",
            id="disconnected",
        ),
    ],
)
def test_every_unusable_key_is_refused_with_a_reason(
    bridge: Bridge,
    stack: Stack,
    emulator: EmulatorControl,
    key: str,
    prepare: str | None,
    status: int,
    code: str,
    says: str,
) -> None:
    # Given a key MyUnisoft refuses, or a MyUnisoft that cannot answer
    if prepare == "revoke":
        emulator.revoke(key)
    elif prepare == "maintenance":
        emulator.maintenance(True)
    elif prepare == "disconnect":
        emulator.disconnect_third_party("Contrat suspendu")
    elif prepare == "secret":
        stack.session.client("secretsmanager").put_secret_value(
            SecretId=stack.ref("ThirdPartySecretName"), SecretString="not-the-right-secret"
        )

    # When the accountant pastes the key
    answer = bridge.connect(key)

    # Then the answer says why, in words an accountant can act on, and nothing is created
    assert (answer.status, answer.error_code) == (status, code), answer.body
    assert says in answer.body["error"]["message"]
    if status == 422:
        assert "Settings > Connectors" in answer.body["error"]["message"]
    else:
        assert "Retry-After" in answer.headers or code == "BRIDGE_NOT_AUTHORISED"
    assert key not in str(answer.body)
    assert not [i for i in _table_items(stack) if i["PK"]["S"].startswith(("TENANT#", "CONN#"))]


def test_a_tenant_never_reaches_another_tenants_connection_or_files(bridge: Bridge) -> None:
    # Given tenant A's connection
    created = bridge.connect("demo-firm-key", tenant="tenant-a")
    bridge.drain_refresh_queue()
    connection_id = created.body["connection_id"]
    file_id = created.body["files"][0]["file_id"]

    # Then tenant B gets 404 on each of its routes, and changes nothing
    for method, path, body in (
        ("GET", f"/connections/{connection_id}", None),
        ("GET", f"/connections/{connection_id}/files", None),
        ("PUT", f"/connections/{connection_id}/key", {"api_key": "demo-firm-key-2"}),
        ("DELETE", f"/connections/{connection_id}", None),
        ("GET", f"/files/{file_id}/references", None),
        ("POST", f"/files/{file_id}/refresh", None),
    ):
        answer = bridge.call(method, path, body, tenant="tenant-b")
        assert (answer.status, answer.error_code) == (404, "NOT_FOUND"), (method, path)
    mine = bridge.call("GET", f"/connections/{connection_id}", tenant="tenant-a")
    assert mine.body["status"] == "active"


def test_disconnecting_destroys_the_stored_key(bridge: Bridge, stack: Stack) -> None:
    # Given a connection
    created = bridge.connect("demo-firm-key")
    connection_id = created.body["connection_id"]
    prefix = stack.environment("ApiFunction")["KEY_SECRET_PREFIX"]

    # When the tenant disconnects
    answer = bridge.call("DELETE", f"/connections/{connection_id}")

    # Then the secret is gone and the connection says disconnected
    assert answer.body == {"connection_id": connection_id, "status": "disconnected"}
    with pytest.raises(ClientError):
        stack.session.client("secretsmanager").get_secret_value(SecretId=f"{prefix}{connection_id}")
    assert bridge.call("GET", f"/connections/{connection_id}").body["status"] == "disconnected"


def test_no_log_line_carries_the_key(
    bridge: Bridge,
    emulator: EmulatorControl,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given every log record of the handlers (Powertools loggers do not propagate) and of tra_core
    from api.app import logger as api_logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(api_logger.registered_formatter)
    service_logger = logging.getLogger(api_logger.name)
    service_logger.addHandler(handler)
    caplog.set_level(
        logging.INFO
    )  # (botocore's DEBUG log prints request bodies; never enable it in production)
    try:
        # When a firm is onboarded, refreshed, its key revoked, the nightly refresh run, and a key put
        created = bridge.connect("demo-firm-key")
        bridge.drain_refresh_queue()
        emulator.revoke("demo-firm-key")
        bridge.run_schedule()
        bridge.drain_refresh_queue()
        bridge.connect("demo-firm-key")  # refused now: a 422 that names no key
        bridge.call(
            "PUT", f"/connections/{created.body['connection_id']}/key", {"api_key": "demo-firm-key-2"}
        )
    finally:
        service_logger.removeHandler(handler)

    # Then no log line nor metric printed a key or the third-party secret
    records = [
        r.getMessage() for r in caplog.records if "/_emulator/" not in r.getMessage()
    ]  # the test's own
    logged = stream.getvalue() + "\n".join(records) + capsys.readouterr().out
    assert "nightly refresh queued" in logged
    for secret in ("demo-firm-key", "demo-third-party-secret"):
        assert secret not in logged
