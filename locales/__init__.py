"""Gettext catalogues (zh_CN default, en), compiled from the .po files when loaded.

Only the .po sources are kept in the repository. Compiling one with Babel takes about 25 ms at
every start, so the result is kept in locales/__pycache__ under the source's hash: a catalogue
is never out of date with its source, and where that folder cannot be written (a read-only
install) it is compiled in memory each time.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import os
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent
CACHE_DIR = LOCALES_DIR / "__pycache__"
DOMAIN = "taizhang"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations() -> dict[str, gettext.GNUTranslations]:
    return {
        language: gettext.GNUTranslations(io.BytesIO(_compiled(language)))
        for language in LANGUAGES
    }


def _compiled(language: str) -> bytes:
    """The language's .mo: from the cache when its source is unchanged, else compiled."""
    source = po_path(language).read_bytes()
    stem = f"{DOMAIN}-{language}-"
    cached = CACHE_DIR / f"{stem}{hashlib.sha256(source).hexdigest()[:20]}.mo"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    mo = _compile(source, language)
    try:
        CACHE_DIR.mkdir(exist_ok=True)
        for stale in CACHE_DIR.glob(f"{stem}*.mo"):
            stale.unlink(missing_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(mo)
        partial.replace(cached)  # whole or not at all, should two processes start at once
    except OSError:
        pass  # a read-only install: compiled again at the next start
    return mo


def _compile(source: bytes, language: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(source), locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def language_for(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map a Telegram language_code (en, en-US, zh-hans, zh-CN …) to one of ours."""
    if not code:
        return default
    code = code.lower().replace("-", "_")
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


def gettext_for(language: str):
    return translations()[language if language in LANGUAGES else DEFAULT_LANGUAGE].gettext


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; it is translated when used."""
    return message
