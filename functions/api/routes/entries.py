"""The entry routes: intake, preview, listing, one entry's status, and retry.

Each route's input is validated by its declared types (``api.request_models``) before it runs; it
calls one use case (``api.entries``) and returns its view (``api.entry_views``). Typed errors are
mapped to statuses by the composition root (``api.resolver``); ``responses`` documents them all. The
preview and the intake share their checks, so the preview refuses what the intake refuses.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api import entry_views, wiring
from api.entries import get_entry, list_entries, preview_entries, retry_entry, submit_entries
from api.refusals import BODY, MODEL_BODY, PATH, answer, responses
from api.request import tenant_of
from api.request_models import Cursor, EntriesBody, EntryId, FileId, PageSize, StatusFilter
from api.response_models import AcceptedView, EntryDetailView, EntryListView, PreviewView

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

_ENTRY_CHECKS = {400: ("INVALID_ENTRIES",), 413: ("REQUEST_TOO_LARGE",)}


@router.post(
    "/files/<file_id>/entries",
    summary="Post one entry or a list: checked now, then queued for upload",
    status_code=202,
    responses={
        **answer(202, AcceptedView, "Every entry is accepted (or already stored); one result per entry."),
        **responses(
            PATH, BODY, MODEL_BODY, _ENTRY_CHECKS, {409: ("CONNECTION_NOT_ACTIVE", "VERSION_OUTDATED")}
        ),
    },
)
def post_entries(file_id: FileId, body: EntriesBody) -> AcceptedView:
    results = submit_entries(tenant_of(router.current_event), file_id, body.root, wiring.get_intake_ports())
    return entry_views.accepted(file_id, results)


@router.post(
    "/files/<file_id>/entries/preview",
    summary="A dry run: what POST .../entries would answer, plus the TRA text; nothing is stored",
    responses={
        **answer(200, PreviewView, "The preview."),
        **responses(PATH, BODY, MODEL_BODY, _ENTRY_CHECKS),
    },
)
def preview(file_id: FileId, body: EntriesBody) -> PreviewView:
    result = preview_entries(tenant_of(router.current_event), file_id, body.root, wiring.get_intake_ports())
    return entry_views.preview(result)


@router.get(
    "/files/<file_id>/entries",
    summary="One page of a client file's entries, optionally in one status",
    responses={
        **answer(200, EntryListView, "One page of entries."),
        **responses(PATH, {400: ("INVALID_LIMIT", "INVALID_STATUS", "INVALID_CURSOR")}),
    },
)
def read_entries(
    file_id: FileId, status: StatusFilter = None, limit: PageSize = 100, cursor: Cursor = None
) -> EntryListView:
    _, records, following = list_entries(
        tenant_of(router.current_event),
        file_id,
        wiring.get_intake_ports(),
        status=None if status is None else status.value,
        limit=limit,
        cursor=cursor,
    )
    return entry_views.listing(file_id, records, following)


@router.get(
    "/files/<file_id>/entries/<entry_id>",
    summary="One entry: its status, attempts, warnings and last error",
    responses={**answer(200, EntryDetailView, "The entry."), **responses(PATH)},
)
def read_entry(file_id: FileId, entry_id: EntryId) -> EntryDetailView:
    record = get_entry(tenant_of(router.current_event), file_id, entry_id, wiring.get_intake_ports())
    return entry_views.detail(record)


@router.post(
    "/files/<file_id>/entries/<entry_id>/retry",
    summary="Queue a failed or rejected entry again",
    status_code=202,
    responses={
        **answer(202, EntryDetailView, "The entry is queued again."),
        **responses(PATH, BODY, {409: ("ENTRY_NOT_RETRYABLE",)}),
    },
)
def retry(file_id: FileId, entry_id: EntryId) -> EntryDetailView:
    record = retry_entry(tenant_of(router.current_event), file_id, entry_id, wiring.get_intake_ports())
    return entry_views.detail(record)
