"""A lead unit's contact reads the co-units' answers for a task it leads (牵头汇总)."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_lead
from handlers.callbacks import CoUnitsView
from handlers.report import member_or_refuse, refusal
from handlers.routes import Routes
from storage.services import lead
from storage.services.people import Identity
from storage.services.reporting import ReportError

router = Routes("lead")


@router.callback_query(CoUnitsView.filter())
async def co_units(
    query: CallbackQuery, callback_data: CoUnitsView, session: AsyncSession, identity: Identity
) -> None:
    cb = callback_data
    if await member_or_refuse(query, identity, cb.unit) is None:
        return
    try:
        view = await lead.co_unit_answers(session, cb.round, cb.unit, cb.task)
    except ReportError as error:
        await query.answer(refusal(error, as_html=False), show_alert=True)
        return
    await query.answer()
    texts = render_lead.co_units_texts(view)
    for index, text in enumerate(texts):
        last = index == len(texts) - 1
        markup = render_lead.back_to_task_keyboard(cb.unit, cb.round, cb.task) if last else None
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)
