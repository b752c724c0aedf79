"""Service results as Telegram messages: HTML text (every user text escaped) and keyboards.

Messages stay inside Telegram's limits: long texts are folded behind a button, and a very long
answer is sent in parts rather than cut.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Collection, Sequence
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import (
    STATUS_LETTERS,
    CoUnitsView,
    OverviewPage,
    RoundPick,
    SubmitAct,
    TaskAct,
    UnitPick,
)
from storage.services.people import Membership
from storage.services.reporting import Card, Overview, Receipt
from storage.services.review import DecisionLine, ReviewState

MESSAGE_LIMIT = 4096
FOLD_AT = 300  # characters of 主要内容 shown before "more"
ANSWER_SHOWN = 2500  # characters of an answer shown on the card
PAGE_SIZE = 8
RETURNED_MARK = "↩️"

NAMES_BUDGET = 700  # characters of unit names in one list on a staff screen
STATUS_MARKS = {
    "not_started": "⬜",
    "in_progress": "🟡",
    "done": "✅",
    "not_applicable": "➖",
}


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def name_list(names: list[str], budget: int = NAMES_BUDGET) -> str:
    """Names escaped and joined, cut with "…and N more" once they pass `budget` characters."""
    separator = _(", ")
    shown: list[str] = []
    used = 0
    for index, name in enumerate(names):
        name = esc(name)
        if shown and used + len(name) > budget:
            more = _(" …and {count} more").format(count=len(names) - index)
            return separator.join(shown) + more
        shown.append(name)
        used += len(name) + len(separator)
    return separator.join(shown)


def status_label(status: str) -> str:
    return {
        "not_started": _("Not started"),
        "in_progress": _("In progress"),
        "done": _("Done"),
        "not_applicable": _("Not applicable"),
    }[status]


def role_label(role: str) -> str:
    return _("lead") if role == "lead" else _("responsible")


def local_time(moment: dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def due_line(overview: Overview) -> str:
    return _("Deadline: {date}").format(date=overview.due_date.isoformat())


# ------------------------------------------------------------------ choosing


def units_keyboard(memberships: list[Membership]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for membership in memberships:
        builder.button(text=membership.unit_name, callback_data=UnitPick(unit=membership.unit_id))
    builder.adjust(1)
    return builder.as_markup()


def rounds_keyboard(unit_id: int, rounds) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for round_ in rounds:
        label = f"{round_.name} · {round_.due_date.isoformat()}"
        builder.button(text=label, callback_data=RoundPick(unit=unit_id, round=round_.id))
    builder.adjust(1)
    return builder.as_markup()


# ------------------------------------------------------------------ overview


def _returned_line(note: DecisionLine) -> str:
    text = _("<b>Returned by the office:</b> {comment}").format(comment=esc(note.comment))
    return f"{RETURNED_MARK} {text}"


def returned_lines(review: ReviewState | None) -> list[str]:
    """The office's returns in force, for the top of the task list."""
    if review is None or not review.returns:
        return []
    lines = [_returned_line(note) for note in review.whole_returns]
    numbers = review.returned_task_numbers
    if numbers:
        text = _("<b>Returned by the office:</b> tasks {numbers}, see each task's card")
        lines.append(f"{RETURNED_MARK} " + text.format(numbers=_(", ").join(map(str, numbers))))
    lines.append(_("Please correct and submit again."))
    return lines


def overview_text(overview: Overview, page: int, review: ReviewState | None = None) -> str:
    lines = [
        f"<b>{esc(overview.unit_name)}</b>",
        f"{esc(overview.round_name)} · {due_line(overview)}",
        _("Answered {answered} of {total}").format(
            answered=overview.answered, total=overview.total
        ),
    ]
    if overview.submission is not None:
        lines.append(
            _("Submitted, version {version} (receipt {number})").format(
                version=overview.submission.version, number=overview.submission.receipt_no
            )
        )
        if overview.pending_changes:
            changed = _("Changes not submitted (tasks {numbers})").format(
                numbers=", ".join(map(str, overview.pending_changes))
            )
            lines.append(f"<b>{changed}</b>")
    lines += returned_lines(review)
    returned = review.returned_task_ids if review else set()
    lines.append("")
    start = page * PAGE_SIZE
    for line in overview.lines[start : start + PAGE_SIZE]:
        mark = STATUS_MARKS[line.status] if line.answered or line.status != "not_started" else "⬜"
        back = f" {RETURNED_MARK}" if line.task_id in returned else ""
        lines.append(f"{mark} {line.number}. {esc(line.title)} · {role_label(line.role)}{back}")
    pages = page_count(overview)
    if pages > 1:
        lines.append("")
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    return "\n".join(lines)


