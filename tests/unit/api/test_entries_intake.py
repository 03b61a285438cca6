"""Entry intake, preview, status, retry and documents over in-memory fakes (use cases and routes)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import app as api_app
from api import wiring
from api.attachments import AttachmentRequest, new_attachment
from api.entries import (
    get_entry,
    list_entries,
    preview_entries,
    resume_parked,
    retry_entry,
    submit_entries,
)
from api.errors import ConnectionNotActive, EntryConflict, InvalidRequest, NotFound, RequestTooLarge
from api.request import decode_json_body
from tests.support.events import LambdaContext, api_event
from tests.support.upload_world import TENANT, World
from tra_core.domain.lifecycle import EntryStatus
from tra_core.store.records import ConnectionStatus


@pytest.fixture
def world() -> World:
    return World()


def body(*raws: dict[str, Any]) -> Any:
    """The posted body as the API's edge decodes it (exact numbers)."""
    return decode_json_body(json.dumps(raws[0] if len(raws) == 1 else list(raws)))


def test_posted_entries_are_stored_queued_and_sent_one_message_each(world: World) -> None:
    # When the hub posts two entries
    accepted = submit_entries(TENANT, world.file_id, body(world.entry("a"), world.entry("b")), world.intake)

    # Then both are queued, stored with their body, and one message per entry wraps the entry
    assert [(a.submitted.outcome, a.submitted.record.status) for a in accepted] == [
        ("queued", EntryStatus.QUEUED),
        ("queued", EntryStatus.QUEUED),
    ]
    sent = world.queue.take()
    assert [(r.entry_id, r.version, r.society_id) for r in sent] == [("a", 1, 101), ("b", 1, 101)]
    assert sent[0].entry["lines"][0] == {
        "account": "401000",
        "subsidiary": "EDF",
        "label": None,
        "debit": "0.00",
        "credit": "120.00",
    }


def test_every_schema_problem_is_answered_at_once_and_nothing_is_stored(world: World) -> None:
    # Given two entries, each with problems
    bad = world.entry("a", journal="ACHATS", date="2026-13-01")
    worse = world.entry("b", lines=[{"account": "606100", "debit": "10.001"}])

    # When they are posted
    with pytest.raises(InvalidRequest) as refused:
        submit_entries(TENANT, world.file_id, body(bad, worse), world.intake)

    # Then every problem is listed, naming its entry, line and field, and nothing was stored or sent
    problems = refused.value.details["problems"]
    assert refused.value.code == "INVALID_ENTRIES"
    assert {(p["entry_id"], p["code"]) for p in problems if p["entry_id"] == "a"} == {
        ("a", "JOURNAL_TOO_LONG"),
        ("a", "DATE_INVALID"),
    }
    assert [(p["line"], p["field"]) for p in problems if p["entry_id"] == "b"] == [(1, "debit")]
    assert world.entries.items == {} and world.queue.sent == []


def test_versions_same_is_a_no_op_higher_supersedes_lower_is_refused(world: World) -> None:
    # Given version 2 of an entry, already uploaded
    submit_entries(TENANT, world.file_id, body(world.entry("a", version=2)), world.intake)
    world.run([world.delivery(r) for r in world.queue.take()])

    # When version 2 is posted again
    again = submit_entries(TENANT, world.file_id, body(world.entry("a", version=2)), world.intake)
    # Then nothing changes and nothing is sent
    assert again[0].submitted.outcome == "unchanged"
    assert world.record("a").status is EntryStatus.UPLOADED
    assert world.queue.sent == []

    # When version 1 is posted
    with pytest.raises(EntryConflict) as outdated:
        submit_entries(TENANT, world.file_id, body(world.entry("a", version=1)), world.intake)
    # Then it is refused: an older version never overwrites a newer one
    assert outdated.value.code == "VERSION_OUTDATED"
    assert outdated.value.details["entries"] == [{"entry_id": "a", "stored_version": 2}]
    assert world.record("a").version == 2

    # When version 3 is posted
    newer = submit_entries(
        TENANT, world.file_id, body(world.entry("a", version=3, label="Fixed")), world.intake
    )
    # Then it supersedes version 2 and starts a new lifecycle
    assert newer[0].submitted.outcome == "superseded"
    record = world.record("a")
    assert (record.version, record.status, record.attempts, record.tra_md5) == (
        3,
        EntryStatus.QUEUED,
        0,
        None,
    )
    assert [r.version for r in world.queue.take()] == [3]


