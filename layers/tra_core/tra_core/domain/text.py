"""Text rules for TRA fields: encodable characters and fixed widths.

MyUnisoft reads labels of at most 35 characters (docs/architecture.md §3.2 rule 1; ``tra-format.md`` §4.1,
LIBELLE a35). The TRA file is Windows-1252 by default (``tra-format.md`` §5bis): characters it
cannot hold are transliterated (``ł`` → ``l``), or removed when there is no equivalent (emoji).
Control characters always become spaces, because a CR or LF would break the fixed-width record.
"""

from __future__ import annotations

import unicodedata

LABEL_WIDTH = 35

# Letters that NFKD cannot decompose into an ASCII base letter plus accents.
_SPECIAL = {
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ħ": "h",
    "Ħ": "H",
    "ı": "i",
    "ŀ": "l",
    "Ŀ": "L",
    "ø": "o",
    "Ø": "O",
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "þ": "th",
    "Þ": "Th",
    "ð": "d",
    "Ð": "D",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "−": "-",
    "ʼ": "'",
    "‚": ",",
    "„": '"',
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "€": "EUR",
}


# Memo of already-mapped characters, per encoding: transliteration is on the writer's hot path.
_MAPPED: dict[str, dict[str, str]] = {}


def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _transliterate_char(char: str, encoding: str) -> str:
    if unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
        return " "
    if unicodedata.category(char) in {"Cf", "Cs", "Co", "Cn"}:
        return ""
    if _encodable(char, encoding):
        return char
    special = _SPECIAL.get(char)
    if special is not None and all(_encodable(c, encoding) for c in special):
        return special
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and _encodable(c, encoding))
    if kept and unicodedata.category(kept[0])[0] in {"L", "N", "P", "Z", "S"}:
        return kept
    return ""


def fit_encoding(text: str, encoding: str = "cp1252") -> str:
    """Return ``text`` with every character the encoding (and a fixed-width line) can hold.

    Encodable characters are kept as they are (``é`` stays ``é`` in cp1252); others are
    transliterated to their closest base letters, or removed when there is none (emoji).
    Control characters (tab, CR, LF...) become spaces. Pure and deterministic.
    """
    if text.isascii() and text.isprintable():
        return text
    cache = _MAPPED.setdefault(encoding, {})
    out = []
    for char in text:
        mapped = cache.get(char)
        if mapped is None:
            mapped = _transliterate_char(char, encoding)
            cache[char] = mapped
        out.append(mapped)
    return "".join(out)


def cut(text: str, width: int) -> str:
    """Cut ``text`` to its first ``width`` characters."""
    return text if len(text) <= width else text[:width]
