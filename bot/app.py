"""The composition root: settings, database, Bot and Dispatcher are built here and passed on."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.i18n import CatalogI18n, LanguageMiddleware
from bot.settings import Settings, require_token
from handlers import build_router
from storage.db import make_engine, make_session_factory


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    bot: Bot
    dispatcher: Dispatcher

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        token=require_token(settings),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(settings: Settings, sessions: async_sessionmaker) -> Dispatcher:
    dispatcher = Dispatcher(settings=settings, sessions=sessions)
    LanguageMiddleware(CatalogI18n(settings.default_locale)).setup(dispatcher)
    dispatcher.include_router(build_router())
    return dispatcher


def build_app(settings: Settings) -> App:
    engine = make_engine(settings.effective_database_url)
    sessions = make_session_factory(engine)
    return App(
        settings, engine, sessions, build_bot(settings), build_dispatcher(settings, sessions)
    )
