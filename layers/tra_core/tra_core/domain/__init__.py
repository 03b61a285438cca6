"""Pure accounting domain: money, entries, reference data and MyUnisoft's rules.

The names below are exported lazily (PEP 562): importing any ``tra_core.domain`` module runs this
file, and building ``Entry`` and its lines here would make every importer of, say, the errors pay for
the entry's pydantic models (the API's cold start, docs/benchmarks.md "Cold start"). Import from the
submodule (``tra_core.domain.entry``) in the project's code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tra_core.domain.entry import Attachment, Entry, EntryKind, EntryLine, parse_entries
    from tra_core.domain.errors import EntryProblem, Notice, TraError
    from tra_core.domain.money import format_amount, parse_amount

_SUBMODULE_OF = {
    "Attachment": "entry",
    "Entry": "entry",
    "EntryKind": "entry",
    "EntryLine": "entry",
    "parse_entries": "entry",
    "EntryProblem": "errors",
    "Notice": "errors",
    "TraError": "errors",
    "format_amount": "money",
    "parse_amount": "money",
}

__all__ = [
    "Attachment",
    "Entry",
    "EntryKind",
    "EntryLine",
    "EntryProblem",
    "Notice",
    "TraError",
    "format_amount",
    "parse_amount",
    "parse_entries",
]


def __getattr__(name: str) -> Any:
    """``tra_core.domain.Entry`` and the other exported names, imported on first use."""
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{submodule}"), name)
