"""Pure accounting domain: money, entries, reference data and MyUnisoft's rules."""

from tra_core.domain.entry import Attachment, Entry, EntryKind, EntryLine, parse_entries
from tra_core.domain.errors import EntryProblem, Notice, TraError
from tra_core.domain.money import format_amount, parse_amount

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