def test_a_repeated_post_of_an_entry_still_queued_sends_its_message_again(world: World) -> None:
    # Given an entry stored queued whose message may never have been sent
    submit_entries(TENANT, world.file_id, body(world.entry("a")), world.intake)
    world.queue.take()

    # When the hub posts it again
    accepted = submit_entries(TENANT, world.file_id, body(world.entry("a")), world.intake)

    # Then it is unchanged, and its message is sent again (the worker ignores work already done)
    assert accepted[0].submitted.outcome == "unchanged"
    assert [r.reason for r in world.queue.take()] == ["unsent"]


def test_documents_must_be_named_by_a_bridge_key_of_this_file(world: World) -> None:
    # Given entries naming a local path, and another file's document
    local = world.entry("a", attachments=[{"filename": "f.pdf", "path": "docs/f.pdf"}])
    foreign = world.entry("b", attachments=[{"filename": "f.pdf", "s3_key": world.document(society_id=999)}])

    # When they are posted
    with pytest.raises(InvalidRequest) as refused:
        submit_entries(TENANT, world.file_id, body(local, foreign), world.intake)

    # Then both are refused with the reason
    assert [(p["entry_id"], p["code"]) for p in refused.value.details["problems"]] == [
        ("a", "ATTACHMENT_SOURCE"),
        ("b", "ATTACHMENT_FOREIGN"),
    ]


def test_two_versions_of_one_entry_in_one_request_are_refused(world: World) -> None:
    # When one request holds versions 1 and 2 of an entry
    with pytest.raises(InvalidRequest) as refused:
        submit_entries(
            TENANT, world.file_id, body(world.entry("a"), world.entry("a", version=2)), world.intake
        )

    # Then the hub is told to send only the latest, and nothing is stored
    assert [(p["entry_id"], p["code"]) for p in refused.value.details["problems"]] == [
        ("a", "ENTRY_REPEATED")
    ]
    assert world.entries.items == {}


def test_too_many_entries_in_one_request_are_refused(world: World) -> None:
    with pytest.raises(RequestTooLarge):
        submit_entries(TENANT, world.file_id, body(*[world.entry(f"e{i}") for i in range(501)]), world.intake)


def test_a_disconnected_connection_takes_no_entries_but_a_revoked_one_does(world: World) -> None:
    # Given a revoked connection
    connection = world.connections.get(TENANT, world.connection_id)
    assert connection is not None
    world.connections.save(connection.model_copy(update={"status": ConnectionStatus.REVOKED}))
    # Then entries are still accepted (they will wait for a key)
    assert submit_entries(TENANT, world.file_id, body(world.entry("a")), world.intake)

    # Given a disconnected connection
    world.connections.save(connection.model_copy(update={"status": ConnectionStatus.DISCONNECTED}))
    # Then entries are refused
    with pytest.raises(ConnectionNotActive):
        submit_entries(TENANT, world.file_id, body(world.entry("b")), world.intake)


def test_another_tenants_file_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        submit_entries("tenant-b", world.file_id, body(world.entry("a")), world.intake)
    with pytest.raises(NotFound):
        list_entries("tenant-b", world.file_id, world.intake)