def page_count(overview: Overview) -> int:
    return max(1, -(-overview.total // PAGE_SIZE))


def overview_keyboard(
    overview: Overview, unit_id: int, page: int, returned: Collection[int] = ()
) -> InlineKeyboardMarkup:
    """`returned`: the ids of the tasks the office returned, marked on their buttons."""
    builder = InlineKeyboardBuilder()
    start = page * PAGE_SIZE
    round_id = overview.round_id
    for line in overview.lines[start : start + PAGE_SIZE]:
        mark = RETURNED_MARK if line.task_id in returned else STATUS_MARKS[line.status]
        builder.row(
            InlineKeyboardButton(
                text=f"{mark} {line.number}. {line.title}",
                callback_data=TaskAct(
                    act="o", unit=unit_id, round=round_id, task=line.task_id
                ).pack(),
            )
        )
    pages = page_count(overview)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_page_button("«", unit_id, round_id, page - 1))
        if page + 1 < pages:
            nav.append(_page_button("»", unit_id, round_id, page + 1))
        builder.row(*nav)
    first = overview.first_unanswered
    if first is not None:
        builder.row(
            InlineKeyboardButton(
                text=_("▶ First unanswered: {number}").format(number=first.number),
                callback_data=TaskAct(
                    act="o", unit=unit_id, round=round_id, task=first.task_id
                ).pack(),
            )
        )
    builder.row(
        InlineKeyboardButton(
            text=_("📄 Preview the form"),
            callback_data=SubmitAct(act="pv", unit=unit_id, round=round_id).pack(),
        ),
        InlineKeyboardButton(
            text=_submit_label(overview),
            callback_data=SubmitAct(act="ask", unit=unit_id, round=round_id).pack(),
        ),
    )
    return builder.as_markup()


def _submit_label(overview: Overview) -> str:
    if overview.pending_changes:
        return _("📨 Submit the changes")
    return _("📨 Submit again") if overview.submission else _("📨 Submit")


def _page_button(text: str, unit_id: int, round_id: int, page: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=OverviewPage(unit=unit_id, round=round_id, page=page).pack()
    )


# ------------------------------------------------------------------ the task card


def _label(text: str) -> str:
    return f"<b>{text}:</b>"


def card_text(card: Card, *, unfolded: bool = False, returned: Sequence[DecisionLine] = ()) -> str:
    """`returned`: the office's returns of this task in force, each with its comment."""
    header = _("Task {number}").format(number=card.number)
    position = _("{position} of {total}").format(position=card.position, total=card.total)
    lines = [f"<b>{header}</b> · {position} · {role_label(card.role)}"]
    lines += [_returned_line(note) for note in returned]
    if card.item:
        key_work = _("Key work")
        lines.append(f"{_label(key_work)} {esc(card.item)}")
    if card.name:
        lines.append(f"<b>{esc(card.name)}</b>")
    content = card.content
    if not unfolded and len(content) > FOLD_AT:
        content = content[:FOLD_AT] + "…"
    content_label, indicator_label, due_label = _("Content"), _("Indicator"), _("Due")
    status_name, reason_label, progress_label = _("Status"), _("Reason"), _("Progress")
    lines.append(f"{_label(content_label)} {esc(content)}")
    if unfolded and card.indicator:
        lines.append(f"{_label(indicator_label)} {esc(card.indicator)}")
    if card.due_text:
        lines.append(f"{_label(due_label)} {esc(card.due_text)}")
    lines.append("")
    mark = STATUS_MARKS[card.status]
    lines.append(f"{_label(status_name)} {mark} {status_label(card.status)}")
    if card.status == "not_applicable" and card.reason:
        lines.append(f"{_label(reason_label)} {esc(card.reason)}")
    lines.append(_label(progress_label))
    lines.append(_answer_block(card.text))
    if card.evidence:
        lines.append(_("📎 Evidence: {files}").format(files=esc("、".join(card.evidence))))
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _answer_block(text: str) -> str:
    if not text:
        nothing = _("(nothing written yet)")
        return f"<i>{nothing}</i>"
    if len(text) <= ANSWER_SHOWN:
        return f"<blockquote>{esc(text)}</blockquote>"
    shown = esc(text[:ANSWER_SHOWN])
    more = _("… {count} characters in all: press “Full answer” to read it.").format(
        count=len(text)
    )
    return f"<blockquote>{shown}</blockquote>\n<i>{more}</i>"


def card_folds(card: Card) -> bool:
    return len(card.content) > FOLD_AT or bool(card.indicator)


def card_keyboard(card: Card, unit_id: int, *, unfolded: bool = False) -> InlineKeyboardMarkup:
    def act(code: str, arg: str = "", version: int = -1) -> str:
        return TaskAct(
            act=code,
            unit=unit_id,
            round=card.round_id,
            task=card.task_id,
            arg=arg,
            version=version,
        ).pack()

    statuses = [
        InlineKeyboardButton(
            text=("• " if card.status == status else "") + status_label(status),
            callback_data=act("s", STATUS_LETTERS[status], card.version),
        )
        for status in ("not_started", "in_progress", "done", "not_applicable")
    ]
    rows = [statuses[:2], statuses[2:]]
    write_row = [InlineKeyboardButton(text=_("✍️ Write progress"), callback_data=act("w"))]
    if card.has_previous_answer:
        write_row.append(
            InlineKeyboardButton(
                text=_("↩️ Use last round's answer"), callback_data=act("p", version=card.version)
            )
        )
    rows.append(write_row)
    extra = []
    if card_folds(card) and not unfolded:
        extra.append(InlineKeyboardButton(text=_("More…"), callback_data=act("m")))
    if len(card.text) > ANSWER_SHOWN:
        extra.append(InlineKeyboardButton(text=_("Full answer"), callback_data=act("f")))
    if extra:
        rows.append(extra)
    if card.role == "lead":
        co_units = CoUnitsView(unit=unit_id, round=card.round_id, task=card.task_id).pack()
        rows.append([InlineKeyboardButton(text=_("👥 Co-units' answers"), callback_data=co_units)])
    nav = []
    if card.previous_task_id:
        nav.append(
            InlineKeyboardButton(
                text=_("◀ Previous"),
                callback_data=TaskAct(
                    act="o", unit=unit_id, round=card.round_id, task=card.previous_task_id
                ).pack(),
            )
        )
    nav.append(
        InlineKeyboardButton(
            text=_("📋 List"),
            callback_data=OverviewPage(
                unit=unit_id, round=card.round_id, page=(card.position - 1) // PAGE_SIZE
            ).pack(),
        )
    )
    if card.next_task_id:
        nav.append(
            InlineKeyboardButton(
                text=_("Skip ▶")
                if not card.text and card.status == "not_started"
                else _("Next ▶"),
                callback_data=TaskAct(
                    act="o", unit=unit_id, round=card.round_id, task=card.next_task_id
                ).pack(),
            )
        )
    rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def writing_keyboard(
    unit_id: int, round_id: int, task_id: int, version: int
) -> InlineKeyboardMarkup:
    """Done, and Clear and rewrite for the answer's `version` (it asks before clearing)."""

    def act(code: str, version: int = -1) -> str:
        return TaskAct(
            act=code, unit=unit_id, round=round_id, task=task_id, version=version
        ).pack()

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Done"), callback_data=act("d")),
                InlineKeyboardButton(
                    text=_("🗑 Clear and rewrite"), callback_data=act("c", version)
                ),
            ]
        ]
    )


