"""The status screens as Telegram messages: HTML text (every name escaped) and keyboards.

Each screen fits one message (Telegram allows 4096 characters): long lists of names are cut
with "…and N more", units, tasks and answers are paged.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.render import NAMES_BUDGET, STATUS_MARKS, esc, name_list
from handlers.render_review import review_label
from handlers.staff_callbacks import NoticeAct, NudgeAct, ReviewAct, StatusView, UnitView
from ledger.status_chart import ChartData, GroupBar, TaskBar
from scheduler.nudges import NudgeResult
from storage.services import status as st
from storage.services.staff import StaffMember
from storage.services.status import RoundChoice, RoundStatus, UnitDetail, UnitStatus

BUDGET = 3900  # characters of a screen, under Telegram's 4096
UNITS_PAGE = 16
TASKS_PAGE = 40
ANSWERS_PAGE = 6
EXCERPT = 200  # characters of an answer shown on the unit screen

STATE_MARKS = {st.ON_TIME: "✅", st.LATE: "🕘", st.PARTLY: "🟡", st.NOT_STARTED: "⬜"}
UNREACHABLE_MARK = "📵"
CHANGED_MARK = "✏️"


def state_label(state: str) -> str:
    return {
        st.ON_TIME: _("Submitted on time"),
        st.LATE: _("Submitted late"),
        st.PARTLY: _("Partly answered, not submitted"),
        st.NOT_STARTED: _("Not started"),
    }[state]


def state_short(state: str) -> str:
    """The state in a word or two, for the chart's legend."""
    return {
        st.ON_TIME: _("On time"),
        st.LATE: _("Late"),
        st.PARTLY: _("Partly answered"),
        st.NOT_STARTED: _("Not started"),
    }[state]


def group_label(group: str) -> str:
    return {
        st.DEPARTMENT: _("Government departments"),
        st.TOWN: _("Townships and street offices"),
        st.SECTION: _("Bureau sections"),
    }[group]


def _names(units: list[UnitStatus], budget: int) -> str:
    """Short names joined, cut with "…and N more" once they pass `budget` characters."""
    return name_list([unit.label for unit in units], budget)


def _button(text: str, data) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _deadline(result: RoundStatus) -> str:
    line = _("Due: {date}").format(date=result.due_date.isoformat())
    if not result.open:
        return line + " · " + _("the round is closed")
    if result.overdue:
        return line + " · " + _("past the deadline")
    return line


# ------------------------------------------------------------------ the round


def status_text(result: RoundStatus) -> str:
    counts = result.counts()
    lines = [
        f"📋 <b>{esc(result.round_name)}</b>",
        esc(result.plan_title),
        _deadline(result),
    ]
    if result.as_of is not None:
        when = result.local(result.as_of).strftime("%Y-%m-%d %H:%M")
        lines.append(_("As of {time}").format(time=when))
    lines += [
        "",
        _("{count} units answer for this round:").format(count=len(result.units)),
    ]
    lines += [
        f"{STATE_MARKS[s]} " + _("{label}: {count}").format(label=state_label(s), count=counts[s])
        for s in st.STATES
    ]
    lines.append(
        f"{UNREACHABLE_MARK} "
        + _("No reachable contact: {count}").format(count=len(result.unreachable))
    )
    missing = result.not_reported_by_group()
    if result.units and not missing:
        lines += ["", "🎉 " + _("Every unit has submitted.")]
    elif missing:
        lines += ["", "<b>" + _("Not submitted yet") + "</b>"]
        for group, units in missing.items():
            lines.append(
                _("{kind} ({count}): {names}").format(
                    kind=group_label(group), count=len(units), names=_names(units, NAMES_BUDGET)
                )
            )
    changed = [u for u in result.units if u.pending_changes]
    if changed:
        lines += [
            "",
            f"{CHANGED_MARK} "
            + _("Changed after submitting, not submitted again: {names}").format(
                names=_names(changed, 300)
            ),
        ]
    if result.tasks:
        full = sum(1 for t in result.tasks if t.total and t.answered == t.total)
        none = sum(1 for t in result.tasks if t.answered == 0)
        lines += [
            "",
            _("Tasks: {full} of {total} answered by all their units, {none} by none yet.").format(
                full=full, total=len(result.tasks), none=none
            ),
        ]
    return _fit("\n".join(lines))


def _fit(text: str) -> str:
    """The text, or as many whole lines of it as fit (each line closes its own tags)."""
    if len(text) <= BUDGET:
        return text
    return text[: text.rfind("\n", 0, BUDGET - 2)] + "\n…"


