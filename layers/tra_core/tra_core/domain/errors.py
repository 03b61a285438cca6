"""Typed errors and warnings as data.

Every problem the bridge reports carries a stable ``code`` (what programs match on) and a
``message`` written for an accountant (what people read). Messages never contain secrets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning attached to an entry: the output is still produced, but differs from the input.

    ``original`` and ``result`` hold the text before and after (for example a label cut to 35
    characters), so the hub can show the accountant exactly what MyUnisoft will receive.
    """

    code: str
    message: str
    entry_id: str | None = None
    line: int | None = None
    field: str | None = None
    original: str | None = None
    result: str | None = None

    def location(self) -> str:
        """Where the notice applies, as ``entry E, line N, field F`` (parts that are known)."""
        return _location(self.entry_id, self.line, self.field)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (keys with ``None`` values are kept so the shape is stable)."""
        return {
            "code": self.code,
            "message": self.message,
            "entry_id": self.entry_id,
            "line": self.line,
            "field": self.field,
            "original": self.original,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """One reason why an entry cannot be accepted, naming the entry, the line and the field.

    ``line`` is 1-based (the first line of the entry is line 1); ``None`` when the problem is
    about the entry as a whole.
    """

    code: str
    message: str
    entry_id: str | None = None
    entry_index: int | None = None
    line: int | None = None
    field: str | None = None

    def location(self) -> str:
        """Where the problem is, as ``entry E, line N, field F``."""
        entry = self.entry_id
        if entry is None and self.entry_index is not None:
            entry = f"#{self.entry_index + 1}"
        return _location(entry, self.line, self.field)

    def __str__(self) -> str:
        return f"{self.location()}: {self.code} {self.message}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view, as returned by the HTTP API."""
        return {
            "code": self.code,
            "message": self.message,
            "entry_id": self.entry_id,
            "line": self.line,
            "field": self.field,
        }


def _location(entry: str | None, line: int | None, field_name: str | None) -> str:
    parts = []
    if entry is not None:
        parts.append(f"entry {entry}")
    if line is not None:
        parts.append(f"line {line}")
    if field_name is not None:
        parts.append(f"field {field_name}")
    return ", ".join(parts) if parts else "input"


class TraError(Exception):
    """Base of every typed error raised by ``tra_core``: a stable code plus a readable message.

    Subclasses set ``code``; ``details`` holds machine-readable context (never a secret).
    """

    code: str = "TRA_ERROR"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, object] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, object] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidEntries(TraError):
    """Raised when entries fail validation; ``problems`` lists every one of them."""

    code = "INVALID_ENTRIES"

    def __init__(self, problems: list[EntryProblem]):
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The entries were not accepted: {count} {noun} to fix.")
        self.problems: tuple[EntryProblem, ...] = tuple(problems)
