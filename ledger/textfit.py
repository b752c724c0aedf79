"""How many lines a text takes in a table cell of a given width: the estimate both printed
forms paginate by (ledger.docx_forms, ledger.xlsx_ledger).

A Chinese character is one em wide in every CJK font, so Chinese text is measured exactly.
Latin letters and digits are measured as LibreOffice prints them on a server with the usual
fonts (DejaVu, about 0.64 em a digit), wider than Times New Roman in Word (0.5 em): the
estimate errs towards one line more, never fewer, where a cell holds many digits. Between a
Chinese character and a Latin one both Word and LibreOffice add a little space (about
0.3 em). A line does not start with a closing mark (”）》…); 。，、 may hang past the edge,
as both programs let them. A Latin word or number is not broken.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

# No line starts with these; the character before is taken down with them …
_NO_START = frozenset("”’）》」』】〕〉》？！；：…·%）]}>!?;:")
# … except these, which hang past the line's end in Word and LibreOffice alike.
_HANGING = frozenset("，。、．,.")
# No line ends with these: they go down to the next line.
_NO_END = frozenset("“‘（《「『【〔〈([{")
_AUTOSPACE = 0.3  # em, between a CJK character and a Latin letter or digit


@functools.lru_cache(maxsize=4096)
def char_width(ch: str) -> float:
    """The width of a character in em."""
    if ch.isascii():
        if ch == " ":
            return 0.32
        if ch.isdigit():
            return 0.64
        if ch.isupper():
            return 0.74
        if ch.isalpha():
            return 0.6
        if ch == "\t":
            return 2.0
        return 0.42
    if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
        return 1.0
    return 0.6


@functools.lru_cache(maxsize=4096)
def _is_cjk(ch: str) -> bool:
    return not ch.isascii() and char_width(ch) == 1.0


def _tokens(text: str) -> list[tuple[str, float]]:
    """Characters, with a Latin word or number kept as one unbreakable token."""
    tokens: list[tuple[str, float]] = []
    word = ""
    for ch in text:
        if ch.isascii() and (ch.isalnum() or (word and ch in ".,:/-_%@")):
            word += ch
            continue
        if word:
            tokens.append((word, sum(char_width(c) for c in word)))
            word = ""
        tokens.append((ch, char_width(ch)))
    if word:
        tokens.append((word, sum(char_width(c) for c in word)))
    return tokens


def paragraph_lines(text: str, width_em: float, first_indent_em: float = 0.0) -> int:
    """Lines one paragraph takes in a column `width_em` wide (at least one)."""
    if not text:
        return 1
    if len(text) + first_indent_em <= width_em and all(_is_cjk(ch) for ch in text):
        return 1  # the common case, quickly
    capacity = max(width_em, 1.0)
    lines = 1
    x = first_indent_em
    line: list[tuple[str, float]] = []
    for token, width in _tokens(text):
        gap = 0.0
        if line:
            before = line[-1][0][-1]
            if _is_cjk(before) != _is_cjk(token[0]) and (before.isalnum() or token[0].isalnum()):
                gap = _AUTOSPACE
        if x + gap + width <= capacity + 1e-9:
            x += gap + width
            line.append((token, width))
            continue
        if token in _HANGING and line:
            x += width
            line.append((token, width))
            continue
        # A new line: a closing mark takes the character before it down; an opening mark at
        # the end of the line goes down with what follows it.
        carried: list[tuple[str, float]] = []
        if token in _NO_START and len(line) > 1:
            carried.append(line.pop())
        while len(line) > 1 and line[-1][0] in _NO_END:
            carried.insert(0, line.pop())
        if line:
            lines += 1
        x = sum(w for _, w in carried)
        if x + width > capacity:  # a word longer than a line is cut where the line ends
            whole = int((x + width) // capacity)
            lines += whole
            x = x + width - whole * capacity
            line = [(token, width)] if x else []
            continue
        x += width
        line = [*carried, (token, width)]
    if not line and lines > 1 and x == 0:
        lines -= 1
    return lines


def cell_lines(paragraphs: Iterable[str], width_em: float) -> int:
    """Lines a cell of these paragraphs takes (an empty cell: one)."""
    return sum(paragraph_lines(p, width_em) for p in paragraphs) or 1
