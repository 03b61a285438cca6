"""The verification worker's configuration: environment variables set by ``template.yaml``."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field

from common.settings import MyUnisoftSettings, NonEmpty


class VerifySettings(MyUnisoftSettings):
    VERIFY_QUEUE_URL: NonEmpty
    #: Read-backs that do not find an entry before it is ``not_found``.
    VERIFY_MAX_CHECKS: Annotated[int, Field(ge=1, le=20)] = 4
    #: Seconds between two read-backs of an entry not found yet (SQS delays at most 900).
    VERIFY_INTERVAL_SECONDS: Annotated[float, Field(ge=0, le=900)] = 20.0
    #: The part of the key's budget read-backs may fill: they take a place only where fewer than
    #: this share of the limit started in the preceding window, leaving the rest to uploads.
    VERIFY_BUDGET_SHARE: Annotated[float, Field(gt=0, le=1)] = 0.5
    #: How long a read-back waits for its place before the request is put back.
    VERIFY_BUDGET_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 2.0


@lru_cache(maxsize=1)
def get_settings() -> VerifySettings:
    return VerifySettings.from_environment()
