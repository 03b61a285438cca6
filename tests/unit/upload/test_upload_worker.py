"""The upload worker's use case over in-memory fakes: statuses, attempts, exactly-once and parking."""

from __future__ import annotations

import pytest

from tests.support.upload_world import PDF, SOCIETY, World
from tests.support.uploads import Upload
from tra_core.domain.lifecycle import EntryStatus
from tra_core.myunisoft.errors import (
    BusinessRejection,
    FolderNotFound,
    KeyRevoked,
    RateLimited,
    ThirdPartyDisconnected,
    Transient,
)
from tra_core.store.entries import UploadRequest
from tra_core.store.records import ConnectionStatus
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import read_tra


def test_a_valid_entry_with_a_document_is_uploaded_once_with_its_pdf(world: World) -> None:
    # Given a purchase naming an uploaded PDF
    key = world.document()
    deliveries = world.post(world.entry(attachments=[{"filename": "facture.pdf", "s3_key": key}]))

    # When the worker handles its message
    report = world.run(deliveries)

    # Then one archive was sent with HascodeVerif and mandatory documents, holding the .tra and the PDF
    assert report.failed == []
    assert len(world.myunisoft.calls) == 1
    upload = world.myunisoft.calls[0]
    assert (upload.hascode_verif, upload.mandatory_docs, upload.already_attempted) == (True, True, False)
    assert upload.names == ["ECRITURES.TRA", "facture.pdf"]
    assert lint_tra(upload.tra) == []
    documents = [line.document for line in read_tra(upload.tra).lines if line.is_document]
    assert documents == ["facture.pdf"]
    # And the entry is uploaded with the md5, MyUnisoft's request id, the time and one attempt
    record = world.record()
    assert record.status is EntryStatus.UPLOADED
    assert record.attempts == 1
    assert record.request_id == "req-1"
    assert record.tra_md5 is not None and len(record.tra_md5) == 32
    assert record.uploaded_at is not None


def test_a_redelivered_message_of_an_uploaded_entry_changes_nothing(world: World) -> None:
    # Given an uploaded entry
    deliveries = world.post(world.entry())
    world.run(deliveries)

    # When the same message arrives again (twice in one batch, even)
    report = world.run([deliveries[0], deliveries[0]])

    # Then nothing is sent again and the messages are done
    assert report.failed == []
    assert len(world.myunisoft.calls) == 1
    assert report.counts["already_settled"] == 2


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        pytest.param(
            {
                "lines": [
                    {"account": "401000", "subsidiary": "EDF", "credit": "10"},
                    {"account": "699999", "debit": "10"},
                ]
            },
            ["ACCOUNT_UNKNOWN"],
            id="unknown-account",
        ),
        pytest.param(
            {
                "lines": [
                    {"account": "401000", "subsidiary": "EDF", "credit": "10"},
                    {"account": "627000", "debit": "10"},
                ]
            },
            ["ACCOUNT_CLOSED"],
            id="closed-account",
        ),
        pytest.param(
            {
                "lines": [
                    {"account": "401000", "subsidiary": "NOBODY", "credit": "10"},
                    {"account": "699999", "debit": "10"},
                ]
            },
            ["SUBSIDIARY_UNKNOWN", "ACCOUNT_UNKNOWN"],
            id="unknown-subsidiary-with-an-unknown-account",
        ),
        pytest.param({"journal": "XYZ"}, ["JOURNAL_UNKNOWN"], id="unknown-journal"),
        pytest.param({"journal": "ACA"}, ["JOURNAL_BLOCKED"], id="blocked-journal"),
        pytest.param({"journal": "AN"}, ["JOURNAL_OPENING_BALANCE"], id="opening-balance-journal"),
        pytest.param({"date": "2025-06-30"}, ["FISCAL_YEAR_CLOSED"], id="closed-year"),
        pytest.param(
            {"journal": "XYZ", "date": "2030-01-02"},
            ["JOURNAL_UNKNOWN", "FISCAL_YEAR_MISSING"],
            id="no-year-and-more",
        ),
        pytest.param(
            {"journal": "XYZ", "date": "2025-06-30"}, ["JOURNAL_UNKNOWN", "FISCAL_YEAR_CLOSED"], id="several"
        ),
    ],
)
def test_an_entry_failing_the_references_is_rejected_with_every_reason_and_not_sent(
    world: World, changes: dict[str, object], codes: list[str]
) -> None:
    # Given an entry that breaks the file's references
    deliveries = world.post(world.entry(**changes))

    # When the worker handles it
    report = world.run(deliveries)

    # Then it is rejected with every reason, each with a sentence, and nothing is sent
    record = world.record()
    assert record.status is EntryStatus.REJECTED
    assert [p.code for p in record.problems] == codes
    assert all(p.message for p in record.problems)
    assert record.last_error is not None and record.last_error.code == codes[0]
    assert world.myunisoft.calls == []
    assert world.accounts.calls == []  # an entry rejected anyway leaves no new account behind
    assert report.failed == []


