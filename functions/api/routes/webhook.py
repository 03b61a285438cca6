"""The webhook routes: register the tenant's endpoint, read it, rotate its secret, remove it.

Each route's input is validated by its declared types (``api.request_models``) before it runs; it
calls one use case (``api.webhooks``) and returns its view. Typed errors (``WEBHOOK_URL_REFUSED``,
``WEBHOOK_NOT_FOUND``) are mapped by the composition root (``api.resolver``). The secret appears only in
the answers of ``PUT /webhook`` and ``POST /webhook/secret`` (docs/architecture.md §9).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api import wiring
from api.refusals import BODY, MODEL_BODY, answer, responses
from api.request import tenant_of
from api.request_models import WebhookRequest
from api.response_models import RegisteredWebhookView, WebhookSecretView, WebhookView
from api.webhooks import read, register, remove, rotate

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

Endpoint = Annotated[WebhookRequest, Body(description="The HTTPS endpoint that receives the events.")]
URL_REFUSED = {422: ("WEBHOOK_URL_REFUSED",)}
NO_WEBHOOK = {404: ("WEBHOOK_NOT_FOUND",)}


@router.put(
    "/webhook",
    summary="Register the tenant's endpoint (replacing any other); answers its new signing secret",
    responses={
        **answer(200, RegisteredWebhookView, "The endpoint is registered; keep the secret."),
        **responses(BODY, MODEL_BODY, URL_REFUSED),
    },
)
def put_webhook(request: Endpoint) -> RegisteredWebhookView:
    issued = register(tenant_of(router.current_event), request.url, wiring.get_webhook_ports())
    return RegisteredWebhookView(url=issued.registration.url, secret=issued.secret)


@router.get(
    "/webhook",
    summary="The tenant's registered endpoint (never its secret)",
    responses={**answer(200, WebhookView, "The registered endpoint."), **responses(NO_WEBHOOK)},
)
def get_webhook() -> WebhookView:
    registration = read(tenant_of(router.current_event), wiring.get_webhook_ports())
    return WebhookView(url=registration.url, created_at=registration.created_at)


@router.post(
    "/webhook/secret",
    summary="A new signing secret; deliveries carry both signatures for 24 hours",
    responses={**answer(200, WebhookSecretView, "The new secret."), **responses(BODY, NO_WEBHOOK)},
)
def rotate_secret() -> WebhookSecretView:
    issued = rotate(tenant_of(router.current_event), wiring.get_webhook_ports())
    return WebhookSecretView(secret=issued.secret)


@router.delete(
    "/webhook",
    summary="Remove the endpoint: nothing more is delivered",
    responses={204: {"description": "Removed."}, **responses(NO_WEBHOOK)},
)
def delete_webhook() -> Response[str]:
    remove(tenant_of(router.current_event), wiring.get_webhook_ports())
    return Response(status_code=204, body="")
