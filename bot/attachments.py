"""A broadcast's file, given to Telegram once: sent into an office admin's chat, after which
Telegram knows it by a file id that every recipient's message reuses (the outbox then sends
only that id, never the file again).

`taizhang broadcast send --file` (bot/cli_broadcast.py) and the web console's compose form
(`attachment_uploader`, passed to the console as `OfficeActions.upload_attachment` by
bot/web_server.py where a bot runs) both upload through here. The upload is a direct Bot API
call, not an outbox message: the person composing waits for its file id, in their own chat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, InputFile
from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_, gettext_for
from storage.services import staff
from storage.services.staff import StaffMember

log = logging.getLogger(__name__)
UPLOAD_TIMEOUT = 300  # seconds: 50 MB over a slow office line
NOTE = N_("📎 {name}: attached to a broadcast being written in the office console.")


async def holding_chat(
    session: AsyncSession, member: StaffMember | None = None, staff_ids: Iterable[int] = ()
) -> int | None:
    """The chat to upload into: the admin's own, else the first admin's with a chat, else the
    first staff id of the settings (None when there is none)."""
    if member is not None and member.chat_id:
        return member.chat_id
    admins = [m for m in await staff.list_staff(session) if m.is_admin and m.chat_id]
    if admins:
        return admins[0].chat_id
    return next(iter(staff_ids), None)


async def upload(
    bot: Bot, chat_id: int, file: InputFile, kind: str, caption: str
) -> tuple[str, str]:
    """Send the file to `chat_id` as a photo or a document; returns (kind, file id). A photo
    Telegram refuses as one (its size, its proportions) goes as a document instead."""
    if kind == "photo":
        try:
            sent = await bot.send_photo(
                chat_id, file, caption=caption, parse_mode=None, request_timeout=UPLOAD_TIMEOUT
            )
            return "photo", sent.photo[-1].file_id
        except TelegramBadRequest as error:
            log.info("photo refused as a photo (%s): sending it as a document", error.message)
    sent = await bot.send_document(
        chat_id, file, caption=caption, parse_mode=None, request_timeout=UPLOAD_TIMEOUT
    )
    return "document", sent.document.file_id


def attachment_uploader(bot: Bot, staff_ids: Iterable[int] = (), default_language: str = "zh_CN"):
    """The web console's upload action: (session, member, web.app.Upload) → web.app.Uploaded,
    or web.app.UploadFailed with Telegram's answer."""
    from web.app import Uploaded, UploadFailed

    ids = tuple(staff_ids)

    async def upload_attachment(session: AsyncSession, member: StaffMember, given) -> Uploaded:
        chat_id = await holding_chat(session, member, ids)
        if chat_id is None:
            raise UploadFailed("no chat to upload into", no_chat=True)
        _ = gettext_for(member.language or default_language)
        file = BufferedInputFile(given.data, filename=given.name)
        try:
            kind, file_id = await upload(
                bot, chat_id, file, given.kind, _(NOTE).format(name=given.name)
            )
        except TelegramAPIError as error:
            raise UploadFailed(error.message) from None
        except (OSError, TimeoutError) as error:  # the Bot API out of reach
            raise UploadFailed(str(error) or type(error).__name__) from None
        return Uploaded(kind, file_id)

    return upload_attachment
