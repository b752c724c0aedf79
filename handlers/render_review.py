"""The review screens as Telegram messages: HTML text (every name and comment escaped) and
keyboards. Each screen fits one message; long lists of names are cut with "…and N more"."""

from __future__ import annotations

import datetime as dt

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.render import esc, name_list
from handlers.staff_callbacks import ReviewAct, UnitView
from scheduler.review_notices import Told
from storage.services import review as rv
from storage.services.review import (
    DecisionLine,
    ReviewError,
    RoundReview,
    Target,
    UnitLine,
    UnitReview,
)
from storage.services.staff import StaffMember
from storage.services.status import RoundChoice

BUDGET = 3900  # characters of a screen, under Telegram's 4096
LIST_SHOWN = 30  # units awaiting review listed (and buttons)
HISTORY_SHOWN = 5
HISTORY_EXCERPT = 60  # characters of a comment in the history
TITLE_ON_BUTTON = 10  # characters of a task's title on its button

REVIEW_MARKS = {rv.NOT_REVIEWED: "🆕", rv.RESUBMITTED: "🔄", rv.RETURNED: "↩️", rv.ACCEPTED: "✅"}
UNREACHABLE_MARK = "📵"


def review_label(state: str, version: int) -> str:
    """A unit's review state for the status screens ("" while nothing was decided)."""
    if state == rv.RETURNED:
        return _("Returned (version {version})").format(version=version)
    if state == rv.RESUBMITTED:
        return _("Resubmitted, awaiting review")
    if state == rv.ACCEPTED:
        return _("Accepted")
    return ""


def _state_line(state: str, version: int) -> str:
    if state == rv.NOT_REVIEWED:
        label = _("Awaiting review")
    elif state == rv.ACCEPTED:
        label = _("Accepted (version {version})").format(version=version)
    else:
        label = review_label(state, version)
    return f"{REVIEW_MARKS[state]} {label}"


def _button(text: str, data: ReviewAct | UnitView) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _fit(text: str) -> str:
    if len(text) <= BUDGET:
        return text
    return text[: text.rfind("\n", 0, BUDGET - 2)] + "\n…"


def _names(names: list[str]) -> str:

    return name_list(names, 600)


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%m-%d %H:%M")


# ------------------------------------------------------------------ the round


def list_text(result: RoundReview) -> str:
    lines = [
        "📝 <b>" + _("Review") + f"</b> · {esc(result.round_name)}",
        _("Due: {date}").format(date=result.due_date.isoformat())
        + ("" if result.open else " · " + _("the round is closed")),
        "",
    ]
    if result.awaiting:
        lines.append(
            "<b>" + _("Awaiting review: {count}").format(count=len(result.awaiting)) + "</b>"
        )
        for line in result.awaiting[:LIST_SHOWN]:
            lines.append(_list_line(line))
        if len(result.awaiting) > LIST_SHOWN:
            more = len(result.awaiting) - LIST_SHOWN
            lines.append(_("…and {count} more").format(count=more))
        lines.append(_("Tap a unit below to review it."))
    else:
        lines.append(_("Nothing awaits review."))
    for mark, label, units in (
        ("↩️", _("Returned, not submitted again: {names}"), result.returned),
        ("✅", _("Accepted: {names}"), result.accepted),
    ):
        if units:
            lines.append(f"{mark} " + label.format(names=_names([u.label for u in units])))
    if result.not_submitted:
        lines.append(
            "⬜ "
            + _("Not submitted yet: {count} units (/status)").format(count=result.not_submitted)
        )
    return _fit("\n".join(lines))


def _list_line(line: UnitLine) -> str:
    text = f"{REVIEW_MARKS[line.state]} {esc(line.label)} · " + _("version {version}").format(
        version=line.version
    )
    text += f" · {_when(line.at)}"
    if line.state == rv.RESUBMITTED:
        text += " · " + _("resubmitted")
    return text


