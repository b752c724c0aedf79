"""clean_text: control characters and bidi overrides out, everything else untouched."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ledger.text import BIDI_CONTROLS, clean_text


def test_nul_and_other_controls_are_removed_newline_and_tab_kept() -> None:
    assert clean_text("已完成\x00第一阶段\x07\x1b[31m\x7f\x85") == "已完成第一阶段[31m"
    assert clean_text("一\t二\n三") == "一\t二\n三"


def test_line_endings_become_newlines() -> None:
    assert clean_text("一\r\n二\r三\n四") == "一\n二\n三\n四"
    assert clean_text("\r\r\n") == "\n\n"


def test_bidi_overrides_and_isolates_are_removed() -> None:
    assert clean_text("文件\u202egpj.exe") == "文件gpj.exe"
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert clean_text(f"a{char}b") == "ab"
    assert len(BIDI_CONTROLS) == 9


def test_ordinary_text_is_left_alone() -> None:
    text = "兴庆区医疗保障局：已完成 12 项，emoji 👍🏽, zero-width joiner 👨\u200d👩, ẞ é"
    assert clean_text(text) == text
    assert clean_text("") == ""


def test_lone_surrogates_are_removed() -> None:
    assert clean_text("a\ud800b") == "ab"


@given(st.text())
def test_the_result_has_nothing_unwanted(text: str) -> None:
    cleaned = clean_text(text)
    assert "\r" not in cleaned
    for char in cleaned:
        assert char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs")
        assert char not in BIDI_CONTROLS
    cleaned.encode("utf-8")  # storable


@given(st.text())
def test_cleaning_twice_changes_nothing(text: str) -> None:
    assert clean_text(clean_text(text)) == clean_text(text)


@given(st.text())
def test_only_unwanted_characters_go(text: str) -> None:
    """What stays is the input in order, minus removed characters (CR counted as LF)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = [
        c
        for c in normalised
        if c in "\n\t" or (c not in BIDI_CONTROLS and unicodedata.category(c) not in ("Cc", "Cs"))
    ]
    assert clean_text(text) == "".join(kept)
