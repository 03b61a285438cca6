"""A tenant's webhook registration, as stored (no botocore: the adapters are in ``webhook_adapters``).

The signing secret itself never sits here: the record names the Secrets Manager secret holding it
(docs/architecture.md §9).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class WebhookRegistration(BaseModel):
    """A tenant's one webhook endpoint (the secret itself lives in Secrets Manager)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant: str
    url: str
    created_at: datetime
    updated_at: datetime
    secret_ref: str
    secret_version: str
