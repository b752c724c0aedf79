"""The composition root: settings, database, Bot and Dispatcher are built here and passed on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeDefault, MenuButtonCommands
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.fsm import build_storage
from bot.i18n import CatalogI18n, LanguageMiddleware
from bot.inbox import Inbox
from bot.middlewares import DatabaseSession, KeepResponseTypes, SaveBeforeReplying
from bot.settings import Settings, require_token
from handlers import build_router
from handlers.staff_access import COMMON_COMMANDS, show_staff_menu
from locales import gettext_for
from storage.db import make_engine, make_session_factory
from storage.services import staff
from storage.types import utcnow

Clock = Callable[[], dt.datetime]


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    bot: Bot
    dispatcher: Dispatcher
    inbox: Inbox

    async def close(self) -> None:
        await self.bot.session.close()
        await self.dispatcher.storage.close()
        await self.engine.dispose()


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    session.middleware(SaveBeforeReplying())
    session.middleware(KeepResponseTypes())
    return Bot(
        token=require_token(settings),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(
    settings: Settings, sessions: async_sessionmaker, clock: Clock = utcnow
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=build_storage(settings.redis_url, sessions),
        settings=settings,
        sessions=sessions,
        clock=clock,
        default_locale=settings.default_locale,
        staff_ids=tuple(settings.staff_ids),
    )
    # Outer middlewares: open the session (skipping an update already handled), then read the
    # dialog state (aiogram's FSM middleware, moved after ours so that it reads in the update's
    # session), then pick the language. The inbox feeds each person's updates one at a time,
    # in order.
    outer = dispatcher.update.outer_middleware
    outer.unregister(dispatcher.fsm)
    outer(DatabaseSession(sessions, settings.staff_ids, clock))
    outer(dispatcher.fsm)
    LanguageMiddleware(CatalogI18n(settings.default_locale)).setup(dispatcher)
    dispatcher.include_router(build_router())
    return dispatcher


def build_app(settings: Settings, clock: Clock = utcnow) -> App:
    """`clock` is what the bot takes for now (deadlines, receipts); tests pass their own."""
    # A connection for each update handled at once, and for intake, the worker and the jobs.
    engine = make_engine(
        settings.effective_database_url, pool_size=settings.updates.concurrency + 4
    )
    sessions = make_session_factory(engine)
    dispatcher = build_dispatcher(settings, sessions, clock)
    bot = build_bot(settings)
    inbox = Inbox(
        bot,
        dispatcher,
        sessions,
        settings.updates,
        staff_ids=settings.staff_ids,
        default_locale=settings.default_locale,
        clock=clock,
    )
    return App(settings, engine, sessions, bot, dispatcher, inbox)


async def register_commands(bot: Bot, default_locale: str, sessions=None) -> None:
    """The command menu in both languages (users whose language we lack get the default),
    and, given the database, each staff chat's own menu with the staff commands."""
    for language_code, locale in ((None, default_locale), ("zh", "zh_CN"), ("en", "en")):
        _ = gettext_for(locale)
        commands = [
            BotCommand(command=name, description=_(text)) for name, text in COMMON_COMMANDS
        ]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=language_code
        )
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    if sessions is not None:
        async with sessions() as session:
            members = await staff.list_staff(session)
        for member in members:
            await show_staff_menu(bot, member, default_locale)


async def sync_staff(sessions, staff_ids: list[int]) -> None:
    """STAFF_IDS into the staff table, so that the services alone decide who is staff."""
    async with sessions() as session:
        await staff.sync_configured(session, staff_ids)
        await session.commit()
