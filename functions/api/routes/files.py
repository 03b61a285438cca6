"""The client-file routes: its references, a refresh on demand, and a slot to upload a document.

Each route's input is validated by its declared types (``api.request_models``) before it runs; it
calls one use case (``api.files``, ``api.attachments``) and returns its view. Typed errors are
mapped to statuses by the composition root (``api.resolver``); ``responses`` documents them all.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api import entry_views, views, wiring
from api.attachments import new_attachment
from api.files import get_references, request_refresh
from api.refusals import BODY, MODEL_BODY, PATH, answer, responses
from api.request import tenant_of
from api.request_models import AttachmentRequest, FileId
from api.response_models import ReferencesView, RefreshQueuedView, UploadSlotView

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/files/<file_id>/references",
    summary="The current version of a client file's references",
    responses={
        **answer(200, ReferencesView, "The references."),
        **responses(PATH, {404: ("REFERENCES_NOT_READY",)}),
    },
)
def read_references(file_id: FileId) -> ReferencesView:
    return views.references(get_references(tenant_of(router.current_event), file_id, wiring.get_ports()))


@router.post(
    "/files/<file_id>/refresh",
    summary="Refresh this client file's references now",
    status_code=202,
    responses={
        **answer(202, RefreshQueuedView, "The refresh is queued."),
        **responses(PATH, BODY, {409: ("CONNECTION_NOT_ACTIVE", "FILE_NOT_VISIBLE")}),
    },
)
def refresh_file(file_id: FileId) -> RefreshQueuedView:
    item = request_refresh(tenant_of(router.current_event), file_id, wiring.get_ports())
    return RefreshQueuedView(file_id=item.file_id, status="queued")


@router.post(
    "/files/<file_id>/attachments",
    summary="A presigned upload slot for one document, which entries then name by its s3_key",
    status_code=201,
    responses={
        **answer(201, UploadSlotView, "PUT the document to upload_url, then name it by s3_key."),
        **responses(PATH, BODY, MODEL_BODY, {400: ("FILENAME_INVALID", "ATTACHMENT_TYPE")}),
    },
)
def create_attachment(
    file_id: FileId, request: Annotated[AttachmentRequest, Body(description="The document to upload.")]
) -> UploadSlotView:
    slot = new_attachment(tenant_of(router.current_event), file_id, request, wiring.get_intake_ports())
    return entry_views.attachment(slot)
