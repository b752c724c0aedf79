"""Text hygiene: what a person sends is cleaned before it is kept.

A NUL byte cannot be stored in PostgreSQL, other control characters garble the printed form,
and the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make a text read
differently from what it contains. They are removed; newline and tab stay, and every line
ending becomes a newline.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
)
KEPT_CONTROLS = frozenset("\n\t")


def _unwanted(char: str) -> bool:
    if char in KEPT_CONTROLS:
        return False
    if char in BIDI_CONTROLS:
        return True
    # Cc: C0 and C1 control characters (NUL included); Cs: lone surrogates, which no
    # database can store as UTF-8.
    return unicodedata.category(char) in ("Cc", "Cs")


def clean_text(text: str) -> str:
    """The text without control characters (newline and tab kept) and bidi overrides;
    CR LF and lone CR become LF. Nothing else changes, and cleaning twice changes nothing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable() or not any(_unwanted(char) for char in text):
        return text
    return "".join(char for char in text if not _unwanted(char))
