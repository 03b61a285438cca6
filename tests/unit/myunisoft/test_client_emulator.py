"""MyUnisoftClient against the emulator in-process: every call and every error class."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from emulator.app import EmulatorApp, Fault, create_app
from emulator.clock import ManualClock
from emulator.fixtures import DEMO_SECRET
from emulator.testing import build_tra_archive
from tra_core.myunisoft import (
    NO_RETRY,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    FolderInactive,
    FolderNotFound,
    ForbiddenRoute,
    KeyInvalid,
    KeyRevoked,
    Maintenance,
    MyUnisoftClient,
    MyUnisoftError,
    RateLimited,
    RetryPolicy,
    ThirdPartyDisconnected,
    ThirdPartySecretRejected,
    Transient,
    UnlimitedRateLimiter,
)

TRA = "/api/v1/TRA/partial"
ClientFactory = Callable[..., MyUnisoftClient]


def _last_request_id(emulator: EmulatorApp) -> str:
    return str(emulator.requests[-1]["request_id"])


# -- calls -----------------------------------------------------------------------------------------


def test_plain_key_info_lists_routes_without_activating(
    client: MyUnisoftClient, emulator: EmulatorApp
) -> None:
    # Given a demo firm key that has never been used
    assert emulator.keys["demo-firm-key"].activated is False

    # When the plain key info is read
    info = client.key_info()

    # Then only the routes come back, and the key is still not activated
    assert info.target is None and info.is_activated is None
    assert info.allows("get", "/api/v1/diary")
    assert emulator.keys["demo-firm-key"].activated is False


def test_extended_key_info_activates_the_key(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # When the extended key info is read
    info = client.key_info(extended=True)

    # Then it describes a firm key with every route the bridge needs, now activated
    assert info.is_firm_key
    assert info.target is not None and info.target.schema_id == 80
    assert info.is_activated is True
    assert info.missing_routes() == []
    assert emulator.keys["demo-firm-key"].activated is True


def test_society_key_info_names_its_dossier(make_client: ClientFactory) -> None:
    info = make_client("demo-society-key").key_info(extended=True)

    assert not info.is_firm_key
    assert info.target is not None and info.target.type == "api" and info.target.society_id == 2101


def test_list_societies_returns_the_firms_dossiers_only(make_client: ClientFactory) -> None:
    # When each firm lists its dossiers
    demo = make_client().list_societies()
    other = make_client("demo-other-firm-key").list_societies()

    # Then each sees its own, with SIRET and reference
    assert [s.society_id for s in demo] == [2101, 2102, 2103]
    assert demo[0].name == "BOULANGERIE MARTIN" and demo[0].folder_reference == "BMARTIN"
    assert demo[0].siret is not None and len(demo[0].siret) == 14
    assert {s.society_id for s in other} == {3101, 3102}


def test_society_key_lists_its_own_dossier(make_client: ClientFactory) -> None:
    societies = make_client("demo-society-key").list_societies()

    assert [(s.society_id, s.name) for s in societies] == [(2101, "BOULANGERIE MARTIN")]


def test_get_society_reads_the_detailed_form(client: MyUnisoftClient) -> None:
    society = client.get_society(2102)

    assert society.society_id == 2102
    assert society.name == "GARAGE DUPONT ET FILS"
    assert (society.ape, society.city) == ("4520A", "BORDEAUX")


def test_list_accounts_returns_the_whole_chart(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # When the chart is read
    accounts = client.list_accounts(2101)

    # Then it is complete (not mode=1's five), numbers are exact strings, flags are read
    by_number = {a.account_number: a for a in accounts}
    assert len(accounts) == len(emulator.data.dossier(2101).accounts) > 5  # type: ignore[union-attr]
    assert {"401000", "401EDF", "401UBER", "411FOOBAR", "421MARTIN", "4110000000"} <= set(by_number)
    assert by_number["471000"].closed and not by_number["471000"].blocked
    assert by_number["455000"].blocked
    assert by_number["401EDF"].complementary_informations is not None
    assert by_number["401EDF"].complementary_informations["siren"] == "552081317"
    assert by_number["106100"].counterpart_account is not None
    assert emulator.requests[-1]["path"] == "/api/v1/account"


def test_list_diaries(client: MyUnisoftClient) -> None:
    diaries = {d.code: d for d in client.list_diaries(2101)}

    assert {"ACH", "VTE", "BQ", "OD"} <= set(diaries)
    assert diaries["BQ"].account is not None and diaries["BQ"].account.number == "512000"
    assert diaries["ACA"].blocked
    assert diaries["SIT"].diary_type_id is None and diaries["SIT"].diary_type_code == ""


def test_list_fiscal_years(client: MyUnisoftClient) -> None:
    years = client.list_fiscal_years(2101)

    assert [y.label for y in years] == ["N+1", "N", "N-1"]
    current = next(y for y in years if y.covers(date(2026, 11, 20)))
    assert (current.start_date, current.end_date, current.closed) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        False,
    )
    assert years[2].closed and years[2].closed_at == date(2025, 12, 31)


def test_upload_imports_the_archive(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given the bridge's TRA+PJ archive of one purchase with its invoice
    archive = build_tra_archive([purchase])

    # When it is uploaded
    result = client.upload_tra(2101, archive)

    # Then MyUnisoft imported it, linking the invoice, and the request id is MyUnisoft's
    assert result.status == "imported" and not result.already_imported
    assert result.attempts == 1
    assert result.request_id == _last_request_id(emulator)
    [record] = emulator.imports
    assert record["society_id"] == 2101
    assert record["md5"] == result.tra_md5
    assert record["linked_attachments"] == ["facture-edf.pdf"]
    assert record["hascode_verif"] is True and record["mandatory_docs"] is True


def test_health(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    assert client.health() is True
    emulator.maintenance = True
    assert client.health() is False


# -- credential errors --------------------------------------------------------------------------


def test_revoked_key(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # Given a key that worked, then was revoked
    client.list_societies()
    emulator.revoke("demo-firm-key")

    # When it is used again
    with pytest.raises(KeyRevoked) as caught:
        client.list_societies()

    # Then the error is KEY_REVOKED, with MyUnisoft's code and request id, and is not retried
    error = caught.value
    assert error.code == "KEY_REVOKED"
    assert error.myunisoft_code == "ERR-API-TOKEN-NOT-FOUND"
    assert error.request_id == _last_request_id(emulator)
    assert error.status == 401
    assert len(emulator.requests) == 2


def test_firm_token_not_found_spelling_is_also_revoked(
    clock: ManualClock, make_client: ClientFactory
) -> None:
    app = create_app(clock=clock, config={"revoked_code": "ERR-FIRM-TOKEN-NOT-FOUND"})
    with pytest.raises(KeyRevoked) as caught:
        make_client("unknown-key", app=app).list_societies()
    assert caught.value.myunisoft_code == "ERR-FIRM-TOKEN-NOT-FOUND"


def test_malformed_key_is_invalid(make_client: ClientFactory) -> None:
    with pytest.raises(KeyInvalid) as caught:
        make_client("not a jwt").key_info()
    assert caught.value.myunisoft_code == "ERR-INVALID-JWT"
    assert isinstance(caught.value, KeyRevoked)  # the firm must generate a new key either way


def test_wrong_secret(make_client: ClientFactory) -> None:
    with pytest.raises(ThirdPartySecretRejected) as caught:
        make_client(secret="not-the-partner-secret").key_info()
    assert caught.value.myunisoft_code == "ERR-INVALID-SECRET"


def test_third_party_disconnected(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    emulator.disconnected[DEMO_SECRET] = "Intégration suspendue par MyUnisoft"

    with pytest.raises(ThirdPartyDisconnected) as caught:
        client.list_societies()

    assert caught.value.myunisoft_message == "Intégration suspendue par MyUnisoft"
    assert "Intégration suspendue" in caught.value.message


def test_forbidden_route(clock: ManualClock, make_client: ClientFactory) -> None:
    # Given a key allowed to list dossiers only
    app = create_app(
        {
            "keys": [
                {
                    "token": "narrow-key",
                    "schema_id": 80,
                    "routes": [{"method": "get", "path": "/api/v1/society"}],
                }
            ]
        },
        clock=clock,
    )
    client = make_client("narrow-key", app=app)
    assert client.key_info().missing_routes() != []

    # When it reads a chart of accounts
    with pytest.raises(ForbiddenRoute) as caught:
        client.list_accounts(2101)

    # Then the route is named in the details
    assert caught.value.myunisoft_code == "ERR-FORBIDDEN-ROUTE"
    assert caught.value.details["path"] == "/api/v1/account"


def test_dossier_of_another_firm_is_not_found(client: MyUnisoftClient) -> None:
    with pytest.raises(FolderNotFound) as caught:
        client.list_accounts(3101)
    assert caught.value.myunisoft_code == "DROIT1"
    assert "3101" in caught.value.message


def test_inactive_dossier(make_client: ClientFactory) -> None:
    with pytest.raises(FolderInactive) as caught:
        make_client("demo-other-firm-key").list_diaries(3102)
    assert caught.value.myunisoft_code == "SOCIETE12"
    assert isinstance(caught.value, FolderNotFound)


# -- limits, maintenance, transient failures ------------------------------------------------------


def test_rate_limited_carries_the_absolute_reset(make_client: ClientFactory, clock: ManualClock) -> None:
    # Given a client that does not pace itself and does not retry, and a spent budget
    client = make_client(rate_limiter=UnlimitedRateLimiter(), retry=NO_RETRY)
    start = clock.now()
    for _ in range(20):
        client.list_diaries(2101)

    # When one more call is made
    with pytest.raises(RateLimited) as caught:
        client.list_diaries(2101)

    # Then it is a 429 whose reset is the end of the 10-second window
    assert caught.value.status == 429
    assert caught.value.myunisoft_code == "ERR-TOO-MANY-REQUEST"
    assert caught.value.reset_at == pytest.approx(start + 10.0)
    assert caught.value.retryable


def test_rate_limited_read_waits_for_the_reset_then_succeeds(
    make_client: ClientFactory, clock: ManualClock, emulator: EmulatorApp
) -> None:
    client = make_client(rate_limiter=UnlimitedRateLimiter())
    start = clock.now()
    for _ in range(20):
        client.list_diaries(2101)

    assert client.list_diaries(2101)

    assert [r["status"] for r in emulator.requests[-2:]] == [429, 200]
    assert clock.now() >= start + 10.0


def test_concurrency_limited_both_spellings(
    client: MyUnisoftClient, emulator: EmulatorApp, make_client: ClientFactory
) -> None:
    # Given the emulator answers the concurrency error once, in each spelling
    strict = make_client(retry=NO_RETRY)
    for code in ("ERR-TOO-MANY-CONCURRENT-REQUEST", "ERR-TOO-MANY-CONCURRENT-REQUESTS"):
        emulator.add_fault(Fault(route="/api/v1/diary", status=429, code=code))
        # Then a client without retries reports it
        with pytest.raises(ConcurrencyLimited) as caught:
            strict.list_diaries(2101)
        assert caught.value.myunisoft_code == code

    # And a client with retries gets through
    emulator.add_fault(Fault(route="/api/v1/diary", status=429, code="ERR-TOO-MANY-CONCURRENT-REQUEST"))
    assert client.list_diaries(2101)


def test_maintenance_is_retried_then_reported(
    make_client: ClientFactory, emulator: EmulatorApp, clock: ManualClock
) -> None:
    # Given MyUnisoft under maintenance for good
    emulator.maintenance = True
    client = make_client(retry=RetryPolicy(max_attempts=3, base_delay_s=1.0, jitter=0.0))
    start = clock.now()

    # When a read is attempted
    with pytest.raises(Maintenance) as caught:
        client.list_societies()

    # Then it was tried 3 times with backoff (1 s, 2 s), and the last answer is reported
    assert caught.value.status == 503
    assert caught.value.myunisoft_code == "ERR-API-UNDER-MAINTENANCE"
    assert len(emulator.requests) == 3
    assert clock.now() - start == pytest.approx(3.0)


def test_500_then_success(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # Given the next call of /diary fails with a 500
    emulator.add_fault(Fault(route="/api/v1/diary", status=500))

    # When the journals are read
    diaries = client.list_diaries(2101)

    # Then the read was retried and succeeded
    assert diaries
    assert [r["status"] for r in emulator.requests] == [500, 200]


def test_persistent_500_is_transient_after_bounded_retries(
    make_client: ClientFactory, emulator: EmulatorApp, clock: ManualClock
) -> None:
    emulator.add_fault(Fault(route="/api/v1/society", status=500, count=100))
    client = make_client(retry=RetryPolicy(max_attempts=10, max_total_s=5.0, base_delay_s=1.0, jitter=0.0))
    start = clock.now()

    with pytest.raises(Transient) as caught:
        client.list_societies()

    assert caught.value.status == 500 and caught.value.myunisoft_code == "GBL1"
    assert caught.value.request_id == _last_request_id(emulator)
    assert clock.now() - start <= 5.0
    assert len(emulator.requests) < 10  # the time bound stopped it first


def test_dropped_upload_is_retried_and_reported_already_imported(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given MyUnisoft imports the next upload but the connection drops before the answer
    emulator.add_fault(Fault(route=TRA, drop="after"))
    archive = build_tra_archive([purchase])

    # When the archive is uploaded (HascodeVerif by default)
    result = client.upload_tra(2101, archive)

    # Then the retry met IMPORT25 and the upload is reported as already imported, once in MyUnisoft
    assert result.status == "already_imported" and result.already_imported
    assert result.attempts == 2
    assert result.myunisoft_message is not None and "déjà importé" in result.myunisoft_message
    assert len(emulator.imports) == 1
    assert result.request_id == _last_request_id(emulator)


def test_dropped_upload_without_hascode_is_not_retried(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    emulator.add_fault(Fault(route=TRA, drop="after"))

    with pytest.raises(Transient) as caught:
        client.upload_tra(2101, build_tra_archive([purchase]), hascode_verif=False)

    assert caught.value.outcome_unknown
    assert len(emulator.requests) == 1  # a retry could have imported the file twice


def test_upload_500_then_success(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    emulator.add_fault(Fault(route=TRA, status=500, count=2))

    result = client.upload_tra(2101, build_tra_archive([purchase]))

    assert result.status == "imported" and result.attempts == 3
    assert len(emulator.imports) == 1


def test_import25_after_an_earlier_attempt_is_already_imported(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given an archive the bridge sent before, whose answer it never got
    archive = build_tra_archive([purchase])
    client.upload_tra(2101, archive)

    # When it is sent again, saying so
    result = client.upload_tra(2101, archive, already_attempted=True)

    # Then it is already imported, not a failure
    assert result.already_imported and result.attempts == 1


def test_import25_without_our_attempt_is_an_error(
    make_client: ClientFactory, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given another key of the firm imported the same file
    archive = build_tra_archive([purchase])
    first = make_client("demo-firm-key-2").upload_tra(2101, archive)

    # When the bridge sends it as a first attempt
    with pytest.raises(AlreadyImported) as caught:
        make_client().upload_tra(2101, archive)

    # Then MyUnisoft's refusal is reported, with its code and message verbatim (hash first)
    assert caught.value.code == "ALREADY_IMPORTED"
    assert caught.value.myunisoft_code == "IMPORT25"
    assert str(caught.value.myunisoft_message).startswith(f"({first.tra_md5}) - Fichier déjà importé le ")
    assert len(emulator.imports) == 1


def test_business_rejection_keeps_myunisoft_words(client: MyUnisoftClient, purchase: dict[str, Any]) -> None:
    # Given an entry in a journal the dossier does not have
    entry = copy.deepcopy(purchase)
    entry["journal"] = "ZZZ"

    # When it is uploaded
    with pytest.raises(BusinessRejection) as caught:
        client.upload_tra(2101, build_tra_archive([entry]))

    # Then the rejection carries MyUnisoft's code and message verbatim
    error = caught.value
    assert error.code == "MYUNISOFT_REJECTED"
    assert error.myunisoft_code == "JOURNAL3"
    assert error.myunisoft_message == "Le journal ZZZ n'existe pas"
    assert "Le journal ZZZ n'existe pas" in error.message and "JOURNAL3" in error.message
    assert not error.retryable


# -- secrets ---------------------------------------------------------------------------------------


def test_key_and_secret_never_appear_in_errors_reprs_or_logs(
    make_client: ClientFactory, emulator: EmulatorApp, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an emulator that echoes the key and the secret in an error message
    secret_key = "demo-firm-key"
    emulator.add_fault(
        Fault(
            route="/api/v1/diary", status=400, code="GBL10", message=f"bad token {secret_key} / {DEMO_SECRET}"
        )
    )
    client = make_client(secret_key)
    errors: list[MyUnisoftError] = []

    caplog.set_level(logging.DEBUG)

    # When calls succeed, are retried and fail in several ways
    emulator.add_fault(Fault(route="/api/v1/society", status=500))
    client.list_societies()
    with pytest.raises(BusinessRejection) as rejected:
        client.list_diaries(2101)
    errors.append(rejected.value)
    emulator.revoke(secret_key)
    with pytest.raises(KeyRevoked) as revoked:
        client.list_societies()
    errors.append(revoked.value)

    # Then neither the key nor the secret is in any message, detail or repr
    texts = [repr(client), repr(client.rate_limiter), caplog.text]
    texts += [str(record.__dict__) for record in caplog.records]
    assert any("retrying" in record.getMessage() for record in caplog.records)
    for error in errors:
        texts += [str(error), repr(error), error.message, str(error.details), str(error.myunisoft_message)]
    for text in texts:
        assert secret_key not in text
        assert DEMO_SECRET not in text
    assert "[redacted]" in str(rejected.value.myunisoft_message)
