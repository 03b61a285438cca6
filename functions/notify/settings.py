"""The notification functions' configuration: environment variables set by ``template.yaml``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.settings import FunctionSettings, NonEmpty


class RelaySettings(FunctionSettings):
    """The stream consumer: the bus every event goes to, the queue of webhook deliveries."""

    EVENT_BUS_NAME: NonEmpty
    WEBHOOK_QUEUE_URL: NonEmpty


class DeliverySettings(FunctionSettings):
    """The delivery worker: its queues, the secrets, the backoff and the retry window."""

    WEBHOOK_QUEUE_URL: NonEmpty
    WEBHOOK_DEAD_LETTER_QUEUE_URL: NonEmpty
    WEBHOOK_SECRET_PREFIX: NonEmpty
    #: The first retry's delay; each next one doubles, up to ``WEBHOOK_RETRY_MAX_SECONDS``.
    WEBHOOK_RETRY_BASE_SECONDS: Annotated[int, Field(ge=0, le=43_200)] = 30
    WEBHOOK_RETRY_MAX_SECONDS: Annotated[int, Field(ge=0, le=43_200)] = 3_600
    #: How long a delivery is retried before it is dead-lettered (at least 24 hours on AWS).
    WEBHOOK_RETRY_FOR_SECONDS: Annotated[int, Field(ge=0, le=1_209_600)] = 93_600
    WEBHOOK_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=30)] = 10.0
    #: Only the local stack sets it: lets deliveries reach ``http://127.0.0.1:PORT``.
    WEBHOOK_ALLOW_LOOPBACK_HTTP: bool = False
