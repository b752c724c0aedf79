"""The e-mails the scheduler queues: a reminder (plain text and a simple HTML part, in the
contact's language, Chinese by default) and the staff's notice of a refused address.

A reminder names the unit, the round, the deadline, what is left and the contact's personal
link. The link is a credential, so it is never stored: the queued text holds `LINK` where it
goes, and the e-mail sender makes a fresh web link for the contact just before sending and
puts it there (scheduler/email_sender.py). Message ids are English, the Chinese is in
locales/pairs/email.yaml; the lead lines are the Telegram reminder's own (scheduler/messages).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence

from locales import N_, gettext_for
from scheduler.messages import (
    ALL_ANSWERED,
    BEFORE,
    BEFORE_ONE,
    DUE_TODAY,
    OVERDUE,
    OVERDUE_ONE,
    PROGRESS,
    SNOOZED,
    TASK_BEFORE,
    TASK_TODAY,
    to_staff,
)
from scheduler.policy import Reminder, UnitFacts
from storage.services.email_contacts import RefusedAddress
from storage.services.outbox import EMAIL, NewMessage

LINK = "[[taizhang-personal-link]]"  # replaced by the sender with a fresh personal link
LINK_DAYS = 14  # how long a reminder's link works
LINK_USES = 3  # browsers it serves (a phone, a desk, one more)
MAX_TASKS_LISTED = 15

SUBJECT = N_("Reminder: {round} ({unit}), deadline {date}")
GREETING = N_("Hello {name},")
GREETING_NO_NAME = N_("Hello,")
UNIT_LINE = N_("Unit: {unit}")
ROUND_LINE = N_("Round: {round}, deadline {date}")
LEFT = N_("Not answered yet:")
MORE_TASKS = N_("…and {count} more tasks.")
OPEN_FORM = N_("Open your report form (on a phone or a computer):")
OPEN_BUTTON = N_("Open the report form")
LINK_NOTE = N_(
    "This link is yours alone: please do not forward it. It works for {days} days; every "
    "reminder brings a new one."
)
FOOTER = N_("This message was sent automatically by the task-ledger system; replies are not read.")
ADDRESS_REFUSED = N_(
    "The mail server refused the e-mail address {email} of {contact} ({unit}): {reason}. "
    "E-mail reminders will not reach them until the address is changed "
    "(taizhang contact email {id} ADDRESS)."
)


def _lead(reminder: Reminder, due: dt.date, _, escape: Callable[[str], str]) -> str:
    step = reminder.step
    if reminder.task is not None:
        template = TASK_TODAY if step.endswith("-due") else TASK_BEFORE
        return _(template).format(
            number=reminder.task.number,
            title=escape(reminder.task.title),
            date=reminder.task.due_date.isoformat(),
        )
    if step.startswith("before-"):
        template = BEFORE_ONE if reminder.days == 1 else BEFORE
        return _(template).format(date=due.isoformat(), days=reminder.days)
    if step == "due":
        return _(DUE_TODAY).format(date=due.isoformat())
    if step.startswith("overdue-"):
        template = OVERDUE_ONE if reminder.days == 1 else OVERDUE
        return _(template).format(date=due.isoformat(), days=reminder.days)
    return _(SNOOZED).format(date=due.isoformat())


def email_reminder_message(
    reminder: Reminder,
    unit: UnitFacts,
    *,
    round_name: str,
    due: dt.date,
    default_language: str = "zh_CN",
) -> NewMessage:
    """The e-mail for one reminder to a contact reminded by e-mail (`contact.channel`)."""
    contact = reminder.contact
    if contact is None or not contact.email:
        raise ValueError("an e-mail reminder needs a contact with an address")
    language = contact.language or default_language
    _ = gettext_for(language)
    left = [task for task in unit.tasks if not task.answered]
    if reminder.task is not None:
        left = [reminder.task]
    progress = (
        _(ALL_ANSWERED).format(total=unit.total)
        if unit.total and unit.answered == unit.total
        else _(PROGRESS).format(answered=unit.answered, total=unit.total)
    )
    greeting = _(GREETING).format(name=contact.name) if contact.name else _(GREETING_NO_NAME)
    shown, more = left[:MAX_TASKS_LISTED], len(left) - MAX_TASKS_LISTED

    def body(escape: Callable[[str], str]) -> tuple[list[str], list[str]]:
        head = [
            escape(greeting),
            _lead(reminder, due, _, escape),
            escape(_(UNIT_LINE).format(unit=reminder.unit_name)),
            escape(_(ROUND_LINE).format(round=round_name, date=due.isoformat())),
            progress,
        ]
        tasks = [f"{task.number}. {escape(task.title)}" for task in shown]
        if more > 0:
            tasks.append(_(MORE_TASKS).format(count=more))
        return head, tasks

    head, tasks = body(lambda text: text)
    text_lines = [*head, ""]
    if tasks:
        text_lines += [_(LEFT), *(f"  {line}" for line in tasks), ""]
    text_lines += [
        _(OPEN_FORM),
        LINK,
        "",
        _(LINK_NOTE).format(days=LINK_DAYS),
        "",
        "-- ",
        _(FOOTER),
    ]
    head, tasks = body(html.escape)
    parts = [f"<p>{head[0]}</p>", f"<p><strong>{head[1]}</strong></p>"]
    parts.append("<p>" + "<br>".join(head[2:]) + "</p>")
    if tasks:
        items = "".join(f"<li>{line}</li>" for line in tasks)
        parts.append(f"<p>{html.escape(_(LEFT))}</p><ul>{items}</ul>")
    parts += [
        f'<p><a href="{LINK}" style="font-size:1.2em">{html.escape(_(OPEN_BUTTON))}</a></p>',
        f"<p>{html.escape(_(OPEN_FORM))}<br>{LINK}</p>",
        f'<p style="color:#666">{html.escape(_(LINK_NOTE).format(days=LINK_DAYS))}</p>',
        f'<p style="color:#999;font-size:0.9em">{html.escape(_(FOOTER))}</p>',
    ]
    lang = "zh-CN" if language == "zh_CN" else "en"
    document = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head>'
        f"<body>{''.join(parts)}</body></html>"
    )
    subject = _(SUBJECT).format(round=round_name, unit=reminder.unit_name, date=due.isoformat())
    return NewMessage(
        dedupe_key=reminder.dedupe_key,
        kind="reminder",
        channel=EMAIL,
        chat_id=contact.contact_id,  # the e-mail sender's per-recipient pacing key
        contact_id=contact.contact_id,
        method="email",
        payload={
            "to": contact.email,
            "subject": subject,
            "text": "\n".join(text_lines),
            "html": document,
            "link": {"unit_id": reminder.unit_id, "days": LINK_DAYS, "uses": LINK_USES},
        },
    )


def refused_address_notices(
    refused: RefusedAddress,
    *,
    cause: str,
    recipients: Sequence[tuple[int, str | None]],
    default_language: str = "zh_CN",
) -> list[NewMessage]:
    """Tell each staff member (in Telegram, HTML) once that an address was refused."""

    def render(_: Callable[[str], str]) -> str:
        return "⚠️ " + _(ADDRESS_REFUSED).format(
            email=html.escape(refused.email),
            contact=html.escape(refused.contact_name) or html.escape(_("A contact")),
            unit=html.escape(refused.unit_name),
            reason=html.escape(refused.reason),
            id=refused.contact_id,
        )

    return to_staff(
        recipients,
        key=f"email-refused:{refused.contact_id}:{cause}",
        kind="staff_notice",
        render=render,
        default_language=default_language,
    )
