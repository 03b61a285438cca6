"""What the demo's step modules need of the story, so they never import the demo itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import httpx


class StepFailed(Exception):
    """A step did not do what it says."""


class StoryPort(Protocol):
    """The part of ``local.demo.Story`` a step module drives."""

    sent: dict[str, dict[str, Any]]
    file: dict[str, Any]
    control: httpx.Client

    def call(self, method: str, path: str, expect: Iterable[int], **kwargs: Any) -> Any: ...

    def wait(
        self, what: str, check: Callable[[], tuple[bool, str]], timeout_s: float | None = None
    ) -> str: ...

    def send_entries(self, entries: list[dict[str, Any]]) -> None: ...

    def wait_statuses(self, what: str, ids: list[str], wanted: set[str]) -> dict[str, dict[str, Any]]: ...