def test_the_preview_renders_checks_and_sends_nothing(world: World) -> None:
    # Given a good entry with a long label and a bad one
    good = world.entry("a", label="An electricity invoice whose label is far longer than thirty-five")
    bad = world.entry("b", journal="XYZ")

    # When the hub previews them
    preview = preview_entries(TENANT, world.file_id, body(good, bad), world.intake)

    # Then the TRA holds the good one, with its warning, and the bad one has its reason; nothing is stored
    assert not preview.valid
    assert preview.references_version == 1
    assert preview.rendered is not None and "F2026-0042" in preview.rendered.text
    assert [w.code for w in preview.entries[0].warnings] == ["LABEL_TRUNCATED"]
    assert [p.code for p in preview.entries[1].problems] == ["JOURNAL_UNKNOWN"]
    assert world.entries.items == {} and world.queue.sent == []


def test_the_preview_says_when_references_are_not_there_yet(world: World) -> None:
    # Given a file whose references were never fetched
    key = (world.connection_id, 101)
    world.files.items[key] = world.files.items[key].model_copy(update={"reference_version": None})

    # When an entry is previewed
    preview = preview_entries(TENANT, world.file_id, body(world.entry("a")), world.intake)

    # Then it is rendered but not declared valid, and the answer says why
    assert preview.rendered is not None
    assert not preview.valid
    assert preview.notes and "not been fetched" in preview.notes[0]


def test_entries_are_listed_by_status_and_read_one_by_one(world: World) -> None:
    # Given an uploaded entry and a rejected one
    submit_entries(
        TENANT, world.file_id, body(world.entry("a"), world.entry("b", journal="XYZ")), world.intake
    )
    world.run([world.delivery(r) for r in world.queue.take()])

    # Then the list filters by status, and the detail holds the reason
    _, rejected, _ = list_entries(TENANT, world.file_id, world.intake, status="rejected")
    assert [r.entry_id for r in rejected] == ["b"]
    _, everything, following = list_entries(TENANT, world.file_id, world.intake, limit=1)
    assert [r.entry_id for r in everything] == ["a"] and following is not None
    assert get_entry(TENANT, world.file_id, "b", world.intake).problems[0].code == "JOURNAL_UNKNOWN"
    with pytest.raises(InvalidRequest):
        list_entries(TENANT, world.file_id, world.intake, status="lost")
    with pytest.raises(NotFound):
        get_entry(TENANT, world.file_id, "zzz", world.intake)


def test_a_rejected_entry_is_retried_after_the_fix_and_an_uploaded_one_is_not(world: World) -> None:
    # Given an entry rejected because a subsidiary was missing from MyUnisoft
    raw = world.entry(
        "a",
        lines=[
            {"account": "401000", "subsidiary": "NEW", "credit": "10"},
            {"account": "606100", "debit": "10"},
        ],
    )
    submit_entries(TENANT, world.file_id, body(raw), world.intake)
    world.run([world.delivery(r) for r in world.queue.take()])
    assert world.record("a").status is EntryStatus.REJECTED

    # When the accountant creates it in MyUnisoft, the references are refreshed, and the entry is retried
    from tests.support.upload_world import REFERENCES
    from tra_core.domain.references import Account

    world.set_references(
        REFERENCES.model_copy(update={"subsidiaries": (*REFERENCES.subsidiaries, Account(number="401NEW"))})
    )
    retried = retry_entry(TENANT, world.file_id, "a", world.intake)
    world.run([world.delivery(r) for r in world.queue.take()])

    # Then it was queued again and is now uploaded
    assert retried.status is EntryStatus.QUEUED
    assert world.record("a").status is EntryStatus.UPLOADED
    # And an uploaded entry cannot be retried
    with pytest.raises(EntryConflict) as conflict:
        retry_entry(TENANT, world.file_id, "a", world.intake)
    assert conflict.value.code == "ENTRY_NOT_RETRYABLE"


