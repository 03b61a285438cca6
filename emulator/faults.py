"""Faults injected into the emulator's next calls of a route (``POST /_emulator/faults``).

Kept apart from the app so the control routes can build them without importing the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """A fault injected on the next ``count`` calls of ``route`` (``POST /_emulator/faults``)."""

    route: str
    method: str | None = None
    count: int = 1
    status: int | None = None
    code: str | None = None
    message: str | None = None
    delay_s: float | None = None
    drop: str | None = None  # "after" (the call is processed, its answer lost) or "before"
    lose: bool | None = None  # answer success without doing anything (a lost import)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        drop = data.get("drop")
        if drop is True:
            drop = "after"
        elif drop in (False, None):
            drop = None
        elif drop not in ("after", "before"):
            raise ValueError("drop must be true, 'after' or 'before'")
        fault = cls(
            route=str(data["route"]),
            method=str(data["method"]).lower() if data.get("method") else None,
            count=int(data.get("count", 1)),
            status=int(data["status"]) if data.get("status") is not None else None,
            code=data.get("code"),
            message=data.get("message"),
            delay_s=float(data["delay_s"]) if data.get("delay_s") is not None else None,
            drop=drop,
            lose=True if data.get("lose") else None,
        )
        if fault.status is None and fault.code is not None:
            fault.status = 500
        if fault.status is None and fault.delay_s is None and fault.drop is None and not fault.lose:
            raise ValueError("a fault needs status, code, delay_s, drop or lose")
        return fault

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}
