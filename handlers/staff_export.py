"""/export: the consolidated ledger, a unit's form, the archive, as documents in the chat.

Thin: the rules, and the check that the person is staff, live in storage.services
(export_files). While a file is made, a progress message is edited as it goes and the chat
shows "sending a file"; a file over Telegram's upload limit is cut into parts (an archive) or
refused with the command line that makes it at the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from aiogram import Bot, F
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, FSInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_export
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse, staff_refusal
from handlers.staff_callbacks import ExportAct
from storage.services import export_files
from storage.services.dialog import update_session
from storage.services.errors import NotFound
from storage.services.export_files import ExportError, Step
from storage.services.staff import StaffError, StaffMember

log = logging.getLogger(__name__)

router = Routes("staff_export")

# Telegram: bots send files up to 50 MB. Larger archives go in parts; tests lower it.
UPLOAD_LIMIT = 50 * 1024 * 1024
PROGRESS_EVERY = 1.5  # seconds between edits of the progress message (≈1 message/s a chat)
CHAT_ACTION_EVERY = 4.5  # Telegram shows a chat action for 5 s


@router.message(Command("export"), IsStaff())
async def export_command(message: Message, session: AsyncSession, staff: StaffMember) -> None:
    try:
        choice = await export_files.export_round_choice(session, staff)
    except StaffError as error:
        await refuse(message, error)
        return
    except NotFound:
        await message.answer(render_export.no_rounds_text())
        return
    await message.answer(
        render_export.menu_text(choice), reply_markup=render_export.menu_keyboard(choice)
    )


@router.callback_query(ExportAct.filter(F.act == "menu"), IsStaff())
async def show_menu(
    query: CallbackQuery, callback_data: ExportAct, session: AsyncSession, staff: StaffMember
) -> None:
    try:
        choice = await export_files.export_round_choice(session, staff, callback_data.round)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_export.no_rounds_text(), show_alert=True)
        return
    await query.answer()
    await _show(query, render_export.menu_text(choice), render_export.menu_keyboard(choice))


@router.callback_query(ExportAct.filter(F.act == "rounds"), IsStaff())
async def choose_round(
    query: CallbackQuery, callback_data: ExportAct, session: AsyncSession, staff: StaffMember
) -> None:
    try:
        choices = await export_files.export_rounds(session, staff)
    except StaffError as error:
        await refuse(query, error)
        return
    await query.answer()
    keyboard = render_export.rounds_keyboard(choices, callback_data.page, callback_data.round)
    await _show(query, render_export.rounds_text(), keyboard)


@router.callback_query(ExportAct.filter(F.act == "units"), IsStaff())
async def choose_unit(
    query: CallbackQuery, callback_data: ExportAct, session: AsyncSession, staff: StaffMember
) -> None:
    cb = callback_data
    try:
        choice = await export_files.export_round_choice(session, staff, cb.round)
        units = await export_files.export_units(session, staff, cb.round)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_export.no_rounds_text(), show_alert=True)
        return
    await query.answer()
    keyboard = render_export.units_keyboard(cb.round, units, cb.page)
    await _show(query, render_export.units_text(choice), keyboard)


@router.callback_query(ExportAct.filter(F.act == "file"), IsStaff())
async def make_file(
    query: CallbackQuery,
    callback_data: ExportAct,
    session: AsyncSession,
    staff: StaffMember,
    bot: Bot,
    now,
) -> None:
    cb = callback_data
    try:
        choice = await export_files.export_round_choice(session, staff, cb.round)
        what = export_files.What(cb.what)
    except StaffError as error:
        await refuse(query, error)
        return
    except (NotFound, ValueError):
        await query.answer(render_export.no_rounds_text(), show_alert=True)
        return
    unit_name = await _unit_name(session, cb.unit) if what is export_files.What.UNIT else ""
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    heading = render_export.progress_heading(what, choice.name, unit_name)
    shown = await bot.send_message(chat_id, render_export.progress_text(heading, None))
    board = ProgressBoard(bot, shown, heading)
    with tempfile.TemporaryDirectory(prefix="taizhang-export-") as folder:
        try:
            async with board.running():
                exported = await export_files.export_round(
                    session,
                    staff,
                    cb.round,
                    what,
                    Path(folder),
                    unit_id=cb.unit,
                    part_limit=UPLOAD_LIMIT,
                    progress=board.update,
                    now=now,
                )
        except StaffError as error:
            await board.say(f"{heading}\n⚠️ {staff_refusal(error)}")
            return
        except ExportError as error:
            await board.say(render_export.failed_text(heading, error, cb.round, what.value))
            return
        except NotFound:
            await board.say(render_export.not_found_text(heading))
            return
        for number, path in enumerate(exported.files, 1):
            await board.say(render_export.sending_text(heading, number, len(exported.files)))
            await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
            await bot.send_document(
                chat_id,
                FSInputFile(path, filename=path.name),
                caption=render_export.caption(exported, number),
            )
    await board.say(render_export.done_text(heading, exported))


async def _unit_name(session: AsyncSession, unit_id: int) -> str:
    from storage.models import Unit

    unit = await session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else ""


async def _show(query: CallbackQuery, text: str, keyboard) -> None:
    """The screen in place of the pressed one (a new message when it cannot be edited)."""
    if query.message is not None:
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):  # the same screen pressed again
                return
        except TelegramAPIError:
            pass
    await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)


class ProgressBoard:
    """The progress message, edited every PROGRESS_EVERY seconds when the step changed, and the
    chat action kept on; `update(step)` may be called from the worker thread.

    The edits run in a task of their own, with no database session in its context: a reply
    commits the update's session first (bot.middlewares.SaveBeforeReplying), and that must not
    happen from a second task while the export reads the round.
    """

    def __init__(self, bot: Bot, message: Message, heading: str):
        self.bot, self.message, self.heading = bot, message, heading
        self.step: Step | None = None
        self.shown = message.text or ""
        self._stop = asyncio.Event()

    def update(self, step: Step) -> None:
        self.step = step  # one assignment: safe from another thread

    async def _edit(self, text: str) -> None:
        if text == self.shown:
            return
        self.shown = text
        try:
            await self.message.edit_text(text)
        except TelegramAPIError as error:  # a progress line is not worth failing the export
            log.info("progress message not edited: %s", error)

    async def _tick(self) -> None:
        chat_id, last_action = self.message.chat.id, -CHAT_ACTION_EVERY
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            if loop.time() - last_action >= CHAT_ACTION_EVERY:
                last_action = loop.time()
                with contextlib.suppress(TelegramAPIError):
                    await self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
            await self._edit(render_export.progress_text(self.heading, self.step))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), PROGRESS_EVERY)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        context = contextvars.copy_context()
        context.run(update_session.set, None)
        ticker = asyncio.create_task(self._tick(), context=context)
        try:
            yield
        finally:
            self._stop.set()
            await ticker  # let an edit under way finish: the next one must come after it

    async def say(self, text: str) -> None:
        """Once the ticker has stopped: the message's last word (or what is being sent)."""
        await self._edit(text)
