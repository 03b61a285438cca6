"""What every function's settings share: environment variables set by ``template.yaml``.

Each function's settings model extends one of these bases and adds only its own fields, so a
variable shared by every function is declared (and bounded) once.
"""

from __future__ import annotations

import os
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

NonEmpty = Annotated[str, Field(min_length=1)]


class FunctionSettings(BaseModel):
    """The state table and the data bucket (reference snapshots), which every function reads."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TABLE_NAME: NonEmpty
    BUCKET_NAME: NonEmpty

    @classmethod
    def from_environment(cls) -> Self:
        """The settings validated from this process's environment."""
        return cls.model_validate(dict(os.environ))


class MyUnisoftSettings(FunctionSettings):
    """How a function reaches MyUnisoft: the firm keys' vault, the third-party secret, the rate budget."""

    KEY_SECRET_PREFIX: NonEmpty
    THIRD_PARTY_SECRET_ID: NonEmpty
    MYUNISOFT_BASE_URL: NonEmpty
    RATE_LIMIT_REQUESTS: Annotated[int, Field(ge=1)]
    RATE_LIMIT_WINDOW_SECONDS: Annotated[float, Field(gt=0)]
    RATE_LIMIT_MARGIN_SECONDS: Annotated[float, Field(ge=0)]
    #: How long a call may wait for the key's request budget; each function sets what it can afford.
    RATE_LIMIT_MAX_WAIT_SECONDS: Annotated[float, Field(gt=0)] = 60.0
    #: How long the third-party secret is cached (a rotation needs no deploy).
    THIRD_PARTY_SECRET_MAX_AGE_SECONDS: Annotated[int, Field(ge=0)] = 300
