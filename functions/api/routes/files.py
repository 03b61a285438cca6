"""The client-file routes: its references, a refresh on demand, and a slot to upload a document.

Each route reads its input, calls one use case (``api.files``, ``api.attachments``) and returns its
view; typed errors are mapped to statuses by the composition root (``api.app``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api import entry_views, views, wiring
from api.attachments import AttachmentRequest, new_attachment
from api.files import get_references, request_refresh
from api.request import json_body, tenant_of

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/files/<file_id>/references")
def read_references(file_id: str) -> dict[str, Any]:
    return views.references(get_references(tenant_of(router.current_event), file_id, wiring.get_ports()))


@router.post("/files/<file_id>/refresh")
def refresh_file(file_id: str) -> tuple[dict[str, Any], int]:
    item = request_refresh(tenant_of(router.current_event), file_id, wiring.get_ports())
    return {"file_id": item.file_id, "status": "queued"}, 202


@router.post("/files/<file_id>/attachments")
def create_attachment(file_id: str) -> tuple[dict[str, Any], int]:
    request = json_body(
        router.current_event,
        AttachmentRequest,
        '{"filename": "...", "content_type": "...", "sha256": "<64 hex>"}',
    )
    slot = new_attachment(tenant_of(router.current_event), file_id, request, wiring.get_intake_ports())
    return entry_views.attachment(slot), 201