def list_keyboard(result: RoundReview) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for line in (result.awaiting + result.returned)[:LIST_SHOWN]:  # returned: to see or undo
        button = _button(
            f"{REVIEW_MARKS[line.state]} {line.label}",
            ReviewAct(act="show", round=result.round_id, unit=line.unit_id),
        )
        if rows and len(rows[-1]) < 2:
            rows[-1].append(button)
        else:
            rows.append([button])
    rows.append(
        [
            _button("🔄 " + _("Refresh"), ReviewAct(act="list", round=result.round_id, unit=0)),
            _button("🗓 " + _("Other rounds"), ReviewAct(act="rounds", round=0, unit=0)),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def rounds_text(choices: list[RoundChoice], *, none_open: bool = False) -> str:
    if not choices:
        return _("There are no rounds yet (taizhang round add …).")
    if none_open:
        return _("There is no open round. Choose a round to review:")
    return _("Choose a round:")


def rounds_keyboard(choices: list[RoundChoice]) -> InlineKeyboardMarkup:
    rows = []
    for choice in choices:
        label = f"{choice.name} · {choice.due_date.isoformat()}"
        if not choice.open:
            label += " · " + _("closed")
        rows.append([_button(label, ReviewAct(act="list", round=choice.round_id, unit=0))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# ------------------------------------------------------------------ one unit


def _what(task_number: int, task_title: str) -> str:
    if not task_number:
        return _("the whole report")
    return _("task {number} ({title})").format(number=task_number, title=esc(task_title))


def _decision_line(decision: DecisionLine, local) -> str:
    if decision.decision == rv.ACCEPTED:
        what = _("accepted version {version}").format(version=decision.version)
    elif decision.whole:
        what = _("returned the whole of version {version}").format(version=decision.version)
    else:
        what = _("returned task {number} of version {version}").format(
            number=decision.task_number, version=decision.version
        )
    line = "• " + _("{when} {who}: {what}").format(
        when=_when(local(decision.at)), who=esc(decision.by_label), what=what
    )
    if decision.comment:
        comment = decision.comment
        if len(comment) > HISTORY_EXCERPT:
            comment = comment[:HISTORY_EXCERPT] + "…"
        line += f"\n   <i>{esc(' '.join(comment.split()))}</i>"
    return line


def unit_text(item: UnitReview, member: StaffMember, notice: str = "") -> str:
    lines = [f"<i>{notice}</i>", ""] if notice else []
    lines += [
        f"📝 <b>{esc(item.unit_name)}</b>",
        f"📋 {esc(item.round_name)} · "
        + _("deadline {date}").format(date=item.due_date.isoformat()),
    ]
    if not item.version:
        lines.append(_("Not submitted yet: there is nothing to review."))
        return "\n".join(lines)
    submitted = _("Version {version}: {when}").format(
        version=item.version, when=item.version_at.strftime("%Y-%m-%d %H:%M")
    )
    if item.version_by:
        submitted += f" · {esc(item.version_by)}"
    if item.on_time is not None:
        submitted += " · " + (_("on time") if item.on_time else _("late"))
    lines += [
        submitted,
        _("answered {answered} of {total}").format(answered=item.answered, total=len(item.tasks)),
        "",
        _state_line(item.review.state, item.version),
    ]
    for note in item.review.returns:
        if note.whole:
            what = _("whole report")
        else:
            what = _("task {number}").format(number=note.task_number)
        lines.append("↩️ " + _("{what}: {comment}").format(what=what, comment=esc(note.comment)))
    history = item.review.history
    if history:
        lines += ["", "<b>" + _("Review history") + "</b>"]
        if len(history) > HISTORY_SHOWN:
            earlier = len(history) - HISTORY_SHOWN
            lines.append(_("…{count} earlier steps").format(count=earlier))
        lines += [_decision_line(d, item.local) for d in history[-HISTORY_SHOWN:]]
    if not member.is_admin:
        lines += ["", _("Only an office administrator can accept or return; you can look.")]
    elif not item.open:
        lines += ["", _("The round is closed: a report can no longer be returned.")]
    return _fit("\n".join(lines))


def unit_keyboard(item: UnitReview, member: StaffMember) -> InlineKeyboardMarkup:
    round_id, unit_id, version = item.round_id, item.unit_id, item.version
    rows = []
    if member.is_admin and version:
        if item.review.state != rv.ACCEPTED:
            rows.append(
                [
                    _button(
                        "✅ " + _("Accept version {version}").format(version=version),
                        ReviewAct(act="accept", round=round_id, unit=unit_id, version=version),
                    )
                ]
            )
        if item.open:
            rows.append(
                [
                    _button(
                        "↩️ " + _("Return the whole report"),
                        ReviewAct(act="return", round=round_id, unit=unit_id, version=version),
                    ),
                    _button(
                        "↩️ " + _("Return one task"),
                        ReviewAct(act="task", round=round_id, unit=unit_id, version=version),
                    ),
                ]
            )
    rows.append(
        [
            _button("📄 " + _("Answers"), UnitView(act="show", round=round_id, unit=unit_id)),
            _list_button(round_id),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def tasks_text(item: UnitReview) -> str:
    return "\n".join(
        [
            "↩️ <b>"
            + _("Which task of {unit} do you return?").format(unit=esc(item.unit_label))
            + "</b>",
            _("Version {version}").format(version=item.version)
            + " · ✅ "
            + _("answered")
            + " · ⬜ "
            + _("not answered")
            + " · ↩️ "
            + _("returned"),
        ]
    )


def tasks_keyboard(item: UnitReview) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for task in item.tasks:
        mark = "↩️" if task.returned else ("✅" if task.answered else "⬜")
        title = task.title
        if len(title) > TITLE_ON_BUTTON:
            title = title[:TITLE_ON_BUTTON] + "…"
        button = _button(
            f"{mark} {task.number}. {title}",
            ReviewAct(
                act="task",
                round=item.round_id,
                unit=item.unit_id,
                version=item.version,
                task=task.task_id,
            ),
        )
        if rows and len(rows[-1]) < 2:
            rows[-1].append(button)
        else:
            rows.append([button])
    rows.append([_back(item.round_id, item.unit_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _list_button(round_id: int) -> InlineKeyboardButton:
    return _button("📋 " + _("Review list"), ReviewAct(act="list", round=round_id, unit=0))


def _back(round_id: int, unit_id: int) -> InlineKeyboardButton:
    return _button("« " + _("Back"), ReviewAct(act="show", round=round_id, unit=unit_id))


# ------------------------------------------------------------------ returning


def comment_prompt(target: Target) -> str:
    what = _what(target.task_number, target.task_title)
    return "\n".join(
        [
            "↩️ <b>"
            + _("Return {what} of {unit} (version {version})").format(
                what=what, unit=esc(target.unit_label), version=target.version
            )
            + "</b>",
            _(
                "Send the comment as your next message: what should the unit correct? "
                "At most {limit} characters. You confirm before anything is sent."
            ).format(limit=rv.MAX_COMMENT_CHARS),
        ]
    )


def prompt_keyboard(target: Target) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    "✖️ " + _("Cancel"),
                    ReviewAct(act="show", round=target.round_id, unit=target.unit_id),
                )
            ]
        ]
    )


def confirm_text(target: Target, comment: str) -> str:
    what = _what(target.task_number, target.task_title)
    return "\n".join(
        [
            "<b>"
            + _("Return {what} of {unit} (version {version}) with this comment?").format(
                what=what, unit=esc(target.unit_label), version=target.version
            )
            + "</b>",
            f"<blockquote>{esc(comment)}</blockquote>",
            _("The unit's contacts are told through the bot and can correct and resubmit."),
        ]
    )


def confirm_keyboard(target: Target) -> InlineKeyboardMarkup:
    base = {
        "round": target.round_id,
        "unit": target.unit_id,
        "version": target.version,
        "task": target.task_id or 0,
    }
    again = "task" if target.task_id else "return"
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button("✅ " + _("Yes, return it"), ReviewAct(act="confirm", **base))],
            [
                _button("✏️ " + _("Rewrite the comment"), ReviewAct(act=again, **base)),
                _button(
                    "✖️ " + _("Cancel"),
                    ReviewAct(act="show", round=target.round_id, unit=target.unit_id),
                ),
            ],
        ]
    )


# ------------------------------------------------------------------ after a decision


def done_text(told: Told) -> str:
    decided = told.decided
    target, decision = decided.target, decided.decision
    unit = esc(target.unit_label)
    if decision.decision == rv.ACCEPTED:
        if decided.already:
            head = _("{unit}: version {version} was accepted already; nothing new was sent.")
        else:
            head = _("{unit}: version {version} accepted.")
        lines = ["✅ " + head.format(unit=f"<b>{unit}</b>", version=decision.version)]
    else:
        what = _what(target.task_number, target.task_title)
        if decided.already:
            head = _("{unit}: {what} was returned with this comment already; nothing was sent.")
        else:
            head = _("{unit}: {what} returned (version {version}).")
        lines = [
            "↩️ " + head.format(unit=f"<b>{unit}</b>", what=what, version=decision.version),
            f"<blockquote>{esc(decision.comment)}</blockquote>",
        ]
    if not decided.already:
        if told.reachable:
            lines.append(
                _("Told {count} contacts of the unit through the bot.").format(count=told.notified)
            )
        else:
            lines.append(
                f"{UNREACHABLE_MARK} "
                + _(
                    "Nobody at this unit can be reached by the bot: tell them another way, "
                    "or send an invite (/invite)."
                )
            )
    return "\n".join(lines)


def done_keyboard(told: Told) -> InlineKeyboardMarkup:
    target = told.decided.target
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    "📝 " + _("The unit's review"),
                    ReviewAct(act="show", round=target.round_id, unit=target.unit_id),
                ),
                _button(
                    "📋 " + _("Review list"), ReviewAct(act="list", round=target.round_id, unit=0)
                ),
            ]
        ]
    )


def problem(error: ReviewError) -> str:
    """A refusal of the review service, as plain text (popups and messages alike)."""
    messages = {
        "not_submitted": _("This unit has not submitted anything in this round yet."),
        "stale": _(
            "The unit has submitted version {current} meanwhile, so nothing was decided. "
            "Here is the latest version."
        ),
        "round_closed": _(
            "This round is closed: the unit can no longer correct its report, so it cannot "
            "be returned."
        ),
        "comment_needed": _("Please write a comment: what should the unit correct?"),
        "comment_too_long": _(
            "The comment is too long ({length} characters; at most {limit}). Please shorten it."
        ),
        "not_assigned": _("This task is not one the unit answers for."),
    }
    return messages.get(error.code, _("That did not work.")).format(**error.params)


def no_pending_text() -> str:
    return _("This return is no longer waiting for confirmation: nothing was sent.")
