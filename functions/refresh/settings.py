"""The refresh functions' configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field

from common.settings import MyUnisoftSettings, NonEmpty


class RefreshSettings(MyUnisoftSettings):
    REFRESH_QUEUE_URL: NonEmpty
    #: How long a worker waits for the key's request budget before the message is retried later.
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 120.0


@lru_cache(maxsize=1)
def get_settings() -> RefreshSettings:
    return RefreshSettings.from_environment()
