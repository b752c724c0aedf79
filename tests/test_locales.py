"""locales: catalogues compiled from the .po sources, kept compiled between starts."""

from __future__ import annotations

import gettext
import io
import shutil

import pytest

import locales


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """The real zh_CN catalogue, copied where the test may change it, and an empty cache."""
    copied = tmp_path / "zh_CN.po"
    shutil.copy(locales.po_path("zh_CN"), copied)
    monkeypatch.setattr(locales, "po_path", lambda language: tmp_path / f"{language}.po")
    monkeypatch.setattr(locales, "CACHE_DIR", tmp_path / "cache")
    return copied


def said(mo: bytes, message: str) -> str:
    return gettext.GNUTranslations(io.BytesIO(mo)).gettext(message)


def test_a_compiled_catalogue_is_kept_and_read_back(sources) -> None:
    first = locales._compiled("zh_CN")
    [kept] = (sources.parent / "cache").glob("*.mo")
    assert kept.read_bytes() == first and said(first, "Saved.") == "已保存。"
    kept.write_bytes(first.replace("已保存".encode(), "已存好".encode()))
    assert said(locales._compiled("zh_CN"), "Saved.") == "已存好。"  # read, not compiled


def test_a_changed_source_is_compiled_again_never_stale(sources) -> None:
    locales._compiled("zh_CN")
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace('msgstr "已保存。"', 'msgstr "存好了。"'), encoding="utf-8")
    assert said(locales._compiled("zh_CN"), "Saved.") == "存好了。"
    assert len(list((sources.parent / "cache").glob("taizhang-zh_CN-*.mo"))) == 1


def test_where_nothing_can_be_written_it_is_compiled_in_memory(sources, monkeypatch) -> None:
    blocked = sources.parent / "a file"
    blocked.write_text("")
    monkeypatch.setattr(locales, "CACHE_DIR", blocked / "cache")  # under a file: mkdir fails
    assert said(locales._compiled("zh_CN"), "Saved.") == "已保存。"
