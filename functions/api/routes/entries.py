"""The entry routes: intake, preview, listing, one entry's status, and retry.

Each route reads its input, calls one use case (``api.entries``) and returns its view
(``api.entry_views``); typed errors are mapped to statuses by the composition root (``api.app``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api import entry_views, wiring
from api.entries import get_entry, list_entries, preview_entries, retry_entry, submit_entries
from api.errors import InvalidRequest
from api.request import body_of, tenant_of

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.post("/files/<file_id>/entries")
def post_entries(file_id: str) -> tuple[dict[str, Any], int]:
    event = router.current_event
    results = submit_entries(tenant_of(event), file_id, body_of(event), wiring.get_intake_ports())
    return entry_views.accepted(file_id, results), 202


@router.post("/files/<file_id>/entries/preview")
def preview(file_id: str) -> dict[str, Any]:
    event = router.current_event
    result = preview_entries(tenant_of(event), file_id, body_of(event), wiring.get_intake_ports())
    return entry_views.preview(result)


@router.get("/files/<file_id>/entries")
def read_entries(file_id: str) -> dict[str, Any]:
    event = router.current_event
    limit = event.get_query_string_value("limit", "100") or "100"
    if not limit.isdigit():
        raise InvalidRequest("limit must be a whole number.", code="INVALID_LIMIT")
    _, records, following = list_entries(
        tenant_of(event),
        file_id,
        wiring.get_intake_ports(),
        status=event.get_query_string_value("status"),
        limit=int(limit),
        cursor=event.get_query_string_value("cursor"),
    )
    return entry_views.listing(file_id, records, following)


@router.get("/files/<file_id>/entries/<entry_id>")
def read_entry(file_id: str, entry_id: str) -> dict[str, Any]:
    record = get_entry(tenant_of(router.current_event), file_id, entry_id, wiring.get_intake_ports())
    return entry_views.detail(record)


@router.post("/files/<file_id>/entries/<entry_id>/retry")
def retry(file_id: str, entry_id: str) -> tuple[dict[str, Any], int]:
    record = retry_entry(tenant_of(router.current_event), file_id, entry_id, wiring.get_intake_ports())
    return entry_views.detail(record), 202
