"""The entry and attachment routes (CONTRACTS §6), registered on the API's resolver by ``app.py``.

Each route parses its input, calls one use case (``api.entries``, ``api.attachments``) and returns
its view; typed errors are mapped to statuses by the API's one error handler.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from api import entry_views
from api.attachments import AttachmentRequest, new_attachment
from api.entries import get_entry, list_entries, preview_entries, retry_entry, submit_entries
from api.errors import InvalidRequest
from api.intake_wiring import get_intake_ports

router = Router()


def tenant() -> str:
    from api.app import tenant as app_tenant  # the API's one reading of the authorizer's claims

    return app_tenant()


def body() -> str | None:
    decoded: str | None = router.current_event.decoded_body
    return decoded


def attachment_request() -> AttachmentRequest:
    try:
        return AttachmentRequest.model_validate_json(body() or "")
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidRequest(
            'The body must be JSON like {"filename": "...", "content_type": "...", "sha256": "<64 hex>"}.',
            details={"problems": problems},
        ) from None


@router.post("/files/<file_id>/attachments")
def create_attachment(file_id: str) -> tuple[dict[str, Any], int]:
    slot = new_attachment(tenant(), file_id, attachment_request(), get_intake_ports())
    return entry_views.attachment(slot), 201


@router.post("/files/<file_id>/entries")
def post_entries(file_id: str) -> tuple[dict[str, Any], int]:
    results = submit_entries(tenant(), file_id, body(), get_intake_ports())
    return entry_views.accepted(file_id, results), 202


@router.post("/files/<file_id>/entries/preview")
def preview(file_id: str) -> dict[str, Any]:
    return entry_views.preview(preview_entries(tenant(), file_id, body(), get_intake_ports()))


@router.get("/files/<file_id>/entries")
def read_entries(file_id: str) -> dict[str, Any]:
    query = router.current_event
    limit = query.get_query_string_value("limit", "100") or "100"
    if not limit.isdigit():
        raise InvalidRequest("limit must be a whole number.", code="INVALID_LIMIT")
    _, records, following = list_entries(
        tenant(),
        file_id,
        get_intake_ports(),
        status=query.get_query_string_value("status"),
        limit=int(limit),
        cursor=query.get_query_string_value("cursor"),
    )
    return entry_views.listing(file_id, records, following)


@router.get("/files/<file_id>/entries/<entry_id>")
def read_entry(file_id: str, entry_id: str) -> dict[str, Any]:
    return entry_views.detail(get_entry(tenant(), file_id, entry_id, get_intake_ports()))


@router.post("/files/<file_id>/entries/<entry_id>/retry")
def retry(file_id: str, entry_id: str) -> tuple[dict[str, Any], int]:
    return entry_views.detail(retry_entry(tenant(), file_id, entry_id, get_intake_ports())), 202
