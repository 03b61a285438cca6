"""The webhook routes: register the tenant's endpoint, read it, rotate its secret, remove it.

Each route reads its input, calls one use case (``api.webhooks``) and returns its view; typed
errors (``WEBHOOK_URL_REFUSED``, ``WEBHOOK_NOT_FOUND``) are mapped by the composition root
(``api.app``). The secret appears only in the answers of ``PUT /webhook`` and
``POST /webhook/secret``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from api import webhook_wiring
from api.request import json_body, tenant_of
from api.webhooks import read, register, remove, rotate

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


class WebhookRequest(BaseModel):
    """``{"url": "https://hub.example/hooks/myunisoft"}``."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: str = Field(min_length=1, max_length=2048)


@router.put("/webhook")
def put_webhook() -> dict[str, Any]:
    request = json_body(router.current_event, WebhookRequest, '{"url": "https://..."}')
    issued = register(tenant_of(router.current_event), request.url, webhook_wiring.get_webhook_ports())
    return {"url": issued.registration.url, "secret": issued.secret}


@router.get("/webhook")
def get_webhook() -> dict[str, Any]:
    registration = read(tenant_of(router.current_event), webhook_wiring.get_webhook_ports())
    return {"url": registration.url, "created_at": registration.created_at.isoformat()}


@router.post("/webhook/secret")
def rotate_secret() -> dict[str, Any]:
    issued = rotate(tenant_of(router.current_event), webhook_wiring.get_webhook_ports())
    return {"secret": issued.secret}


@router.delete("/webhook")
def delete_webhook() -> Response[str]:
    remove(tenant_of(router.current_event), webhook_wiring.get_webhook_ports())
    return Response(status_code=204, body="")
