"""Builds the intake routes' ports from the API function's environment (never at import).

Intake has its own settings model (the upload queue and the attachments bucket), read next to the
API's: ports are built once per distinct configuration and reused by warm invocations.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

import boto3
from pydantic import BaseModel, ConfigDict, Field

from api.entries import IntakePorts
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.queues import SqsQueue
from tra_core.store.s3_objects import S3Documents
from tra_core.store.snapshots import S3Snapshots

NonEmpty = Annotated[str, Field(min_length=1)]


class IntakeSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    TABLE_NAME: NonEmpty
    BUCKET_NAME: NonEmpty
    ATTACHMENTS_BUCKET_NAME: NonEmpty
    UPLOAD_QUEUE_URL: NonEmpty
    #: How long a presigned document upload URL stays valid.
    UPLOAD_URL_EXPIRES_SECONDS: Annotated[int, Field(ge=60, le=604_800)] = 900


def utc_now() -> datetime:
    return datetime.now(UTC)


def get_intake_ports() -> IntakePorts:
    return _ports(IntakeSettings.model_validate(dict(os.environ)))


@lru_cache(maxsize=4)
def _ports(settings: IntakeSettings) -> IntakePorts:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    s3 = session.client("s3")
    return IntakePorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=S3Snapshots(s3, settings.BUCKET_NAME),
        entries=DynamoDBEntries(dynamodb, settings.TABLE_NAME),
        documents=S3Documents(s3, settings.ATTACHMENTS_BUCKET_NAME),
        queue=SqsQueue(session.client("sqs"), settings.UPLOAD_QUEUE_URL, kind="upload"),
        clock=utc_now,
        upload_url_expires_s=settings.UPLOAD_URL_EXPIRES_SECONDS,
    )


def reset() -> None:
    _ports.cache_clear()