def clear_question(card: Card) -> str:
    """Asked in place before an answer is cleared."""
    question = _("Clear the progress of task {number} and write it anew?").format(
        number=card.number
    )
    lines = [f"<b>{question}</b>"]
    if card.text:
        lines.append(
            _("The {count} characters written so far will be removed:").format(
                count=len(card.text)
            )
        )
        shown = card.text if len(card.text) <= 200 else card.text[:200] + "…"
        lines.append(f"<blockquote>{esc(shown)}</blockquote>")
    return "\n".join(lines)


def clear_keyboard(card: Card, unit_id: int) -> InlineKeyboardMarkup:
    def act(code: str, version: int = -1) -> str:
        return TaskAct(
            act=code, unit=unit_id, round=card.round_id, task=card.task_id, version=version
        ).pack()

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🗑 Yes, clear it"), callback_data=act("y", card.version)
                ),
                InlineKeyboardButton(text=_("Cancel"), callback_data=act("n")),
            ]
        ]
    )


def split_for_messages(text: str, limit: int = 3500) -> list[str]:
    """Split a long answer into parts that each fit a message, at line ends where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


# ------------------------------------------------------------------ submitting


def confirm_text(overview: Overview) -> str:
    lines = [
        _("Submit the report of <b>{unit}</b> for {round}?").format(
            unit=esc(overview.unit_name), round=esc(overview.round_name)
        ),
        _("Answered {answered} of {total}").format(
            answered=overview.answered, total=overview.total
        ),
    ]
    unanswered = overview.unanswered
    if unanswered:
        numbers = ", ".join(str(line.number) for line in unanswered)
        lines.append(_("Not answered yet: tasks {numbers}").format(numbers=numbers))
    return "\n".join(lines)


def confirm_keyboard(unit_id: int, round_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Yes, submit"),
                    callback_data=SubmitAct(act="ok", unit=unit_id, round=round_id).pack(),
                ),
                InlineKeyboardButton(
                    text=_("« Back"),
                    callback_data=OverviewPage(unit=unit_id, round=round_id).pack(),
                ),
            ]
        ]
    )


def receipt_text(receipt: Receipt, unit_name: str, round_name: str, timezone: str) -> str:
    when = local_time(receipt.submitted_at, timezone)
    timing = _("on time") if receipt.on_time else _("late")
    lines = [
        _("📨 Receipt {number}").format(number=receipt.number),
        f"{esc(unit_name)} · {esc(round_name)}",
        _("Submitted {when} ({timing}), version {version}").format(
            when=when, timing=timing, version=receipt.version
        ),
    ]
    if not receipt.first:
        if receipt.changes:
            lines.append(
                _("Changes sent: tasks {numbers}").format(
                    numbers=", ".join(map(str, receipt.changes))
                )
            )
        elif receipt.answers_return:
            lines.append(_("Sent again unchanged, as the office asked you to check it."))
        else:
            lines.append(_("Nothing changed since the last submission."))
    if receipt.unanswered:
        lines.append(
            _("Still unanswered: tasks {numbers}").format(
                numbers=", ".join(map(str, receipt.unanswered))
            )
        )
    lines.append(_("You can still correct answers until the round closes."))
    return "\n".join(lines)
