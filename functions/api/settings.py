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


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings.from_environment()
