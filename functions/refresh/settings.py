"""The refresh functions' configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field

from common.settings import MyUnisoftSettings, NonEmpty


class RefreshSettings(MyUnisoftSettings):
    REFRESH_QUEUE_URL: NonEmpty
    #: Where entries waiting for references are queued again after a refresh of their file.
    UPLOAD_QUEUE_URL: NonEmpty
    #: How long a worker that started on a file waits for each of its next requests (a file is
    #: three requests: once begun, it is finished rather than begun again later).
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 120.0
    #: The longest a worker waits for a key's budget before starting on a message; a key booked
    #: further ahead has the message queued again for then (docs/architecture.md §8).
    REFRESH_BUDGET_WAIT_SECONDS: Annotated[float, Field(gt=0, le=60)] = 2.0


@lru_cache(maxsize=1)
def get_settings() -> RefreshSettings:
    return RefreshSettings.from_environment()
