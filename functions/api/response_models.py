"""What the API answers (docs/architecture.md §3.4): the declared shape of every response body.

Routes return these models; Powertools checks each answer against its route's model, and the
OpenAPI description (``api.openapi``) is generated from them. An entry's issues and warnings, and a
file's reference counts and last refresh, are shown as the store records them. API keys never
appear in any of them, only their fingerprint. Optional values are always present (``null`` when
unknown), so a client reads a stable shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tra_core.domain.lifecycle import EntryStatus
from tra_core.domain.references import Account, FiscalYear, Journal
from tra_core.domain.verification import Verification
from tra_core.store.entries import EntryIssue, EntryWarning, SubmitOutcome
from tra_core.store.records import ConnectionStatus, ReferenceCounts, ReferenceStatus, RefreshResult

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- errors ----------------------------------------------------------------------------------------


class ErrorDetail(View):
    code: str = Field(description="A stable code, for programs.")
    message: str = Field(description="What went wrong and what to do, for the accountant.")
    details: dict[str, Any] | None = Field(default=None, description="Facts of the refusal (problems...).")
    request_id: str | None = Field(default=None, description="Given with an internal error, to report it.")


class ErrorBody(View):
    """Every refusal and every failure: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


# -- connections -----------------------------------------------------------------------------------


class FileSummary(View):
    file_id: str
    society_id: int
    name: str


class ConnectedView(View):
    """A connected (or reconnected) firm and the client files its key shows."""

    connection_id: str
    status: ConnectionStatus
    files: list[FileSummary]
    warnings: list[str]


class StatusReason(View):
    code: str
    message: str | None


class FileCounts(View):
    total: int
    visible: int
    references: dict[str, int] = Field(description="How many files per reference status.")


class RefreshSummary(View):
    at: Timestamp
    outcomes: dict[str, int]


class ConnectionSettings(View):
    create_missing_subsidiaries: bool = Field(
        description="Whether the bridge creates a third party an entry names and the client file lacks "
        "(else the entry waits for it)."
    )


class ConnectionView(View):
    connection_id: str
    status: ConnectionStatus
    status_reason: StatusReason | None
    schema_id: int
    key_fingerprint: str
    created_at: Timestamp
    updated_at: Timestamp
    entries: dict[str, int] = Field(description="How many entries per status.")
    verification: dict[str, int] = Field(
        description="How many uploaded entries per verification state (pending, verified, not_found, "
        "unavailable): not_found entries need an accountant's look (docs/operations.md)."
    )
    files: FileCounts
    last_refresh: RefreshSummary | None
    last_discovery_at: Timestamp | None
    warnings: list[str]
    settings: ConnectionSettings


class DisconnectedView(View):
    connection_id: str
    status: ConnectionStatus


# -- client files and references -------------------------------------------------------------------


class FileReferencesView(View):
    status: ReferenceStatus
    version: int | None
    refreshed_at: Timestamp | None
    counts: ReferenceCounts | None
    last_refresh: RefreshResult | None


class ClientFileView(View):
    file_id: str
    society_id: int
    name: str
    siret: str | None
    folder_reference: str | None
    visible: bool
    not_visible_since: Timestamp | None
    references: FileReferencesView


class FilesView(View):
    files: list[ClientFileView]


class ReferencesView(View):
    """One version of a client file's references."""

    version: int
    refreshed_at: Timestamp
    accounts: list[Account]
    subsidiaries: list[Account]
    journals: list[Journal]
    fiscal_years: list[FiscalYear]


class RefreshQueuedView(View):
    file_id: str
    status: Literal["queued"]


class UploadSlotView(View):
    """Where and how to PUT one document, and the ``s3_key`` entries name it by."""

    s3_key: str
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_in: int


# -- entries ---------------------------------------------------------------------------------------


class ProblemView(View):
    """One reason an entry cannot be accepted, naming the entry, the line and the field."""

    code: str
    message: str
    entry_id: str | None
    line: int | None
    field: str | None


class AcceptedEntryView(View):
    """What intake did with one posted entry; an ``outdated`` one gives the newer ``stored_version``."""

    entry_id: str
    outcome: SubmitOutcome
    version: int | None = None
    status: EntryStatus | None = None
    warnings: list[EntryWarning] = Field(default_factory=list)
    stored_version: int | None = None


class AcceptedView(View):
    file_id: str
    entries: list[AcceptedEntryView]


class MyUnisoftView(View):
    """The entry as MyUnisoft holds it, read back after the upload (docs/operations.md)."""

    verification: Verification = Field(
        description="pending (not read back yet), verified (found in MyUnisoft), not_found (MyUnisoft "
        "said success but the entry is absent after every check: see docs/operations.md), unavailable "
        "(the key cannot read MyUnisoft's entries)."
    )
    entry_id: str | None = Field(description="MyUnisoft's id of the entry (its producerId) once verified.")
    verified_at: Timestamp | None


class EntrySummaryView(View):
    entry_id: str
    version: int
    kind: str
    status: EntryStatus
    attempts: int
    last_error: EntryIssue | None
    updated_at: Timestamp
    myunisoft: MyUnisoftView | None = Field(
        description="The read-back of an uploaded entry; null before the upload (or when it predates "
        "verified delivery)."
    )


class EntryListView(View):
    file_id: str
    entries: list[EntrySummaryView]
    next: str | None = Field(description="The cursor of the next page, or null on the last one.")


class EntryDetailView(EntrySummaryView):
    file_id: str
    warnings: list[EntryWarning]
    problems: list[EntryIssue]
    batch_id: str | None
    tra_md5: str | None
    request_id: str | None
    uploaded_at: Timestamp | None
    queued_at: Timestamp
    entry: dict[str, Any] = Field(description="The entry as stored (docs/architecture.md §3.1).")


class NewAccountView(View):
    """A third party (subsidiary account) the upload would create in MyUnisoft."""

    number: str
    label: str


class PreviewEntryView(View):
    entry_id: str
    version: int
    valid: bool
    problems: list[ProblemView]
    warnings: list[EntryWarning]
    attachments: list[str] = Field(description="The names the documents get in the archive.")
    would_create: list[NewAccountView] = Field(
        description="Third parties the client file lacks that the upload would create for this entry."
    )


class PreviewView(View):
    """What ``POST .../entries`` would answer for the same body, plus the TRA of the valid entries."""

    valid: bool
    references_version: int | None
    notes: list[str]
    problems: list[ProblemView] = Field(description="The problems POST .../entries would refuse.")
    entries: list[PreviewEntryView]
    would_create: list[NewAccountView] = Field(
        description="Every third party the upload would create in MyUnisoft, once each."
    )
    warnings: list[EntryWarning]
    tra: str | None
    encoding: str | None


class WebhookSecretView(View):
    """A webhook's signing secret: shown only in the answer that creates it."""

    secret: str = Field(description="whsec_ followed by base64: keep it, it is never shown again.")


class RegisteredWebhookView(WebhookSecretView):
    """The endpoint just registered, with its new secret."""

    url: str


class WebhookView(View):
    """The tenant's registered endpoint (never its secret)."""

    url: str
    created_at: datetime
