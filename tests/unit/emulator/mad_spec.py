"""MyUnisoft's MAD entries specification v1.0.0 as strict pydantic models, for tests.

Derived field by field from the TypeScript interfaces of ``myunisoft-mad-entries.md`` §1 (design
folder): every field the interface names is required (``?`` ones optional), ``null`` only where the
interface allows it, no other field accepted, dates ``YYYY-MM-DD``. The tests check the emulator's
answers against these models, and these models against the interfaces read in place.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Number = int | float


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Attachment(_Spec):
    type: Literal["URL", "File", "Base64"]
    value: str


class Currency(_Spec):
    code: str
    rate: Number | None = None  # "rate?: number | null"


class JournalRef(_Spec):
    producerId: str
    customerReferenceCode: str
    name: str
    type: str


class Value(_Spec):
    credit: Number
    debit: Number
    amount: Number


class NoLettering(_Spec):
    state: Literal["none"]
    value: None


class PartialLettering(_Spec):
    state: Literal["partial"]
    value: Annotated[str, StringConstraints(pattern=r"^\*")]


class CompleteLettering(_Spec):
    state: Literal["complete"]
    value: str


class AccountRef(_Spec):
    producerId: str | None
    number: str | None
    name: str | None


class Payment(_Spec):
    producerId: str
    name: str | None
    code: str | None


class Section(_Spec):
    producerId: str
    amount: Number
    rate: Number
    code: str
    name: str


class Analytics(_Spec):
    producerId: str
    code: str
    name: str
    sections: list[Section]


class Movement(_Spec):
    producerId: str
    description: str
    attachments: dict[str, Attachment]
    value: Value
    dueDate: IsoDate | None
    lettering: NoLettering | PartialLettering | CompleteLettering
    freeNumber: str | None
    invoiceNumber: str | None
    account: AccountRef | None
    payment: Payment | None
    analytics: list[Analytics]


class PartnerMetadata(_Spec):
    partnerId: str
    json_text: str | None = Field(alias="json")


class EntryProperties(_Spec):
    partnerMetadata: PartnerMetadata | None
    publishingDestination: str = ""  # "publishingDestination?: string": absent, or a string
    comment: str | None


class Entry(_Spec):
    producerId: str
    attachments: dict[str, Attachment]
    currency: Currency
    date: IsoDate
    dueDate: IsoDate | None
    journal: JournalRef
    movements: list[Movement]
    additionalProducerProperties: EntryProperties


#: The interface name in the reference → the model derived from it.
INTERFACES: dict[str, type[_Spec]] = {"Entry": Entry, "Movement": Movement}


def field_names(model: type[BaseModel]) -> set[str]:
    """The JSON names of a model's fields."""
    return {info.alias or name for name, info in model.model_fields.items()}