def test_journal_type_posting_rules_are_enforced(world: World) -> None:
    # Given a purchase with a customer account, a sale with a supplier account, a bank entry with no bank line
    purchase = world.entry(
        "p",
        lines=[
            {"account": "411000", "subsidiary": "DURAND", "credit": "10"},
            {"account": "606100", "debit": "10"},
        ],
    )
    sale = world.entry(
        "s",
        kind="sale",
        journal="VTE",
        lines=[
            {"account": "401000", "subsidiary": "EDF", "debit": "10"},
            {"account": "706000", "credit": "10"},
        ],
    )
    bank = world.entry(
        "b",
        kind="bank_transaction",
        journal="BQ",
        lines=[
            {"account": "401000", "subsidiary": "EDF", "debit": "10"},
            {"account": "606100", "credit": "10"},
        ],
    )

    # When the worker handles them
    world.run(world.post(purchase, sale, bank))

    # Then each is rejected for its journal's rule
    assert [p.code for p in world.record("p").problems] == ["JOURNAL_ACCOUNT_FORBIDDEN"]
    assert [p.code for p in world.record("s").problems] == ["JOURNAL_ACCOUNT_FORBIDDEN"]
    assert [p.code for p in world.record("b").problems] == ["BANK_ACCOUNT_MISSING"]
    assert world.myunisoft.calls == []


@pytest.mark.parametrize(
    ("attachment", "code"),
    [
        pytest.param("missing", "ATTACHMENT_MISSING", id="never-uploaded"),
        pytest.param("foreign", "ATTACHMENT_FOREIGN", id="other-file"),
        pytest.param("tampered", "ATTACHMENT_CHECKSUM", id="bytes-differ"),
        pytest.param("exe", "ATTACHMENT_TYPE", id="type"),
        pytest.param("empty", "ATTACHMENT_EMPTY", id="empty"),
        pytest.param("huge", "ATTACHMENT_TOO_LARGE", id="too-large"),
        pytest.param("bad-key", "ATTACHMENT_SOURCE", id="not-a-bridge-key"),
    ],
)
def test_an_unusable_document_rejects_its_entry_before_anything_is_sent(
    world: World, attachment: str, code: str
) -> None:
    # Given an entry whose document cannot be sent
    from dataclasses import replace

    name = "facture.pdf"
    if attachment == "missing":
        key = world.document()
        world.documents.items.pop(key)
    elif attachment == "foreign":
        key = world.document(society_id=SOCIETY + 1)
    elif attachment == "tampered":
        key = world.document()
        world.documents.items[key] = PDF + b"changed"
    elif attachment == "exe":
        name = "virus.exe"
        key = world.document(name=name)
    elif attachment == "empty":
        key = world.document(b"")
    elif attachment == "huge":
        world.policy = replace(world.policy, document_max_bytes=10)
        key = world.document()
    else:
        key = "somewhere/else.pdf"
    deliveries = world.post(world.entry(attachments=[{"filename": name, "s3_key": key}]))

    # When the worker handles it
    world.run(deliveries)

    # Then the entry is rejected naming the document, and nothing is sent
    record = world.record()
    assert record.status is EntryStatus.REJECTED
    assert [(p.code, p.field) for p in record.problems] == [(code, "attachments[1]")]
    assert world.myunisoft.calls == []


