"""Column layout of a TRA journal file (Cegid spec v011; ``tra-format.md`` §2, §4, §5).

Positions are 1-based and inclusive in the spec; here each field is ``(start, width)`` with a
0-based start, so ``line[start:start + width]`` is the field.
"""

from __future__ import annotations

from typing import Final

NO_DATE: Final = "01011900"  # Cegid's "empty date" (tra-format.md §1)

HEADER_WIDTH: Final = 149  # through SO_READYGUID; 150-165 are optional and left off
MOVEMENT_WIDTH: Final = 222  # STD movement line (tra-format.md §4.1)
ETE_WIDTH: Final = 1023  # through ETATLETTRAGE (1021-1023); later #1 fields are optional
MAX_LINE_WIDTH: Final = 1407  # the longest record of the spec (ETE #1 ends at 1407)
DOCUMENT_WIDTH: Final = 255  # G line document field (p. 49)

# Movement line, standard part (tra-format.md §4.1).
MOVEMENT_FIELDS: Final[tuple[tuple[str, int, int], ...]] = (
    ("journal", 0, 3),
    ("date", 3, 8),
    ("piece_type", 11, 2),
    ("general", 13, 17),
    ("account_type", 30, 1),
    ("auxiliary", 31, 17),
    ("reference", 48, 35),
    ("label", 83, 35),
    ("payment_mode", 118, 3),
    ("due_date", 121, 8),
    ("direction", 129, 1),
    ("amount", 130, 20),
    ("entry_type", 150, 1),
    ("piece_number", 151, 8),
    ("currency", 159, 3),
    ("exchange_rate", 162, 10),
    ("amount_code", 172, 3),
    ("amount2", 175, 20),
    ("amount3", 195, 20),
    ("establishment", 215, 3),
    ("axis", 218, 2),
    ("instalment", 220, 2),
)

# 1-based column of each movement field, for lint messages.
COLUMN: Final[dict[str, int]] = {name: start + 1 for name, start, _ in MOVEMENT_FIELDS}
COLUMN["document"] = 84

# Header record (tra-format.md §2).
HEADER_FIELDS: Final[tuple[tuple[str, int, int], ...]] = (
    ("fixed", 0, 3),
    ("product", 3, 2),
    ("origin", 5, 3),
    ("file_type", 8, 3),
    ("format", 11, 3),
    ("closed_year_code", 14, 3),
    ("euro_switch_date", 17, 8),
    ("period_end_date", 25, 8),
    ("version", 33, 3),
    ("firm_number", 36, 5),
    ("created_at", 41, 12),
    ("user", 53, 35),
    ("company_name", 88, 35),
    ("resume_flag", 123, 4),
    ("pcl_number", 127, 6),
    ("frequency", 133, 3),
    ("purge_date", 136, 8),
    ("sub_version", 144, 3),
    ("new_analytics", 147, 1),
    ("ready_guid", 148, 1),
    ("agricultural", 149, 1),
    ("sequence_number", 150, 15),
)

PIECE_TYPES: Final = frozenset({"FC", "AC", "RC", "FF", "AF", "RF", "OD", "OC", "OF"})
ACCOUNT_TYPES: Final = frozenset({"", "X", "A", "H", "O", "G", "V", "P"})
ENTRY_TYPES: Final = frozenset({"N", "S", "U", "R"})
