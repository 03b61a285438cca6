"""What a request may carry, bounded at the edge: bodies, path parameters, query parameters.

Powertools' event handler validates every route's input against these types before the route runs
(``enable_validation=True``), and the API's OpenAPI description is generated from them
(``api.openapi``). A value outside its bounds is refused with a 4xx (``api.refusals``); it never
reaches a use case or the store. Entry bodies are checked by the entry schema of ``tra_core``
(docs/architecture.md §3.1), which names every problem with its entry, line and field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, SecretStr, StrictBool
from pydantic_core import PydanticCustomError

from api.entry_checks import MAX_PAGE
from api.errors import FIRM_KEY_HOWTO
from tra_core.domain.lifecycle import EntryStatus

MAX_KEY_LENGTH = 8192
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _header_safe(key: SecretStr) -> SecretStr:
    # The key travels in an HTTP header to MyUnisoft: a character a header cannot carry would make
    # every call fail, which would look like MyUnisoft being down.
    if not _HEADER_SAFE.fullmatch(key.get_secret_value()):
        raise PydanticCustomError(
            "KEY_INVALID",
            "MyUnisoft cannot read this key: it holds characters a MyUnisoft key never has (spaces, "
            "accents, line breaks or other invisible characters), so it is incomplete or mistyped. "
            "Copy the whole key again from MyUnisoft, without anything around it, or generate a new one. "
            + FIRM_KEY_HOWTO,
        )
    return key


def _printable(name: str) -> str:
    if _CONTROL.search(name):
        raise PydanticCustomError(
            "FILENAME_INVALID", "The file name holds invisible (control) characters: rename the file."
        )
    return name


def _entries_schema(schema: dict[str, Any]) -> None:
    # The entry schema itself is added to the document by ``api.openapi`` (from ``tra_core``'s model).
    schema.clear()
    schema["$ref"] = "#/components/schemas/Entries"


class KeyRequest(BaseModel):
    """``{"api_key": "..."}``: the firm key pasted by the accountant, secret from the moment it is parsed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: Annotated[
        SecretStr,
        Field(min_length=1, max_length=MAX_KEY_LENGTH, json_schema_extra={"pattern": r"^[\x21-\x7e]+$"}),
        AfterValidator(_header_safe),
    ]


class SettingsRequest(BaseModel):
    """``{"create_missing_subsidiaries": false}``: the connection's settings to change."""

    model_config = ConfigDict(extra="forbid")

    create_missing_subsidiaries: StrictBool = Field(
        description="Whether the bridge creates in MyUnisoft a third party (subsidiary account) an "
        "entry names and the client file lacks; when false, such an entry waits (waiting_for_references)."
    )


def _url_text(url: str) -> str:
    if _CONTROL.search(url):
        raise PydanticCustomError(
            "WEBHOOK_URL_REFUSED", "The URL holds invisible (control) characters: copy it again."
        )
    return url


class WebhookRequest(BaseModel):
    """``{"url": "https://hub.example/hooks/myunisoft"}``: where the tenant's events are POSTed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_url_text)]


class AttachmentRequest(BaseModel):
    """``{"filename", "content_type", "sha256"}``: a document the hub is about to upload."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_printable)]
    content_type: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")] = (
        "application/octet-stream"
    )
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class EntriesPayload(RootModel[dict[str, Any] | list[Any]]):
    """One entry or a list of entries (docs/architecture.md §3.1).

    Only the envelope is checked here (an object, or a list: ``api.entry_checks`` bounds it to
    ``MAX_ENTRIES_PER_REQUEST`` items); each entry is checked against the entry schema, so that every
    problem of every entry is answered at once. The OpenAPI description shows the entry schema.
    """

    model_config = ConfigDict(json_schema_extra=_entries_schema)


EntriesBody = Annotated[EntriesPayload, Body(description="One entry, or a list of at most 500 entries.")]

ConnectionId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="A connection id."),
]
FileId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=84,
        pattern=r"^[A-Za-z0-9_-]{1,64}\.[0-9]{1,18}$",
        description="A client file id: ``<connection_id>.<MyUnisoft dossier id>``.",
    ),
]
EntryId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="An entry's ``entry_id``."),
]
StatusFilter = Annotated[EntryStatus | None, Query(description="Only the entries in this status.")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE, description="How many entries per page.")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=2048,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The ``next`` of the previous page.",
    ),
]