def test_two_transient_failures_then_success_give_uploaded_with_three_attempts(world: World) -> None:
    # Given MyUnisoft answers 500 twice, then accepts
    world.myunisoft.script = [
        Transient("MyUnisoft failed (HTTP 500)", status=500, myunisoft_code="GBL1"),
        Transient("MyUnisoft failed (HTTP 500)", status=500, myunisoft_code="GBL1"),
    ]
    deliveries = world.post(world.entry())

    # When the message is delivered, handed back with a backoff, and delivered again
    first = world.run(deliveries)
    during = world.record()
    second = world.run(deliveries)
    third = world.run(deliveries)

    # Then the message came back twice with a growing backoff and the entry is uploaded after 3 attempts
    assert first.failed == [deliveries[0].message_id] and second.failed == [deliveries[0].message_id]
    assert third.failed == []
    assert during.status is EntryStatus.UPLOADING
    assert during.last_error is not None and during.last_error.myunisoft_code == "GBL1"
    record = world.record()
    assert (record.status, record.attempts, record.last_error) == (EntryStatus.UPLOADED, 3, None)
    # And every attempt re-sent the same frozen bytes
    assert len({call.archive for call in world.myunisoft.calls}) == 1
    assert [c.already_attempted for c in world.myunisoft.calls] == [False, True, True]
    assert len(world.myunisoft.imports) == 1


def test_transient_failures_past_the_maximum_fail_the_entry_and_dead_letter_its_message(world: World) -> None:
    # Given MyUnisoft keeps failing
    world.myunisoft.script = [Transient("down", status=503)] * 3
    deliveries = world.post(world.entry())

    # When the message is delivered up to the maximum number of attempts
    reports = [world.run(deliveries) for _ in range(3)]

    # Then the entry is failed, its message is moved to the dead-letter queue and not handed back
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.FAILED, 3)
    assert reports[-1].failed == []
    assert world.queue.dead == [deliveries[0].body]
    assert world.queue.delays == {deliveries[0].receipt_handle: 20.0}  # 10 s, then 20 s


def test_a_replayed_dead_letter_resends_the_same_archive_and_succeeds(world: World) -> None:
    # Given an entry that failed after every attempt
    world.myunisoft.script = [Transient("down", status=503)] * 3
    deliveries = world.post(world.entry())
    for _ in range(3):
        world.run(deliveries)
    frozen = world.myunisoft.calls[0].archive

    # When its dead-lettered message is replayed, MyUnisoft being back
    report = world.run(deliveries)

    # Then the same bytes are sent again and the entry is uploaded (a new round of attempts)
    assert report.failed == []
    assert world.myunisoft.calls[-1].archive == frozen
    assert world.myunisoft.calls[-1].already_attempted is True
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.UPLOADED, 4)


def test_a_429_waits_for_the_reset_without_spending_an_attempt(world: World) -> None:
    # Given MyUnisoft's window for the key is spent for 7 more seconds
    reset_at = world.clock().timestamp() + 7
    world.myunisoft.script = [RateLimited("limit", reset_at=reset_at, status=429)] * 4
    deliveries = world.post(world.entry())

    # When the message is delivered through the storm
    reports = [world.run(deliveries) for _ in range(5)]

    # Then each 429 queued the message again for the reset (no receive spent), and no attempt
    assert all(r.failed == [] and r.counts["postponed"] == 1 for r in reports[:4])
    assert [delay for _, delay in world.queue.postponed] == [pytest.approx(7.0)] * 4
    assert reports[4].failed == []
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.UPLOADED, 1)
    assert [c.already_attempted for c in world.myunisoft.calls] == [False] * 5


def test_a_business_refusal_rejects_the_entry_with_myunisofts_words(world: World) -> None:
    # Given MyUnisoft refuses the file for a reason in the data
    world.myunisoft.script = [
        BusinessRejection(
            "MyUnisoft refused the entries.",
            myunisoft_code="COMPTE2",
            myunisoft_message="Le compte 606100 n'existe pas",
            request_id="req-42",
            status=400,
        )
    ]
    deliveries = world.post(world.entry())

    # When the worker uploads it
    report = world.run(deliveries)

    # Then it is rejected with MyUnisoft's code and message verbatim, and not retried
    record = world.record()
    assert record.status is EntryStatus.REJECTED
    assert record.last_error is not None
    assert (record.last_error.myunisoft_code, record.last_error.myunisoft_message) == (
        "COMPTE2",
        "Le compte 606100 n'existe pas",
    )
    assert record.last_error.request_id == "req-42"
    assert record.attempts == 1
    assert report.failed == []


