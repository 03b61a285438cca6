"""The API function's configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field

from common.settings import FunctionSettings, MyUnisoftSettings, NonEmpty


class ApiSettings(MyUnisoftSettings):
    """The connection and file routes: onboarding calls MyUnisoft, refreshes are queued."""

    REFRESH_QUEUE_URL: NonEmpty
    KEY_KMS_KEY_ID: str | None = None
    #: How long an API call may wait for the key's request budget (API Gateway gives up at 30 s).
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    #: The JWT claim naming the hub tenant (the authorizer passes the token's claims).
    TENANT_CLAIM: NonEmpty = "tenant"


class IntakeSettings(FunctionSettings):
    """The entry and attachment routes: the upload queue and the attachments bucket."""

    ATTACHMENTS_BUCKET_NAME: NonEmpty
    UPLOAD_QUEUE_URL: NonEmpty
    #: How long a presigned document upload URL stays valid.
    UPLOAD_URL_EXPIRES_SECONDS: Annotated[int, Field(ge=60, le=604_800)] = 900
    #: What a key's budget uploads per second (requests per window, times the entries of a full
    #: archive): a large post's messages are paced by it (tra_core.store.backlog).
    RATE_LIMIT_REQUESTS: Annotated[int, Field(ge=1)] = 20
    RATE_LIMIT_WINDOW_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    UPLOAD_BATCH_MAX_ENTRIES: Annotated[int, Field(ge=1, le=99)] = 50


class WebhookSettings(FunctionSettings):
    """The webhook routes: where registrations and their secrets are kept."""

    WEBHOOK_SECRET_PREFIX: NonEmpty
    KEY_KMS_KEY_ID: str | None = None
    #: Only the local stack sets it: lets a receiver on ``http://127.0.0.1:PORT`` be registered.
    WEBHOOK_ALLOW_LOOPBACK_HTTP: bool = False


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings.from_environment()
