"""The answers of the entry and attachment routes (docs/architecture.md §3.4)."""

from __future__ import annotations

import json

from api.attachments import UploadSlot
from api.entries import Accepted, Preview
from api.response_models import (
    AcceptedEntryView,
    AcceptedView,
    EntryDetailView,
    EntryListView,
    EntrySummaryView,
    NewAccountView,
    PreviewEntryView,
    PreviewView,
    ProblemView,
    UploadSlotView,
)
from tra_core.domain.errors import EntryProblem, Notice
from tra_core.domain.triage import NewSubsidiary
from tra_core.store.entries import EntryRecord, EntryWarning


def _warning(warning: EntryWarning | Notice) -> EntryWarning:
    return EntryWarning.of_notice(warning) if isinstance(warning, Notice) else warning


def _problem(problem: EntryProblem) -> ProblemView:
    return ProblemView.model_validate(problem.as_dict())


def attachment(slot: UploadSlot) -> UploadSlotView:
    return UploadSlotView(
        s3_key=slot.s3_key,
        upload_url=slot.upload_url,
        method="PUT",
        headers={"Content-Type": slot.content_type},
        expires_in=slot.expires_in,
    )


def _accepted_entry(result: Accepted) -> AcceptedEntryView:
    record = result.submitted.record
    if result.submitted.outcome == "outdated":
        return AcceptedEntryView(entry_id=record.entry_id, outcome="outdated", stored_version=record.version)
    return AcceptedEntryView(
        entry_id=record.entry_id,
        outcome=result.submitted.outcome,
        version=record.version,
        status=record.status,
        warnings=[_warning(w) for w in result.warnings],
    )


def accepted(file_id: str, results: list[Accepted]) -> AcceptedView:
    return AcceptedView(file_id=file_id, entries=[_accepted_entry(r) for r in results])


def _summary_fields(record: EntryRecord) -> dict[str, object]:
    return {
        "entry_id": record.entry_id,
        "version": record.version,
        "kind": record.kind,
        "status": record.status,
        "attempts": record.attempts,
        "last_error": record.last_error,
        "updated_at": record.updated_at.isoformat(),
        "myunisoft": _myunisoft(record),
    }


def _myunisoft(record: EntryRecord) -> dict[str, object] | None:
    copy = record.myunisoft
    if copy is None:
        return None
    return {
        "verification": copy.verification,
        "entry_id": copy.entry_id,
        "verified_at": None if copy.verified_at is None else copy.verified_at.isoformat(),
    }


def detail(record: EntryRecord) -> EntryDetailView:
    return EntryDetailView.model_validate(
        {
            "file_id": record.file_id,
            **_summary_fields(record),
            "warnings": [_warning(w) for w in record.warnings],
            "problems": list(record.problems),
            "batch_id": record.batch_id,
            "tra_md5": record.tra_md5,
            "request_id": record.request_id,
            "uploaded_at": None if record.uploaded_at is None else record.uploaded_at.isoformat(),
            "queued_at": record.queued_at.isoformat(),
            "entry": json.loads(record.body),
        }
    )


def listing(file_id: str, records: list[EntryRecord], following: str | None) -> EntryListView:
    return EntryListView(
        file_id=file_id,
        entries=[EntrySummaryView.model_validate(_summary_fields(r)) for r in records],
        next=following,
    )


def preview(result: Preview) -> PreviewView:
    rendered = result.rendered
    return PreviewView(
        valid=result.valid,
        references_version=result.references_version,
        notes=list(result.notes),
        problems=[_problem(p) for p in result.problems],
        entries=[
            PreviewEntryView(
                entry_id=e.entry.entry_id,
                version=e.entry.version,
                valid=not e.problems and result.references_version is not None,
                problems=[_problem(p) for p in e.problems],
                warnings=[_warning(w) for w in e.warnings],
                attachments=list(e.attachments),
                would_create=[_new_account(a) for a in e.would_create],
            )
            for e in result.entries
        ],
        would_create=[_new_account(a) for a in result.would_create],
        warnings=[_warning(w) for w in rendered.notices] if rendered else [],
        tra=rendered.text if rendered else None,
        encoding=rendered.encoding if rendered else None,
    )


def _new_account(account: NewSubsidiary) -> NewAccountView:
    return NewAccountView(number=account.number, label=account.label)