def test_a_folder_refusal_rejects_every_entry_of_the_archive_without_bisecting(world: World) -> None:
    # Given MyUnisoft no longer gives access to the dossier
    world.myunisoft.script = [FolderNotFound("gone", myunisoft_code="DROIT1", status=403)]

    # When two entries of the file are uploaded together
    world.run(world.post(world.entry("a"), world.entry("b")))

    # Then both are rejected with that reason after one request
    assert {world.record(e).status for e in ("a", "b")} == {EntryStatus.REJECTED}
    assert len(world.myunisoft.calls) == 1


def test_entries_of_one_file_share_one_archive_and_a_refused_archive_is_bisected(world: World) -> None:
    # Given four entries of one file, one of which MyUnisoft refuses
    def refuse_bad(upload: Upload) -> BusinessRejection | None:
        if b"BAD-REF" in upload.tra:
            return BusinessRejection("refused", myunisoft_code="COMPTE32", myunisoft_message="Compte clos")
        return None

    world.myunisoft.script = [refuse_bad] * 10
    raws = [world.entry(f"e-{i}", reference="BAD-REF" if i == 2 else f"REF-{i}") for i in range(4)]

    # When their messages arrive in one batch
    report = world.run(world.post(*raws))

    # Then one archive carried all four, was refused, and halves were tried until the bad one was found
    assert report.failed == []
    assert [len(read_tra(c.tra).lines) for c in world.myunisoft.calls] == [12, 6, 6, 3, 3]
    statuses = {f"e-{i}": world.record(f"e-{i}").status for i in range(4)}
    assert statuses == {
        "e-0": EntryStatus.UPLOADED,
        "e-1": EntryStatus.UPLOADED,
        "e-2": EntryStatus.REJECTED,
        "e-3": EntryStatus.UPLOADED,
    }
    bad = world.record("e-2")
    assert bad.last_error is not None and bad.last_error.myunisoft_code == "COMPTE32"
    assert bad.attempts == 3


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(
            KeyRevoked("revoked", myunisoft_code="ERR-API-TOKEN-NOT-FOUND", status=401), id="revoked"
        ),
        pytest.param(
            ThirdPartyDisconnected("off", myunisoft_code="ERR-THIRD-PARTY-DISCONNECTED", status=403),
            id="third-party-disconnected",
        ),
    ],
)
def test_a_refused_key_parks_the_entries_and_marks_the_connection(world: World, refusal: Exception) -> None:
    # Given MyUnisoft refuses the key
    world.myunisoft.script = [refusal]  # type: ignore[list-item]
    deliveries = world.post(world.entry("a"), world.entry("b"))

    # When the worker uploads the entries
    report = world.run(deliveries)

    # Then they wait for a key (not failed), no attempt is spent, and the connection is revoked
    assert report.failed == []
    for entry_id in ("a", "b"):
        record = world.record(entry_id)
        assert (record.status, record.attempts, record.batch_id) == (EntryStatus.WAITING_FOR_KEY, 0, None)
    connection = world.connections.get("tenant-a", world.connection_id)
    assert connection is not None and connection.status is ConnectionStatus.REVOKED

    # And a later entry is parked without calling MyUnisoft
    world.run(world.post(world.entry("c")))
    assert world.record("c").status is EntryStatus.WAITING_FOR_KEY
    assert len(world.myunisoft.calls) == 1


def test_parked_entries_are_uploaded_once_a_new_key_is_put(world: World) -> None:
    # Given entries parked by a revoked key
    from api.entries import resume_parked

    world.myunisoft.script = [KeyRevoked("revoked", myunisoft_code="ERR-API-TOKEN-NOT-FOUND", status=401)]
    world.run(world.post(world.entry("a"), world.entry("b")))

    # When a new key is put on the connection and the parked entries are re-queued
    connection = world.connections.get("tenant-a", world.connection_id)
    assert connection is not None
    from tra_core.store.records import key_fingerprint

    world.connections.save(
        connection.model_copy(
            update={
                "status": ConnectionStatus.ACTIVE,
                "key_fingerprint": key_fingerprint("firm-key-2"),
                "secret_ref": world.vault.store(world.connection_id, "firm-key-2"),
            }
        )
    )
    resumed = resume_parked(world.connections.get("tenant-a", world.connection_id), world.intake)  # type: ignore[arg-type]
    requests = world.queue.take()
    report = world.run([world.delivery(r) for r in requests])

    # Then both are uploaded in one archive, with the new key
    assert resumed == 2
    assert report.failed == []
    assert {world.record(e).status for e in ("a", "b")} == {EntryStatus.UPLOADED}
    assert world.myunisoft.opened_with[-1] == "firm-key-2"
    assert len(world.myunisoft.imports) == 1