def test_resuming_parked_entries_queues_only_those_waiting_for_a_key(world: World) -> None:
    # Given a revoked connection with parked entries
    connection = world.connections.get(TENANT, world.connection_id)
    assert connection is not None
    world.connections.save(connection.model_copy(update={"status": ConnectionStatus.REVOKED}))
    submit_entries(TENANT, world.file_id, body(world.entry("a"), world.entry("b")), world.intake)
    world.run([world.delivery(r) for r in world.queue.take()])
    assert {world.record(e).status for e in ("a", "b")} == {EntryStatus.WAITING_FOR_KEY}

    # When the connection is active again and its parked entries resume
    world.connections.save(connection)
    count = resume_parked(connection, world.intake)

    # Then both are queued with a message each
    assert count == 2
    assert {world.record(e).status for e in ("a", "b")} == {EntryStatus.QUEUED}
    assert {r.reason for r in world.queue.take()} == {"key_replaced"}


def test_an_attachment_slot_names_the_file_and_the_hash(world: World) -> None:
    # When the hub asks where to upload a document
    slot = new_attachment(
        TENANT,
        world.file_id,
        AttachmentRequest(filename="Facture été.pdf", content_type="application/pdf", sha256="AB" * 32),
        world.intake,
    )

    # Then the key holds the file, the hash and a safe name, and the URL is presigned for it
    assert slot.s3_key == f"attachments/{world.connection_id}/101/{'ab' * 32}/Facture_ete.pdf"
    assert slot.upload_url.startswith("https://uploads.example/attachments/")
    with pytest.raises(InvalidRequest) as refused:
        new_attachment(
            TENANT,
            world.file_id,
            AttachmentRequest(filename="macro.exe", sha256="0" * 64),
            world.intake,
        )
    assert refused.value.code == "ATTACHMENT_TYPE"


@pytest.fixture
def call(world: World, monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Any:
    monkeypatch.setattr(wiring, "get_intake_ports", lambda: world.intake)

    def invoke(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = api_app.lambda_handler(api_event(method, path, tenant=TENANT, **kwargs), LambdaContext())
        return response["statusCode"], json.loads(response["body"] or "null")

    return invoke


def test_the_routes_answer_the_contract_statuses(world: World, call: Any) -> None:
    # When entries are posted, listed, read, previewed and retried through the HTTP API
    entries_path = f"/files/{world.file_id}/entries"
    posted = call("POST", entries_path, body=[world.entry("a"), world.entry("b", journal="XYZ")])
    world.run([world.delivery(r) for r in world.queue.take()])
    listed = call("GET", entries_path)
    detail = call("GET", f"{entries_path}/b")
    preview = call("POST", f"{entries_path}/preview", body=world.entry("c"))
    retried = call("POST", f"{entries_path}/b/retry")
    not_retryable = call("POST", f"{entries_path}/a/retry")
    invalid = call("POST", entries_path, raw_body="{not json")
    slot = call("POST", f"/files/{world.file_id}/attachments", body={"filename": "f.pdf", "sha256": "1" * 64})

    # Then each answers its status and shape
    assert posted[0] == 202 and [e["outcome"] for e in posted[1]["entries"]] == ["queued", "queued"]
    assert listed[0] == 200 and [(e["entry_id"], e["status"]) for e in listed[1]["entries"]] == [
        ("a", "uploaded"),
        ("b", "rejected"),
    ]
    assert detail[0] == 200 and detail[1]["problems"][0]["code"] == "JOURNAL_UNKNOWN"
    assert detail[1]["entry"]["journal"] == "XYZ"
    assert (
        preview[0] == 200 and preview[1]["valid"] is True and preview[1]["tra"].startswith("***S5EXPJRLSTD")
    )
    assert retried[0] == 202 and retried[1]["status"] == "queued"
    assert (not_retryable[0], not_retryable[1]["error"]["code"]) == (409, "ENTRY_NOT_RETRYABLE")
    assert (invalid[0], invalid[1]["error"]["code"]) == (400, "INVALID_JSON")
    assert slot[0] == 201 and slot[1]["s3_key"].endswith("/f.pdf") and slot[1]["method"] == "PUT"
