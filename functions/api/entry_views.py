"""The JSON the entry and attachment routes answer (docs/architecture.md §3.4)."""

from __future__ import annotations

import json
from typing import Any

from api.attachments import UploadSlot
from api.entries import Accepted, Preview
from tra_core.domain.errors import Notice
from tra_core.store.entries import EntryIssue, EntryRecord, EntryWarning


def _issue(issue: EntryIssue | None) -> dict[str, Any] | None:
    return None if issue is None else issue.model_dump(mode="json", exclude_none=True)


def _warning(warning: EntryWarning | Notice) -> dict[str, Any]:
    if isinstance(warning, Notice):
        warning = EntryWarning.of_notice(warning)
    return warning.model_dump(mode="json", exclude_none=True)


def attachment(slot: UploadSlot) -> dict[str, Any]:
    return {
        "s3_key": slot.s3_key,
        "upload_url": slot.upload_url,
        "method": "PUT",
        "headers": {"Content-Type": slot.content_type},
        "expires_in": slot.expires_in,
    }


def accepted(file_id: str, results: list[Accepted]) -> dict[str, Any]:
    entries = []
    for result in results:
        record = result.submitted.record
        item: dict[str, Any] = {"entry_id": record.entry_id, "outcome": result.submitted.outcome}
        if result.submitted.outcome == "outdated":
            item["stored_version"] = record.version
        else:
            item.update(
                version=record.version,
                status=record.status.value,
                warnings=[_warning(w) for w in result.warnings],
            )
        entries.append(item)
    return {"file_id": file_id, "entries": entries}


def summary(record: EntryRecord) -> dict[str, Any]:
    return {
        "entry_id": record.entry_id,
        "version": record.version,
        "kind": record.kind,
        "status": record.status.value,
        "attempts": record.attempts,
        "last_error": _issue(record.last_error),
        "updated_at": record.updated_at.isoformat(),
    }


def detail(record: EntryRecord) -> dict[str, Any]:
    return {
        "file_id": record.file_id,
        **summary(record),
        "warnings": [_warning(w) for w in record.warnings],
        "problems": [_issue(p) for p in record.problems],
        "batch_id": record.batch_id,
        "tra_md5": record.tra_md5,
        "request_id": record.request_id,
        "uploaded_at": None if record.uploaded_at is None else record.uploaded_at.isoformat(),
        "queued_at": record.queued_at.isoformat(),
        "entry": json.loads(record.body),
    }


def listing(file_id: str, records: list[EntryRecord], following: str | None) -> dict[str, Any]:
    return {"file_id": file_id, "entries": [summary(r) for r in records], "next": following}


def preview(result: Preview) -> dict[str, Any]:
    rendered = result.rendered
    return {
        "valid": result.valid,
        "references_version": result.references_version,
        "notes": list(result.notes),
        "problems": [p.as_dict() for p in result.problems],
        "entries": [
            {
                "entry_id": e.entry.entry_id,
                "version": e.entry.version,
                "valid": not e.problems and result.references_version is not None,
                "problems": [p.as_dict() for p in e.problems],
                "warnings": [_warning(w) for w in e.warnings],
                "attachments": list(e.attachments),
            }
            for e in result.entries
        ],
        "warnings": [_warning(w) for w in rendered.notices] if rendered else [],
        "tra": rendered.text if rendered else None,
        "encoding": rendered.encoding if rendered else None,
    }