def status_keyboard(result: RoundStatus, member: StaffMember) -> InlineKeyboardMarkup:
    round_id = result.round_id
    rows = [
        [
            _button("📊 " + _("Chart"), StatusView(act="chart", round=round_id)),
            _button("📑 " + _("Per task"), StatusView(act="tasks", round=round_id)),
        ],
        [
            _button("🏢 " + _("Units"), StatusView(act="units", round=round_id)),
            _button("📣 " + _("Late notice"), NoticeAct(round=round_id)),
        ],
    ]
    if member.is_admin and result.open and result.not_reported:
        rows.append(
            [
                _button(
                    "🔔 " + _("Remind units not yet submitted"),
                    NudgeAct(act="all", round=round_id),
                )
            ]
        )
    rows.append(
        [
            _button("🔄 " + _("Refresh"), StatusView(act="show", round=round_id)),
            _button("🗓 " + _("Other rounds"), StatusView(act="pick", round=round_id)),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def no_round_text() -> str:
    return _("There is no open round. Choose a round to see its status:")


def rounds_keyboard(choices: list[RoundChoice]) -> InlineKeyboardMarkup:
    rows = []
    for choice in choices:
        label = f"{choice.name} · {choice.due_date.isoformat()}"
        if not choice.open:
            label += " · " + _("closed")
        rows.append([_button(label, StatusView(act="show", round=choice.round_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def rounds_text(choices: list[RoundChoice]) -> str:
    if not choices:
        return _("There are no rounds yet (taizhang round add …).")
    return _("Choose a round:")


def _pages(count: int, size: int) -> int:
    return max(1, -(-count // size))


def _nav(page: int, pages: int, make) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀️", callback_data=make(page - 1).pack()))
    if pages > 1:
        row.append(
            InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=make(page).pack())
        )
    if page + 1 < pages:
        row.append(InlineKeyboardButton(text="▶️", callback_data=make(page + 1).pack()))
    return row


def _back(round_id: int) -> InlineKeyboardButton:
    return _button("📋 " + _("Round status"), StatusView(act="show", round=round_id))


# ------------------------------------------------------------------ per task


def tasks_text(result: RoundStatus, page: int) -> str:
    pages = _pages(len(result.tasks), TASKS_PAGE)
    page = min(max(page, 0), pages - 1)
    lines = [
        f"📑 <b>{esc(result.round_name)}</b>",
        _("Units that answered each task (answered / assigned):"),
        "",
    ]
    for task in result.tasks[page * TASKS_PAGE : (page + 1) * TASKS_PAGE]:
        if task.total and task.answered == task.total:
            mark = "✅"
        else:
            mark = "🟡" if task.answered else "⬜"
        lines.append(f"{mark} {task.number}. {esc(task.title)} — {task.answered}/{task.total}")
    if not result.tasks:
        lines.append(_("The plan has no tasks assigned to any unit."))
    return _fit("\n".join(lines))


def tasks_keyboard(result: RoundStatus, page: int) -> InlineKeyboardMarkup:
    pages = _pages(len(result.tasks), TASKS_PAGE)
    nav = _nav(page, pages, lambda p: StatusView(act="tasks", round=result.round_id, page=p))
    return InlineKeyboardMarkup(
        inline_keyboard=[row for row in (nav, [_back(result.round_id)]) if row]
    )


# ------------------------------------------------------------------ units


def ordered_units(result: RoundStatus) -> list[UnitStatus]:
    """Kind by kind, as the office groups them, each in the directory's order."""
    order = {group: index for index, group in enumerate(st.KIND_GROUPS)}
    return sorted(result.units, key=lambda u: order.get(u.group, len(order)))


def _unit_line(unit: UnitStatus) -> str:
    line = f"{STATE_MARKS[unit.state]} {esc(unit.label)} {unit.answered}/{unit.total}"
    if unit.version > 1:
        line += " · " + _("version {version}").format(version=unit.version)
    if unit.pending_changes:
        line += f" {CHANGED_MARK}"
    if not unit.reachable:
        line += f" {UNREACHABLE_MARK}"
    if unit.review:
        line += f" · {review_label(unit.review, unit.version)}"
    return line


def units_text(result: RoundStatus, page: int) -> str:
    units = ordered_units(result)
    pages = _pages(len(units), UNITS_PAGE)
    page = min(max(page, 0), pages - 1)
    lines = [
        f"🏢 <b>{esc(result.round_name)}</b>",
        _("Tap a unit to read its answers and versions."),
        "  ".join(f"{STATE_MARKS[s]} {state_short(s)}" for s in st.STATES),
        f"{UNREACHABLE_MARK} "
        + _("no reachable contact")
        + f"  {CHANGED_MARK} "
        + _("changed since submitting"),
    ]
    group = None
    for unit in units[page * UNITS_PAGE : (page + 1) * UNITS_PAGE]:
        if unit.group != group:
            group = unit.group
            lines += ["", f"<b>{group_label(group)}</b>"]
        lines.append(_unit_line(unit))
    return _fit("\n".join(lines))


def units_keyboard(result: RoundStatus, page: int) -> InlineKeyboardMarkup:
    units = ordered_units(result)
    pages = _pages(len(units), UNITS_PAGE)
    page = min(max(page, 0), pages - 1)
    rows: list[list[InlineKeyboardButton]] = []
    for unit in units[page * UNITS_PAGE : (page + 1) * UNITS_PAGE]:
        button = _button(
            f"{STATE_MARKS[unit.state]} {unit.label}",
            UnitView(act="show", round=result.round_id, unit=unit.unit_id, page=0),
        )
        if rows and len(rows[-1]) < 2:
            rows[-1].append(button)
        else:
            rows.append([button])
    nav = _nav(page, pages, lambda p: StatusView(act="units", round=result.round_id, page=p))
    if nav:
        rows.append(nav)
    rows.append([_back(result.round_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# ------------------------------------------------------------------ one unit


def _excerpt(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def unit_text(detail: UnitDetail, page: int) -> str:
    unit = detail.unit
    lines = [
        f"🏢 <b>{esc(unit.name)}</b> · {group_label(unit.group)}",
        f"📋 {esc(detail.round_name)} · "
        + _("deadline {date}").format(date=detail.due_date.isoformat()),
        f"{STATE_MARKS[unit.state]} {state_label(unit.state)} · "
        + _("answered {answered} of {total}").format(answered=unit.answered, total=unit.total),
    ]
    if unit.review:
        lines.append("📝 " + review_label(unit.review, unit.version))
    if detail.versions:
        lines += ["", "<b>" + _("Submitted versions") + "</b>"]
        shown = detail.versions[-5:]
        if len(detail.versions) > len(shown):
            lines.append(
                _("…{count} earlier versions").format(count=len(detail.versions) - len(shown))
            )
        for version in shown:
            line = _("Version {version}: {when}").format(
                version=version.version, when=version.at.strftime("%Y-%m-%d %H:%M")
            )
            who = version.by_label
            if version.source == "import":
                who = _("imported {file}").format(file=version.file_name or who)
            lines.append(f"• {line} · {esc(who)}" if who else f"• {line}")
        if unit.receipt_no:
            lines.append(_("Receipt {number}").format(number=esc(unit.receipt_no)))
    else:
        lines += ["", _("Not submitted yet.")]
    if unit.pending_changes:
        lines.append(
            f"{CHANGED_MARK} "
            + _("Changed since the last submitted version: tasks {numbers}").format(
                numbers=", ".join(map(str, unit.pending_changes))
            )
        )
    lines += ["", "<b>" + _("Contacts") + "</b>"]
    if not detail.contacts:
        lines.append(
            f"{UNREACHABLE_MARK} " + _("Nobody is bound to this unit: send an invite (/invite).")
        )
    for contact in detail.contacts:
        name = esc(contact.name) or _("(no name)")
        phone = f" {esc(contact.phone)}" if contact.phone else ""
        if contact.reachable:
            lines.append(f"✅ {name}{phone}")
        else:
            reason = f"（{esc(contact.reason)}）" if contact.reason else ""
            lines.append(f"{UNREACHABLE_MARK} {name}{phone} · " + _("cannot be reached") + reason)
    pages = _pages(len(detail.answers), ANSWERS_PAGE)
    page = min(max(page, 0), pages - 1)
    lines += [
        "",
        "<b>" + _("Answers, page {page} of {pages}").format(page=page + 1, pages=pages) + "</b>",
    ]
    head = "\n".join(lines)
    room = max(60, (BUDGET - len(head)) // ANSWERS_PAGE - 60)
    blocks = []
    for answer in detail.answers[page * ANSWERS_PAGE : (page + 1) * ANSWERS_PAGE]:
        mark = STATUS_MARKS.get(answer.status, "⬜")
        block = f"{mark} <b>{answer.number}.</b> {esc(answer.title)}"
        if answer.changed:
            block += f" {CHANGED_MARK}"
        if answer.text:
            block += "\n" + esc(_excerpt(answer.text, min(EXCERPT, room)))
        elif answer.status == "not_applicable":
            block += "\n" + _("Not applicable: {reason}").format(
                reason=esc(_excerpt(answer.reason, min(EXCERPT, room)))
            )
        else:
            block += " · " + _("(not answered)")
        if answer.evidence:
            block += "\n📎 " + _("{count} files").format(count=answer.evidence)
        blocks.append(block)
    return _fit(head + "\n" + "\n\n".join(blocks))


def unit_keyboard(detail: UnitDetail, page: int, member: StaffMember) -> InlineKeyboardMarkup:
    round_id, unit_id = detail.round_id, detail.unit.unit_id
    pages = _pages(len(detail.answers), ANSWERS_PAGE)
    rows = []
    nav = _nav(page, pages, lambda p: UnitView(act="show", round=round_id, unit=unit_id, page=p))
    if nav:
        rows.append(nav)
    actions = []
    if member.is_admin and detail.open and not detail.unit.reported:
        actions.append(
            _button(
                "🔔 " + _("Remind this unit"), NudgeAct(act="unit", round=round_id, unit=unit_id)
            )
        )
    if detail.submitted:
        actions.append(
            _button("📝 " + _("Review"), ReviewAct(act="show", round=round_id, unit=unit_id))
        )
    if actions:
        rows.append(actions)
    rows.append(
        [
            _button("🏢 " + _("Units"), StatusView(act="units", round=round_id)),
            _back(round_id),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


# ------------------------------------------------------------------ nudges


def nudge_text(result: NudgeResult) -> str:
    lines = [f"🔔 <b>{esc(result.round_name)}</b>"]
    if result.nudged:
        lines.append(
            _("Reminders queued: {queued} messages to {count} units.").format(
                queued=result.queued, count=len(result.nudged)
            )
        )
        lines.append(_("Reminded: {names}").format(names=name_list(result.nudged)))
    if result.already:
        lines.append(
            _("Already reminded today, nothing sent again: {names}").format(
                names=name_list(result.already)
            )
        )
    if result.already_submitted:
        lines.append(
            _("Already submitted, no reminder needed: {names}").format(
                names=name_list(result.already_submitted)
            )
        )
    if result.unreachable:
        lines.append(
            f"{UNREACHABLE_MARK} "
            + _("Cannot be reached (no contact the bot can write to): {names}").format(
                names=name_list(result.unreachable)
            )
        )
        lines.append(_("Send them an invite link (/invite) so someone can report."))
    if not (result.nudged or result.already or result.already_submitted or result.unreachable):
        lines.append(_("Every unit has submitted: nobody to remind."))
    elif not result.nudged and result.already:
        lines.append(_("No new reminders: each unit is reminded at most once a day."))
    return _fit("\n".join(lines))


# ------------------------------------------------------------------ the chart


def chart_data(result: RoundStatus) -> ChartData:
    counts = result.counts()
    by_group = result.counts_by_group()
    summary = " · ".join(f"{state_short(s)} {counts[s]}" for s in st.STATES)
    return ChartData(
        title=_("{round} · status").format(round=result.round_name),
        subtitle=f"{result.plan_title} · "
        + _("deadline {date}").format(date=result.due_date.isoformat()),
        note=_("{count} units: {summary}").format(count=len(result.units), summary=summary)
        + " · "
        + _("no reachable contact {count}").format(count=len(result.unreachable)),
        state_labels={s: state_short(s) for s in st.STATES},
        groups=[
            GroupBar(_("{kind} ({count})").format(kind=group_label(g), count=sum(c.values())), c)
            for g, c in by_group.items()
        ],
        tasks=[TaskBar(str(t.number), t.answered, t.total) for t in result.tasks],
        groups_title=_("Units by state"),
        tasks_title=_("Units that answered each task"),
        answered_label=_("answered"),
        assigned_label=_("assigned"),
        task_axis_label=_("task number"),
        units_axis_label=_("units"),
    )


def chart_caption(result: RoundStatus) -> str:
    counts = result.counts()
    return _("{round}: {reported} of {count} units submitted.").format(
        round=esc(result.round_name),
        reported=counts[st.ON_TIME] + counts[st.LATE],
        count=len(result.units),
    )