def test_a_worker_killed_after_the_post_is_finished_by_the_redelivery_with_one_import(world: World) -> None:
    # Given a worker that dies right after MyUnisoft imported the archive (before any status write)
    class Killed(BaseException):
        pass

    deliveries = world.post(world.entry())
    original = world.myunisoft.open

    def dying_open(api_key: str):  # type: ignore[no-untyped-def]
        uploader = original(api_key)
        real = uploader.upload_tra

        def upload_tra(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = real(*args, **kwargs)
            if len(world.myunisoft.calls) == 1:
                raise Killed
            return result

        uploader.upload_tra = upload_tra  # type: ignore[method-assign]
        return uploader

    world.myunisoft.open = dying_open  # type: ignore[method-assign]
    with pytest.raises(Killed):
        world.run(deliveries)
    assert world.record().status is EntryStatus.UPLOADING
    assert len(world.myunisoft.imports) == 1

    # When the message is redelivered before the lease expired, then after
    early = world.run(deliveries)
    world.clock.advance(seconds=61)
    late = world.run(deliveries)

    # Then the early delivery waits, and the late one re-sends the frozen archive, which MyUnisoft
    # answers IMPORT25 for: the entry is uploaded, and there is still one import
    assert early.failed == [deliveries[0].message_id]
    assert late.failed == []
    assert world.myunisoft.calls[-1].already_attempted is True
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.UPLOADED, 2)
    assert len(world.myunisoft.imports) == 1


def test_a_delivery_between_the_senders_two_writes_counts_the_post_once(world: World) -> None:
    # Given a sender that recorded MyUnisoft's import on the batch, and is about to settle the entry
    deliveries = world.post(world.entry())
    late: list[object] = []
    real_update = world.entries.update_all

    def update_all(changes, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not late:  # a duplicated delivery runs right between the two writes
            late.append(world.run(deliveries))
        return real_update(changes, *args, **kwargs)

    world.entries.update_all = update_all  # type: ignore[method-assign]

    # When the sender finishes
    world.run(deliveries)

    # Then the duplicate settled the entry from the batch, counting the POST; the sender's own
    # settle found it done: one attempt, one import
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.UPLOADED, 1)
    assert len(world.myunisoft.calls) == 1


def test_a_delivery_while_another_worker_sends_the_batch_waits_for_it(world: World) -> None:
    # Given a second delivery of the same message arriving while the first worker is uploading
    deliveries = world.post(world.entry())
    inner: list[object] = []
    world.myunisoft.script = [lambda upload: inner.append(world.run(deliveries)) or None]

    # When both run
    outer = world.run(deliveries)

    # Then only the first uploaded; the concurrent delivery was handed back, then found it done
    assert len(world.myunisoft.calls) == 1
    assert inner[0].failed == [deliveries[0].message_id]  # type: ignore[attr-defined]
    assert outer.failed == []
    assert world.run(deliveries).failed == []
    assert len(world.myunisoft.calls) == 1


def test_a_newer_version_supersedes_and_the_old_message_is_ignored(world: World) -> None:
    # Given version 1 queued, then version 2 posted before the worker ran
    old = world.post(world.entry())
    new = world.post(world.entry(version=2, label="Corrected label"))

    # When both messages arrive
    report = world.run(old + new)

    # Then only version 2 is uploaded
    assert report.failed == []
    assert len(world.myunisoft.calls) == 1
    assert b"Corrected label" in world.myunisoft.calls[0].tra
    record = world.record()
    assert (record.version, record.status) == (2, EntryStatus.UPLOADED)


