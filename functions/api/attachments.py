"""Use case of ``POST /files/{file_id}/attachments``: a presigned upload slot for one document.

The hub declares the document (file name, content type, SHA-256), PUTs it to the returned URL and
names it in its entries by the returned ``s3_key``. The key is bound to the client file and the
declared hash (``tra_core.store.attachments``): the upload worker refuses a document of another
file, a missing one, or one whose bytes do not match the hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.entries import IntakePorts
from api.errors import InvalidRequest
from api.files import get_file
from api.request_models import AttachmentRequest
from tra_core.store.attachments import attachment_key
from tra_core.tra.archive import ALLOWED_EXTENSIONS, safe_name


@dataclass(frozen=True)
class UploadSlot:
    s3_key: str
    upload_url: str
    content_type: str
    expires_in: int


def new_attachment(tenant: str, file_id: str, request: AttachmentRequest, ports: IntakePorts) -> UploadSlot:
    """Where and how to upload one document of a client file."""
    file = get_file(tenant, file_id, ports)
    name = safe_name(request.filename)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise InvalidRequest(
            f"Document {request.filename!r} is not of an accepted type "
            f"({', '.join(sorted(ALLOWED_EXTENSIONS))}).",
            code="ATTACHMENT_TYPE",
        )
    key = attachment_key(file.connection_id, file.society_id, request.sha256.lower(), name)
    url = ports.documents.presign_put(key, request.content_type, ports.upload_url_expires_s)
    return UploadSlot(
        s3_key=key, upload_url=url, content_type=request.content_type, expires_in=ports.upload_url_expires_s
    )
