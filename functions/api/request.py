"""What every route reads from the request besides its path: the tenant, and a JSON body.

The tenant always comes from the JWT authorizer's claims (docs/architecture.md §3.4); a body is
parsed into its pydantic model, and a malformed one is answered 400 without repeating what was sent.
"""

from __future__ import annotations

import re
from typing import TypeVar

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, ValidationError

from api.errors import InvalidRequest, Unauthenticated
from api.settings import get_settings
from api.telemetry import logger

_TENANT = re.compile(r"[A-Za-z0-9._:@|+-]{1,128}")

Model = TypeVar("Model", bound=BaseModel)


def tenant_of(event: APIGatewayProxyEventV2) -> str:
    """The hub tenant named by the JWT authorizer's claims, or ``Unauthenticated``."""
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    value = claims.get(get_settings().TENANT_CLAIM)
    if not isinstance(value, str) or not _TENANT.fullmatch(value):
        raise Unauthenticated("The request does not name a tenant.")
    logger.append_keys(tenant=value)
    return value


def body_of(event: APIGatewayProxyEventV2) -> str | None:
    """The request body as text (API Gateway may have base64-encoded it)."""
    decoded: str | None = event.decoded_body
    return decoded


def json_body(event: APIGatewayProxyEventV2, model: type[Model], shape: str) -> Model:
    """The body parsed into ``model``; otherwise ``InvalidRequest`` naming each field's problem.

    ``shape`` shows the expected body (``{"api_key": "..."}``) in the answer's message.
    """
    try:
        return model.model_validate_json(body_of(event) or "")
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidRequest(f"The body must be JSON like {shape}.", details={"problems": problems}) from None
