"""The 通报 of late units, sent as a Word document from the status screen.

Thin: the rules, and the check that the person is staff, live in storage.services (notice).
Viewers may download it too. Making it takes well under a second, so the press is answered
with a short "writing…" notice and the chat shows "sending a file" instead of a progress
message; when every unit reported on time there is nothing to announce, and the popup says so.
"""

from __future__ import annotations

import datetime as dt

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from handlers.staff_callbacks import NoticeAct
from storage.services import notice
from storage.services.errors import NotFound
from storage.services.notice import NoticeError, NoticeFile
from storage.services.staff import StaffError, StaffMember

router = Routes("staff_notice")


def caption(made: NoticeFile) -> str:
    data = made.data
    lines = [
        _("📣 Notice for {round}: {late} reported late, {missing} not reported.").format(
            round=data.round_name, late=made.late, missing=made.missing
        ),
        _("A Word document to check and edit (document number, date) before it is issued."),
    ]
    if made.before_deadline:
        lines.append(
            _(
                "⚠️ The deadline ({due}) has not passed yet: units that have not submitted "
                "are listed as not reported."
            ).format(due=data.due_date.isoformat())
        )
    return "\n".join(lines)


@router.callback_query(NoticeAct.filter(), IsStaff())
async def send_notice(
    query: CallbackQuery,
    callback_data: NoticeAct,
    session: AsyncSession,
    staff: StaffMember,
    bot: Bot,
    now: dt.datetime,
) -> None:
    try:
        made = await notice.late_notice(session, staff, callback_data.round, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(_("This round no longer exists."), show_alert=True)
        return
    except NoticeError:
        await query.answer(
            _("Every unit reported on time: there is nothing to announce."), show_alert=True
        )
        return
    await query.answer(_("Writing the notice…"))
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    await bot.send_document(
        chat_id, BufferedInputFile(made.payload, filename=made.name), caption=caption(made)
    )
