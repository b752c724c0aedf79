"""Gettext catalogues (zh_CN default, en), compiled from the .po files when loaded.

Only the .po sources are kept in the repository; compiling them in memory at start-up takes a
few milliseconds and means a catalogue can never be out of date with its source.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent
DOMAIN = "taizhang"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations() -> dict[str, gettext.GNUTranslations]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled: dict[str, gettext.GNUTranslations] = {}
    for language in LANGUAGES:
        with po_path(language).open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        compiled[language] = gettext.GNUTranslations(buffer)
    return compiled


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
