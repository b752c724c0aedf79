"""The broadcast screens as Telegram messages: HTML text (every name escaped) and keyboards.

The recipients' message itself is built by scheduler.broadcasts (the preview sends the very
same payload); so are the progress message's text and keyboard, which the outbox edits later.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.render import esc, name_list
from handlers.staff_callbacks import BroadcastButton, BroadcastPick
from scheduler import broadcasts as sb
from storage.models import Broadcast
from storage.services import broadcasts as bc
from storage.services.broadcasts import BroadcastError, Reach, Summary, UnitAcks

UNITS_PER_PAGE = 10
RECENT_SHOWN = 8
BUDGET = 3900
UNREACHABLE_BUDGET = 600


def _pick(text: str, act: str, **values) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=BroadcastPick(act=act, **values).pack())


def _act(text: str, act: str, broadcast_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=BroadcastButton(act=act, b=broadcast_id).pack()
    )


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def _local(moment: dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def kind_name(kind: str) -> str:
    return _(sb.KIND_NAMES[kind]) if kind in sb.KIND_NAMES else kind


# ------------------------------------------------------------------ choosing the audience


def menu_text() -> str:
    return "📣 <b>" + _("New broadcast") + "</b>\n" + _("Who should get it?")


def menu_keyboard() -> InlineKeyboardMarkup:
    return _markup(
        [
            [_pick("👥 " + _("All contacts"), "all")],
            [_pick("🏷 " + _("Units of a kind"), "kinds")],
            [_pick("📋 " + _("Units of a plan"), "plans")],
            [_pick("⏰ " + _("Units not yet submitted in a round"), "rounds")],
            [_pick("☑️ " + _("Pick units from the list"), "units")],
            [_pick("🗂 " + _("Recent broadcasts"), "list")],
        ]
    )


def viewer_text() -> str:
    return (
        "📣 <b>"
        + _("Broadcasts")
        + "</b>\n"
        + _("Only an office administrator can send a broadcast; you can look at the recent ones.")
    )


def viewer_keyboard() -> InlineKeyboardMarkup:
    return _markup([[_pick("🗂 " + _("Recent broadcasts"), "list")]])


def _back() -> list[InlineKeyboardButton]:
    return [_pick("⬅️ " + _("Back"), "menu")]


def kinds_text() -> str:
    return "📣 " + _("Which kind of unit?")


def kinds_keyboard(kinds: dict[str, int]) -> InlineKeyboardMarkup:
    rows = [
        [_pick(f"{kind_name(kind)} ({count})", "kind", v=kind)] for kind, count in kinds.items()
    ]
    return _markup([*rows, _back()])


def plans_text(plans: list) -> str:
    if not plans:
        return "📣 " + _("There is no plan yet.")
    return "📣 " + _("The units of which plan?")


def plans_keyboard(plans: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    rows = [[_pick(title[:40], "plan", id=plan_id)] for plan_id, title in plans[:20]]
    return _markup([*rows, _back()])


def rounds_text(rounds: list) -> str:
    if not rounds:
        return "📣 " + _("No round is open.")
    return "📣 " + _("The units that have not yet submitted which round?")


def rounds_keyboard(rounds: list[tuple[int, str, str]]) -> InlineKeyboardMarkup:
    rows = [
        [_pick(f"{name} · {title}"[:48], "late", id=round_id)]
        for round_id, name, title in rounds[:20]
    ]
    return _markup([*rows, _back()])


def units_text(picked: int) -> str:
    return (
        "📣 "
        + _("Tap the units that should get it, then Done.")
        + "\n"
        + _("Picked: {count}").format(count=picked)
    )


def units_keyboard(
    units: list[tuple[int, str]], picked: set[int], page: int
) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    buttons = [
        _pick(("✅ " if unit_id in picked else "▫️ ") + label[:18], "toggle", id=unit_id, page=page)
        for unit_id, label in shown
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(_pick("◀️", "units", page=page - 1))
    if pages > 1:
        nav.append(_pick(f"{page + 1}/{pages}", "units", page=page))
    if page < pages - 1:
        nav.append(_pick("▶️", "units", page=page + 1))
    done = [_pick("✔️ " + _("Done ({count})").format(count=len(picked)), "picked")]
    return _markup([*rows, nav, done if picked else [], _back()])


def _reach_lines(found: Reach) -> list[str]:
    lines = [
        _("It reaches {people} people in {units} units.").format(
            people=found.people, units=found.units
        )
    ]
    if found.unreachable_units:
        lines.append(
            "📵 "
            + _("No reachable contact ({count}): {names}").format(
                count=len(found.unreachable_units),
                names=name_list(found.unreachable_units, UNREACHABLE_BUDGET),
            )
        )
    return lines


def ask_text_text(found: Reach) -> str:
    lines = [
        "📣 <b>"
        + _("To: {audience}").format(audience=sb.audience_text(found.audience, _))
        + "</b>",
        *_reach_lines(found),
        "",
        _(
            "Now send the notice as your next message: its text (bold, links and the like are "
            "kept), or a document or photo with the text as its caption."
        ),
    ]
    return "\n".join(lines)


def nobody_text(found: Reach) -> str:
    return "\n".join(
        [
            "📵 " + _("Nobody in this audience can be reached by the bot: nothing will be sent."),
            *_reach_lines(found)[1:],
        ]
    )


def cancel_keyboard() -> InlineKeyboardMarkup:
    return _markup([[_pick("✖ " + _("Cancel"), "menu")]])


# ------------------------------------------------------------------ the draft


def ack_question() -> str:
    return "📣 " + _("Ask the recipients to press 收到 to confirm they received it?")


def ack_keyboard(draft_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            [_pick("✅ " + _("Yes, ask for 收到"), "ack", id=draft_id, v="1")],
            [_pick(_("No"), "ack", id=draft_id, v="0")],
        ]
    )


def preview_text(row: Broadcast, found: Reach) -> str:
    lines = [
        "👆 " + _("This is exactly what the recipients will see."),
        "📣 <b>"
        + _("Broadcast #{id} to {audience}").format(
            id=row.id, audience=sb.audience_text(found.audience, _)
        )
        + "</b>",
        *_reach_lines(found),
    ]
    if row.attachment_kind:
        lines.append("📎 " + esc(row.attachment_name or row.attachment_kind))
    lines.append("🔔 " + (_("Recipients press 收到.") if row.ask_ack else _("No 收到 asked.")))
    if row.scheduled_at is not None:
        lines.append(
            "🕒 " + _("Goes at {time}.").format(time=_local(row.scheduled_at, row.timezone))
        )
    else:
        lines.append("🕒 " + _("Goes as soon as you confirm."))
    return "\n".join(lines)


def preview_keyboard(row: Broadcast, found: Reach) -> InlineKeyboardMarkup:
    if row.scheduled_at is not None:
        send = _("✅ Confirm: send at {time}").format(time=_local(row.scheduled_at, row.timezone))
        when = [_act("⚡ " + _("Send now instead"), "now", row.id)]
    else:
        send = _("✅ Send now to {people} people").format(people=found.people)
        when = [_act("🕒 " + _("Schedule for later"), "time", row.id)]
    return _markup(
        [[_act(send, "send", row.id)], when, [_act("✖ " + _("Cancel"), "cancel", row.id)]]
    )


def time_prompt(row: Broadcast) -> str:
    return "🕒 " + _(
        "When should it go? Send the time as YYYY-MM-DD HH:MM, or HH:MM for today ({zone}). "
        "It must be within office hours on a working day."
    ).format(zone=esc(row.timezone))


# ------------------------------------------------------------------ after confirming


def progress_text(item: Summary) -> str:
    return sb.progress_text(item.broadcast, item.audience, item.progress, _)


def progress_keyboard(item: Summary) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.model_validate(
        sb.progress_keyboard(item.broadcast, item.progress, _)
    )


def cancelled_text(withdrawn: int, draft: bool) -> str:
    if draft:
        return _("Cancelled: nothing was sent.")
    return _("Cancelled: {count} messages not yet sent were withdrawn.").format(count=withdrawn)


def recent_text(items: list[Summary]) -> str:
    if not items:
        return "🗂 " + _("No broadcast yet.")
    lines = ["🗂 <b>" + _("Recent broadcasts") + "</b>"]
    for item in items[:RECENT_SHOWN]:
        row, found = item.broadcast, item.progress
        lines.append(
            f"#{row.id} · {_local(row.confirmed_at or row.created_at, row.timezone)} · "
            + sb.audience_text(item.audience, _)
            + " · "
            + status_label(row.status)
            + " · "
            + _("{sent} of {total} sent").format(sent=found.sent, total=found.recipients)
        )
    return "\n".join(lines)


def recent_keyboard(items: list[Summary]) -> InlineKeyboardMarkup:
    rows = [
        [
            _act(
                f"#{item.broadcast.id} · {status_label(item.broadcast.status)}",
                "show",
                item.broadcast.id,
            )
        ]
        for item in items[:RECENT_SHOWN]
    ]
    return _markup([*rows, _back()])


def status_label(status: str) -> str:
    return {
        bc.DRAFT: _("draft"),
        bc.SCHEDULED: _("scheduled"),
        bc.SENDING: _("sending"),
        bc.DONE: _("sent"),
        bc.CANCELLED: _("cancelled"),
    }.get(status, status)


def _unit_names(unit: str, names: list[str]) -> str:
    return "· " + _("{unit}: {names}").format(unit=esc(unit), names=name_list(names, 200))


def acks_text(row: Broadcast, units: list[UnitAcks], notice: str = "") -> str:
    done = [u for u in units if u.done]
    waiting = [u for u in units if not u.done]
    lines = [
        "👥 <b>" + _("收到 for broadcast #{id}").format(id=row.id) + "</b>",
        _("Units confirmed: {done} of {total}").format(done=len(done), total=len(units)),
    ]
    if done:
        lines += ["", "✅ " + _("Confirmed:")]
        lines += [_unit_names(u.label, u.acknowledged) for u in done]
    if waiting:
        lines += ["", "⏳ " + _("Not yet:")]
        for u in waiting:
            names = u.waiting + [f"{n} ({_('not delivered yet')})" for n in u.not_delivered]
            lines.append(_unit_names(u.label, names))
    if notice:
        lines += ["", notice]
    text = "\n".join(lines)
    if len(text) > BUDGET:
        text = text[: text.rfind("\n", 0, BUDGET - 2)] + "\n…"
    return text


def acks_keyboard(row: Broadcast, units: list[UnitAcks]) -> InlineKeyboardMarkup:
    people = sum(len(u.waiting) for u in units if not u.done)
    rows = []
    if people:
        rows.append(
            [
                _act(
                    "🔔 " + _("Remind those who have not ({count})").format(count=people),
                    "remind",
                    row.id,
                )
            ]
        )
    rows.append(
        [
            _act("🔄 " + _("Refresh"), "acks", row.id),
            _act("📄 " + _("Delivery report"), "report", row.id),
        ]
    )
    return _markup(rows)


def reminded_text(count: int) -> str:
    if not count:
        return _("Nobody left to remind.")
    return _("Reminder queued for {count} people.").format(count=count)


def report_caption(row: Broadcast, failed: int, total: int) -> str:
    return _("Delivery report of broadcast #{id}: {failed} of {total} not delivered.").format(
        id=row.id, failed=failed, total=total
    )


REPORT_COLUMNS = ("unit", "contact", "phone", "status", "reason", "error", "sent_at", "acked_at")


def report_headings() -> dict[str, str]:
    return {
        "unit": _("Unit"),
        "contact": _("Contact"),
        "phone": _("Phone"),
        "status": _("Status"),
        "reason": _("Reason"),
        "error": _("Telegram's answer"),
        "sent_at": _("Sent at"),
        "acked_at": _("收到 at"),
    }


def report_words() -> dict[str, str]:
    return {
        "sent": _("sent"),
        "failed": _("failed"),
        "pending": _("pending"),
        "withdrawn": _("withdrawn"),
        "unreachable": _("not reachable"),
        bc.BLOCKED: _("blocked the bot"),
        bc.DEACTIVATED: _("account deleted"),
        bc.CHAT_NOT_FOUND: _("chat not found"),
        bc.OTHER: _("other"),
    }


# ------------------------------------------------------------------ the recipient's side


def acked_keyboard(broadcast_id: int, at: dt.datetime, timezone: str) -> InlineKeyboardMarkup:
    label = _(sb.ACKED).format(time=at.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M"))
    return InlineKeyboardMarkup.model_validate(sb.ack_keyboard(broadcast_id, label))


def ack_answer(outcome: str, at: dt.datetime | None, timezone: str) -> str:
    if outcome == "recorded":
        return _("Thank you: the office sees that you received it.")
    if outcome == "already" and at is not None:
        return _("You confirmed it already, at {time}.").format(time=_local(at, timezone))
    return _("This button is not for you.")


def preview_ack_answer() -> str:
    return _("This is the preview: the recipients press it to confirm.")


# ------------------------------------------------------------------ refusals


def problem(error: BroadcastError) -> str:
    values = error.values
    if error.code == "empty_text":
        return _(
            "The notice has no text: send its text, or the file with the text as its caption."
        )
    if error.code == "too_long":
        if values.get("limit") == bc.CAPTION_LIMIT:
            return _(
                "The caption has {count} characters; Telegram takes at most {limit} with a file. "
                "Shorten it, or send the text without the file."
            ).format(**values)
        return _(
            "The text has {count} characters; Telegram takes at most {limit} in one message. "
            "Shorten it, or send it as two broadcasts."
        ).format(**values)
    if error.code == "file_too_big":
        return _("The file has {size} MB; bots can send at most 50 MB.").format(
            size=f"{values.get('size', 0) / 1024 / 1024:.1f}"
        )
    if error.code == "bad_attachment":
        return _("Attach a document or a photo.")
    if error.code == "bad_audience":
        return _("That audience no longer exists: choose again with /broadcast.")
    if error.code == "nobody_reachable":
        return _("Nobody in this audience can be reached by the bot: nothing was sent.")
    if error.code in ("already_confirmed", "not_draft"):
        return _("This broadcast was confirmed already: it goes once, not twice.")
    if error.code == "finished":
        return _("This broadcast has finished sending: there is nothing left to cancel.")
    if error.code == "time_past":
        return _("That time has passed: give a later one.")
    if error.code == "outside_hours":
        return _(
            "{time} is outside office hours ({start}–{end}): give a time within them."
        ).format(**values)
    if error.code == "not_workday":
        return _("{day} is not a working day: give a working day.").format(**values)
    if error.code == "bad_time":
        return _("Write the time as YYYY-MM-DD HH:MM, or HH:MM for today.")
    if error.code == "not_asked":
        return _("This broadcast did not ask for 收到.")
    return str(error)


def gone_text() -> str:
    return _("This broadcast no longer exists.")


def no_pending_text() -> str:
    return _("There is no broadcast being written: start again with /broadcast.")
