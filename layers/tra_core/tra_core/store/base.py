"""The base of every stored record: frozen, and tolerant of attributes a newer version added."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A frozen pydantic model of stored state (unknown attributes are ignored on reading)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
