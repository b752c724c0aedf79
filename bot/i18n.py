"""aiogram's gettext machinery fed with our catalogues."""

from __future__ import annotations

import gettext
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from locales import DOMAIN, LOCALES_DIR, language_for, translations


class CatalogI18n(I18n):
    def __init__(self, default_locale: str = "zh_CN"):
        super().__init__(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(translations())

    @contextmanager
    def context(self) -> Generator[None, None, None]:
        # aiogram's gettext looks the instance up on I18n itself; a subclass would otherwise
        # register it under its own context variable, where nobody looks.
        token = I18n.set_current(self)
        try:
            yield
        finally:
            I18n.reset_current(token)


class LanguageMiddleware(I18nMiddleware):
    """The user's chosen language when they chose one, else the one Telegram reports."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("chosen_language")
        if chosen:
            return chosen
        user: User | None = data.get("event_from_user")
        return language_for(user.language_code if user else None, self.i18n.default_locale)
