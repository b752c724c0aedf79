"""The texts the scheduler queues, each in its recipient's language (zh_CN unless chosen).

Message ids are English and marked with N_ so Babel extracts them; the Chinese lives in
locales/pairs/reminders.yaml. Texts are HTML: every name from the database is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence

from locales import N_, gettext_for
from scheduler.buttons import ReportButton, SnoozeButton
from scheduler.policy import Escalation, Reminder
from storage.services.outbox import NewMessage
from storage.services.people import Reachability

MAX_TEXT = 3800  # under Telegram's 4096, with room for a translation's longer words


BEFORE = N_("The deadline is {date}: {days} working days left.")
BEFORE_ONE = N_("The deadline is {date}, the next working day.")
DUE_TODAY = N_("Today, {date}, is the deadline.")
OVERDUE_ONE = N_("The deadline ({date}) has passed. Please report as soon as you can.")
OVERDUE = N_(
    "The deadline ({date}) passed {days} working days ago. Please report as soon as you can."
)
SNOOZED = N_("As you asked, a reminder: the deadline is {date}.")
PROGRESS = N_("{answered} of {total} tasks answered.")
ALL_ANSWERED = N_("All {total} tasks are answered: please check them and submit.")
TASK_BEFORE = N_("Task {number} ({title}) has its own deadline, {date}, and is not answered yet.")
TASK_TODAY = N_("Task {number} ({title}) is due today, {date}, and is not answered yet.")
REPORT_NOW = N_("Report now")
REMIND_TOMORROW = N_("Remind me tomorrow")
ESCALATION_TITLE = N_("Overdue: {round} (deadline {date})")
ESCALATION_LEAD = N_(
    "{count} units have still not reported, {days} working days after the deadline:"
)
ESCALATION_MORE = N_("…and {count} more.")
UNREACHABLE = N_(
    "{contact} ({unit}) can no longer be reached by the bot: {reason}. "
    "Reminders will not reach them until they open the bot again."
)
A_CONTACT = N_("A contact")
NO_CONTACT_LEFT = N_(
    "{unit} now has no contact the bot can reach: nobody there gets reminders. Ask the unit "
    "for a contact and send them an invite (taizhang invite create --unit …)."
)
REACHABLE_AGAIN = N_("{contact} ({unit}) can be reached by the bot again.")
REASON_BLOCKED = N_("they blocked the bot")
REASON_DEACTIVATED = N_("their Telegram account was deleted")
REASON_CHAT_GONE = N_("Telegram no longer knows their chat")
CALENDAR_MISSING = N_(
    "The holidays of {year} are not loaded yet, so reminders count every weekday of {year} as "
    "a working day. Load the State Council's schedule with `taizhang calendar import FILE`."
)


def _date(day: dt.date) -> str:
    return day.isoformat()


def _lead_line(reminder: Reminder, due: dt.date, _) -> str:
    step = reminder.step
    if reminder.task is not None:
        template = TASK_TODAY if step.endswith("-due") else TASK_BEFORE
        return _(template).format(
            number=reminder.task.number,
            title=html.escape(reminder.task.title),
            date=_date(reminder.task.due_date),
        )
    if step.startswith("before-"):
        template = BEFORE_ONE if reminder.days == 1 else BEFORE
        return _(template).format(date=_date(due), days=reminder.days)
    if step == "due":
        return _(DUE_TODAY).format(date=_date(due))
    if step.startswith("overdue-"):
        template = OVERDUE_ONE if reminder.days == 1 else OVERDUE
        return _(template).format(date=_date(due), days=reminder.days)
    return _(SNOOZED).format(date=_date(due))


def reminder_message(
    reminder: Reminder,
    *,
    round_name: str,
    due: dt.date,
    answered: int,
    total: int,
    default_language: str = "zh_CN",
) -> NewMessage:
    """The message for one reminder: round, deadline, x of y answered, and two buttons."""
    contact = reminder.contact
    if contact is None:
        raise ValueError("a reminder without a reachable contact is not sent")
    _ = gettext_for(contact.language or default_language)
    progress = (
        _(ALL_ANSWERED).format(total=total)
        if total and answered == total
        else _(PROGRESS).format(answered=answered, total=total)
    )
    text = "\n".join(
        [
            f"⏰ <b>{html.escape(round_name)}</b> · {html.escape(reminder.unit_name)}",
            _lead_line(reminder, due, _),
            progress,
        ]
    )
    buttons = [
        {
            "text": _(REPORT_NOW),
            "callback_data": ReportButton(unit=reminder.unit_id, round=reminder.round_id).pack(),
        },
        {
            "text": _(REMIND_TOMORROW),
            "callback_data": SnoozeButton(unit=reminder.unit_id, round=reminder.round_id).pack(),
        },
    ]
    return NewMessage(
        dedupe_key=reminder.dedupe_key,
        kind="reminder",
        chat_id=contact.chat_id,
        contact_id=contact.contact_id,
        payload={
            "chat_id": contact.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [buttons]},
        },
    )


def escalation_text(escalation: Escalation, round_name: str, due: dt.date, _) -> str:
    lines = [
        "⚠️ <b>"
        + _(ESCALATION_TITLE).format(round=html.escape(round_name), date=_date(due))
        + "</b>",
        _(ESCALATION_LEAD).format(count=len(escalation.late), days=escalation.overdue_days),
    ]
    used = sum(len(line) + 1 for line in lines)
    for shown, unit in enumerate(escalation.late):
        line = f"• {html.escape(unit.name)} ({unit.answered}/{unit.total})"
        if used + len(line) + 40 > MAX_TEXT:
            lines.append(_(ESCALATION_MORE).format(count=len(escalation.late) - shown))
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def to_staff(
    recipients: Sequence[tuple[int, str | None]],
    *,
    key: str,
    kind: str,
    render: Callable[[Callable[[str], str]], str],
    default_language: str = "zh_CN",
) -> list[NewMessage]:
    """One HTML message to each staff chat, rendered in its language; `key` + chat id is the
    dedupe key, so each is queued once."""
    messages = []
    for chat_id, language in recipients:
        text = render(gettext_for(language or default_language))
        messages.append(
            NewMessage(
                dedupe_key=f"{key}:{chat_id}",
                kind=kind,
                chat_id=chat_id,
                payload={"chat_id": chat_id, "text": text, "parse_mode": "HTML"},
            )
        )
    return messages


def escalation_messages(
    escalation: Escalation,
    *,
    round_name: str,
    due: dt.date,
    recipients: Sequence[tuple[int, str | None]],
    default_language: str = "zh_CN",
) -> list[NewMessage]:
    """One message to each staff chat, once per round."""
    return to_staff(
        recipients,
        key=f"escalation:{escalation.round_id}",
        kind="escalation",
        render=lambda _: escalation_text(escalation, round_name, due, _),
        default_language=default_language,
    )


def reachability_notices(
    change: Reachability,
    *,
    cause: str,
    recipients: Sequence[tuple[int, str | None]],
    default_language: str = "zh_CN",
) -> list[NewMessage]:
    """Tell every staff member that a contact can no longer be reached (and whether the unit
    still has anyone the bot can reach), or can be reached again. `cause` names the event
    (an update, an outbox row), so each change is queued once however often it is seen."""

    def render(_: Callable[[str], str]) -> str:
        names = {
            "contact": html.escape(change.contact_name) or _(A_CONTACT),
            "unit": html.escape(change.unit_name),
        }
        if change.reachable:
            return "✅ " + _(REACHABLE_AGAIN).format(**names)
        text = "⚠️ " + _(UNREACHABLE).format(**names, reason=_reason(change.reason, _))
        if not change.unit_reachable:
            text += "\n" + _(NO_CONTACT_LEFT).format(unit=names["unit"])
        return text

    state = "on" if change.reachable else "off"
    return to_staff(
        recipients,
        key=f"reach:{change.contact_id}:{state}:{cause}",
        kind="staff_notice",
        render=render,
        default_language=default_language,
    )


def _reason(reason: str, _: Callable[[str], str]) -> str:
    """Telegram's reason in the staff's words when it is one of the usual ones."""
    lowered = reason.lower()
    if "blocked" in lowered or "kicked" in lowered:
        return _(REASON_BLOCKED)
    if "deactivated" in lowered:
        return _(REASON_DEACTIVATED)
    if "chat not found" in lowered or "user not found" in lowered:
        return _(REASON_CHAT_GONE)
    return html.escape(reason) or _(REASON_BLOCKED)


def calendar_missing_messages(
    years: Sequence[int],
    recipients: Sequence[tuple[int, str | None]],
    default_language: str = "zh_CN",
) -> list[NewMessage]:
    """Tell the staff, once per year, that a year's holidays are missing."""
    return [
        message
        for year in years
        for message in to_staff(
            recipients,
            key=f"calendar-missing:{year}",
            kind="staff_notice",
            render=lambda _, year=year: _(CALENDAR_MISSING).format(year=year),
            default_language=default_language,
        )
    ]
