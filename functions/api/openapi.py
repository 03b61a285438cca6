"""The API's OpenAPI 3 description, generated from the routes' declared models.

``python -m api.openapi docs/openapi.json`` (``make openapi``) writes it; a test keeps the committed
file equal to what the code generates. Two things are added to what Powertools generates: the
entry schema of ``tra_core`` (the body of ``POST .../entries`` and of the preview), and the removal
of Powertools' default 422 answer, which this API never gives: an input outside its bounds is
answered with the API's own error shape and codes, documented route by route (``api.refusals``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import TypeAdapter

from api.entry_checks import MAX_ENTRIES_PER_REQUEST
from api.resolver import app
from tra_core.domain.entry import Entry

TITLE = "myunisoft-bridge HTTP API"
VERSION = "1"
DESCRIPTION = (
    "Connect MyUnisoft firms with their firm key, read their client files and references, and post "
    "accounting entries that the bridge uploads to MyUnisoft as TRA files. Every answer is JSON; "
    'every refusal is {"error": {"code", "message"}} with a stable code. The hub authenticates '
    "with a JWT whose claims name its tenant. See docs/architecture.md §3.4."
)
_REF = "#/components/schemas/{model}"


def document() -> dict[str, Any]:
    """The OpenAPI description of every route, as a JSON-ready dict."""
    generated: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes={"hubJwt": HTTPBearer(bearerFormat="JWT")},
            security=[{"hubJwt": []}],
        )
    )
    _drop_default_validation_answers(generated)
    _drop_no_content_bodies(generated)
    _add_entry_schemas(generated["components"]["schemas"])
    _add_gateway_answers(generated)
    return generated


def _drop_no_content_bodies(document: dict[str, Any]) -> None:
    """A 204 has no body: Powertools gives it the handler's return type, which no answer carries."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].get("204", {}).pop("content", None)


#: Answers API Gateway gives itself, before the function runs, in its own ``{"message"}`` shape.
_GATEWAY_ANSWERS = {
    "401": "the JWT authorizer refused the token (the gateway's own answer)",
    "413": "the body is over the gateway's 10 MB (the gateway's own answer)",
    "404": "a path parameter holding a slash matches no route (the gateway's own answer)",
}


def _add_gateway_answers(document: dict[str, Any]) -> None:
    """Declare the gateway's own refusals next to the function's, so every answer conforms."""
    document["components"]["schemas"]["GatewayMessage"] = {
        "description": 'An answer of API Gateway itself, such as {"message": "Unauthorized"}.',
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
        "title": "GatewayMessage",
        "type": "object",
    }
    gateway = {"$ref": _REF.format(model="GatewayMessage")}
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, why in _GATEWAY_ANSWERS.items():
                if status == "413" and "requestBody" not in operation:
                    continue
                if status == "404" and "404" not in operation["responses"]:
                    continue
                answers = operation["responses"]
                known = answers.get(status)
                if known is None:
                    answers[status] = {
                        "description": f"Refused: {why}.",
                        "content": {"application/json": {"schema": gateway}},
                    }
                    continue
                content = known["content"]["application/json"]
                content["schema"] = {"oneOf": [content["schema"], gateway]}
                known["description"] += f" Or {why}."


def _drop_default_validation_answers(document: dict[str, Any]) -> None:
    default = {"$ref": _REF.format(model="HTTPValidationError")}
    for operations in document["paths"].values():
        for operation in operations.values():
            answers = operation["responses"]
            if answers.get("422", {}).get("content", {}).get("application/json", {}).get("schema") == default:
                del answers["422"]
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(name, None)


def _add_entry_schemas(schemas: dict[str, Any]) -> None:
    entry = TypeAdapter(Entry).json_schema(ref_template=_REF)
    schemas.update(entry.pop("$defs", {}))
    schemas["Entry"] = entry
    schemas["Entries"] = {
        "description": "One entry, or a list of entries.",
        "oneOf": [
            {"$ref": _REF.format(model="Entry")},
            {
                "type": "array",
                "items": {"$ref": _REF.format(model="Entry")},
                "maxItems": MAX_ENTRIES_PER_REQUEST,
            },
        ],
    }


def render() -> str:
    """The description as the committed file holds it."""
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the description to the given path, or print it."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