def test_references_never_fetched_are_retried_then_fail(world: World) -> None:
    # Given a file whose references were never fetched
    world.files.items[(world.connection_id, SOCIETY)] = world.files.items[
        (world.connection_id, SOCIETY)
    ].model_copy(update={"reference_version": None})
    deliveries = world.post(world.entry())

    # When the message is delivered up to the maximum
    reports = [world.run(deliveries) for _ in range(3)]

    # Then the entry says why, and ends failed in the dead-letter queue
    assert reports[0].failed == [deliveries[0].message_id]
    record = world.record()
    assert (record.status, record.attempts) == (EntryStatus.FAILED, 3)
    assert record.last_error is not None and record.last_error.code == "REFERENCES_NOT_READY"
    assert world.queue.dead == [deliveries[0].body]


def test_an_unreadable_message_goes_to_the_dead_letter_queue(world: World) -> None:
    from upload.use_cases import Delivery

    # When a message that is not an upload request arrives
    report = world.run([Delivery("m-x", "r-x", '{"hello": "world"}', None)])

    # Then it is dead-lettered at once and not handed back
    assert report.failed == []
    assert world.queue.dead == ['{"hello": "world"}']


def test_an_unexpected_error_hands_the_messages_back(world: World) -> None:
    # Given a store that fails
    deliveries = world.post(world.entry())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("DynamoDB is down")

    world.entries.get_many = broken  # type: ignore[method-assign]

    # When the worker runs
    report = world.run(deliveries)

    # Then the message comes back later and nothing was sent
    assert report.failed == [deliveries[0].message_id]
    assert report.counts["errors"] == 1
    assert world.myunisoft.calls == []


def test_a_message_wraps_the_entry_with_its_connection_and_file(world: World) -> None:
    # Given a posted entry
    delivery = world.post(world.entry())[0]

    # Then its message holds the entry itself (docs/architecture.md §3.1), its connection and its file
    request = UploadRequest.model_validate_json(delivery.body)
    assert (request.connection_id, request.society_id, request.tenant) == (
        world.connection_id,
        SOCIETY,
        "tenant-a",
    )
    assert request.entry["entry_id"] == "e-1"
    assert request.entry["lines"][0]["credit"] == "120.00"


def test_no_upload_starts_that_could_outlive_the_invocation(world: World) -> None:
    # Given an invocation with less time left than one upload may take
    from upload.use_cases import process

    deliveries = world.post(world.entry())

    # When the worker runs
    report = process(deliveries, world.ports, time_left=lambda: world.policy.send_reserve_s - 1)

    # Then nothing is sent and the message comes back at once, the entry still queued
    assert world.myunisoft.calls == []
    assert report.failed == [deliveries[0].message_id]
    assert world.record().status is EntryStatus.QUEUED


def test_a_message_naming_another_tenant_changes_nothing(world: World) -> None:
    # Given a message for a stored entry, but naming another tenant
    delivery = world.post(world.entry())[0]
    assert delivery.request is not None
    forged = delivery.request.model_copy(update={"tenant": "tenant-b"})

    # When the worker handles it
    report = world.run([world.delivery(forged)])

    # Then the entry is untouched, nothing is sent, and the message is done
    assert report.failed == []
    assert world.record().status is EntryStatus.QUEUED
    assert world.myunisoft.calls == []


def test_an_entry_superseded_while_its_archive_was_refused_comes_back_to_be_looked_at(world: World) -> None:
    # Given two entries sent together; while MyUnisoft refuses their archive, version 2 of "b" arrives
    deliveries = world.post(world.entry("a"), world.entry("b", reference="BAD-REF"))

    def supersede_then_refuse(upload: Upload) -> BusinessRejection | None:
        if len(world.myunisoft.calls) == 1:
            world.post(world.entry("b", version=2, reference="GOOD-REF"))
        if b"BAD-REF" in upload.tra:
            return BusinessRejection("refused", myunisoft_code="COMPTE32", myunisoft_message="Compte clos")
        return None

    world.myunisoft.script = [supersede_then_refuse] * 5

    # When the worker handles the two messages
    report = world.run(deliveries)

    # Then "a" is uploaded alone, and the message of b's old version comes back soon to be dropped
    assert world.record("a").status is EntryStatus.UPLOADED
    assert report.failed == [deliveries[1].message_id]
    assert world.queue.delays[deliveries[1].receipt_handle] == 1.0
    assert world.run([deliveries[1]]).failed == []
    assert (world.record("b").version, world.record("b").status) == (2, EntryStatus.QUEUED)
