"""The upload worker's configuration: environment variables set by ``template.yaml``, validated once."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field

from common.settings import MyUnisoftSettings, NonEmpty


class UploadSettings(MyUnisoftSettings):
    """``BUCKET_NAME`` (the base's) is the data bucket: reference snapshots."""

    ATTACHMENTS_BUCKET_NAME: NonEmpty
    """Documents uploaded by the hub, and the frozen archives."""
    UPLOAD_QUEUE_URL: NonEmpty
    UPLOAD_DEAD_LETTER_QUEUE_URL: NonEmpty
    #: The longest a worker waits for a key's request budget inside an invocation; a key whose next
    #: free place is further away has its messages sent back with the delay instead, so that one
    #: firm's backlog never holds a worker other firms' entries need (docs/architecture.md §8).
    UPLOAD_BUDGET_WAIT_SECONDS: Annotated[float, Field(gt=0, le=60)] = 2.0
    #: Counted upload attempts of a batch before its entries are ``failed`` (and dead-lettered).
    UPLOAD_MAX_ATTEMPTS: Annotated[int, Field(ge=1)] = 5
    #: Backoff after a transient failure: base * 2^(attempt-1) seconds, at most the maximum.
    UPLOAD_RETRY_BASE_SECONDS: Annotated[float, Field(ge=0)] = 30.0
    UPLOAD_RETRY_MAX_SECONDS: Annotated[float, Field(ge=0, le=43_200)] = 900.0
    #: How long a worker may hold a batch before another may take it over (after a crash).
    UPLOAD_LEASE_SECONDS: Annotated[float, Field(gt=0)] = 300.0
    #: Most entries of one file put into one archive (1 disables batching).
    UPLOAD_BATCH_MAX_ENTRIES: Annotated[int, Field(ge=1, le=99)] = 50
    UPLOAD_BATCH_MAX_BYTES: Annotated[int, Field(ge=1)] = 40 * 1024 * 1024
    #: The verification queue (verified delivery); empty turns the read-backs off.
    VERIFY_QUEUE_URL: str = ""
    #: Seconds between an accepted archive and the first read-back of its entries.
    VERIFY_DELAY_SECONDS: Annotated[float, Field(ge=0, le=900)] = 10.0


@lru_cache(maxsize=1)
def get_settings() -> UploadSettings:
    return UploadSettings.from_environment()
