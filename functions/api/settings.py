"""The API function's configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NonEmpty = Annotated[str, Field(min_length=1)]


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    TABLE_NAME: NonEmpty
    BUCKET_NAME: NonEmpty
    REFRESH_QUEUE_URL: NonEmpty
    KEY_SECRET_PREFIX: NonEmpty
    KEY_KMS_KEY_ID: str | None = None
    THIRD_PARTY_SECRET_ID: NonEmpty
    MYUNISOFT_BASE_URL: NonEmpty
    RATE_LIMIT_REQUESTS: Annotated[int, Field(ge=1)]
    RATE_LIMIT_WINDOW_SECONDS: Annotated[float, Field(gt=0)]
    RATE_LIMIT_MARGIN_SECONDS: Annotated[float, Field(ge=0)]
    #: How long an API call may wait for the key's request budget (API Gateway gives up at 30 s).
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    #: The JWT claim naming the hub tenant (the authorizer passes the token's claims).
    TENANT_CLAIM: NonEmpty = "tenant"
    THIRD_PARTY_SECRET_MAX_AGE_SECONDS: Annotated[int, Field(ge=0)] = 300


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings.model_validate(dict(os.environ))
