"""The refresh functions' configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NonEmpty = Annotated[str, Field(min_length=1)]


class RefreshSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    TABLE_NAME: NonEmpty
    BUCKET_NAME: NonEmpty
    REFRESH_QUEUE_URL: NonEmpty
    #: Where entries waiting for references are queued again after a refresh of their file.
    UPLOAD_QUEUE_URL: NonEmpty
    KEY_SECRET_PREFIX: NonEmpty
    THIRD_PARTY_SECRET_ID: NonEmpty
    MYUNISOFT_BASE_URL: NonEmpty
    RATE_LIMIT_REQUESTS: Annotated[int, Field(ge=1)]
    RATE_LIMIT_WINDOW_SECONDS: Annotated[float, Field(gt=0)]
    RATE_LIMIT_MARGIN_SECONDS: Annotated[float, Field(ge=0)]
    #: How long a worker waits for the key's request budget before the message is retried later.
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 120.0
    THIRD_PARTY_SECRET_MAX_AGE_SECONDS: Annotated[int, Field(ge=0)] = 300


@lru_cache(maxsize=1)
def get_settings() -> RefreshSettings:
    return RefreshSettings.model_validate(dict(os.environ))
