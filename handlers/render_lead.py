"""What a lead unit reads of its co-units' answers for one task."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import TaskAct
from handlers.render import MESSAGE_LIMIT, STATUS_MARKS, esc, status_label
from storage.services.lead import CoAnswer, CoUnits

ANSWER_SHOWN = 600  # a co-unit's answer, cut so that several fit on a phone screen


def co_units_texts(view: CoUnits) -> list[str]:
    """One or more messages (each within Telegram's limit), the co-units in assignment order."""
    header = _("Task {number} · {title}: what the co-units answered ({answered} of {total})")
    lines = [
        "<b>"
        + esc(
            header.format(
                number=view.task_number,
                title=view.task_title,
                answered=view.answered,
                total=len(view.answers),
            )
        )
        + "</b>"
    ]
    if not view.answers:
        lines.append(_("No other unit answers for this task."))
    said = [a for a in view.answers if a.says_something]
    silent = [a.unit_name for a in view.answers if not a.says_something]
    blocks = [_answer_lines(answer) for answer in said]
    if silent:
        blocks.append(_("Nothing written yet: {units}").format(units=esc("、".join(silent))))
    messages = ["\n".join(lines)]
    for block in blocks:  # whole blocks only: a cut must not split an HTML tag
        if len(messages[-1]) + 2 + len(block) > MESSAGE_LIMIT:
            messages.append(block)
        else:
            messages[-1] += "\n\n" + block
    return messages


def _answer_lines(answer: CoAnswer) -> str:
    mark = STATUS_MARKS.get(answer.status, "")
    where = (
        _("submitted, version {version}").format(version=answer.submitted_version)
        if answer.submitted_version is not None
        else _("draft, not submitted")
    )
    head = f"<b>{esc(answer.unit_name)}</b> · {mark} {status_label(answer.status)} · {where}"
    if answer.changed_since:
        head += "\n<i>" + _("changed since, not yet submitted") + "</i>"
    body = answer.text or answer.reason
    if not body:
        return head
    if len(body) > ANSWER_SHOWN:
        body = body[:ANSWER_SHOWN] + "…"
    return head + f"\n<blockquote>{esc(body)}</blockquote>"


def back_to_task_keyboard(unit_id: int, round_id: int, task_id: int) -> InlineKeyboardMarkup:
    back = TaskAct(act="o", unit=unit_id, round=round_id, task=task_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("◀ Back to the task"), callback_data=back)]]
    )
