"""/export as messages: the round and what to export, the progress message, the captions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.render import esc
from handlers.staff_callbacks import ExportAct
from storage.services.export_files import (
    Exported,
    ExportError,
    RoundChoice,
    Stage,
    Step,
    UnitChoice,
    What,
    command_line,
)

ROUNDS_PER_PAGE = 6
UNITS_PER_PAGE = 8


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def what_label(what: What | str, unit_name: str = "") -> str:
    what = What(what)
    if what is What.UNIT:
        return _("the form of {unit}").format(unit=unit_name) if unit_name else _("a unit's form")
    return {
        What.DOCX: _("consolidated ledger (Word)"),
        What.XLSX: _("consolidated ledger (Excel)"),
        What.PDF: _("consolidated ledger (PDF)"),
        What.ZIP: _("round archive (ZIP)"),
    }[what]


def _round_state(choice: RoundChoice) -> str:
    return _("open for reporting") if choice.open else _("closed to reporting")


# ---------------------------------------------------------------- the menu


def menu_text(choice: RoundChoice) -> str:
    lines = [
        "📥 <b>" + _("Export") + "</b>",
        esc(choice.plan_title),
        "<b>"
        + esc(choice.name)
        + "</b> · "
        + _("due {date}").format(date=choice.due.isoformat())
        + " · "
        + _round_state(choice),
        _("Submitted: {submitted} of {units} units").format(
            submitted=choice.submitted, units=choice.units
        ),
        "",
        _("Each unit's last submitted version is printed; a unit not yet submitted is blank."),
        _("What should I export?"),
    ]
    return "\n".join(lines)


def menu_keyboard(choice: RoundChoice) -> InlineKeyboardMarkup:
    def file(what: What, text: str) -> InlineKeyboardButton:
        data = ExportAct(act="file", round=choice.id, what=what.value).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    units = ExportAct(act="units", round=choice.id).pack()
    rounds = ExportAct(act="rounds", round=choice.id).pack()
    rows = [
        [
            file(What.DOCX, "📄 " + _("Ledger · Word")),
            file(What.XLSX, "📊 " + _("Ledger · Excel")),
        ],
        [
            file(What.PDF, "🖨 " + _("Ledger · PDF")),
            InlineKeyboardButton(text="🏢 " + _("A unit's form"), callback_data=units),
        ],
        [file(What.ZIP, "🗂 " + _("Round archive (ZIP, everything)"))],
        [InlineKeyboardButton(text="🔄 " + _("Another round"), callback_data=rounds)],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def no_rounds_text() -> str:
    return _("There are no reporting rounds yet, so there is nothing to export.")


# ---------------------------------------------------------------- choosing a round or a unit


def _pager(
    builder: InlineKeyboardBuilder, page: int, pages: int, make: callable, back: str
) -> None:
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text="◀", callback_data=make(page - 1)))
    if pages > 1:
        nav.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=make(page)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(text="▶", callback_data=make(page + 1)))
    if nav:
        builder.row(*nav)
    builder.row(InlineKeyboardButton(text="↩ " + _("Back"), callback_data=back))


def pages_of(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def rounds_text() -> str:
    return "📥 " + _("Which round? Open rounds first, then closed ones (latest first).")


def rounds_keyboard(choices: list[RoundChoice], page: int, current: int) -> InlineKeyboardMarkup:
    pages = pages_of(len(choices), ROUNDS_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for choice in choices[page * ROUNDS_PER_PAGE : (page + 1) * ROUNDS_PER_PAGE]:
        mark = "🟢" if choice.open else "⚪"
        label = f"{mark} {choice.name} · {choice.due.isoformat()}"
        data = ExportAct(act="menu", round=choice.id).pack()
        builder.row(InlineKeyboardButton(text=label, callback_data=data))
    _pager(
        builder,
        page,
        pages,
        lambda p: ExportAct(act="rounds", round=current, page=p).pack(),
        ExportAct(act="menu", round=current).pack(),
    )
    return builder.as_markup()


def units_text(choice: RoundChoice) -> str:
    return (
        "🏢 "
        + _("Whose form? {round} · due {date}").format(
            round=esc(choice.name), date=choice.due.isoformat()
        )
        + "\n"
        + _("✅ submitted · ⬜ not yet (its form prints blank)")
    )


def units_keyboard(round_id: int, units: list[UnitChoice], page: int) -> InlineKeyboardMarkup:
    pages = pages_of(len(units), UNITS_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for unit in units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]:
        mark = "✅" if unit.submitted else "⬜"
        data = ExportAct(act="file", round=round_id, what=What.UNIT.value, unit=unit.id).pack()
        builder.row(InlineKeyboardButton(text=f"{mark} {unit.name}", callback_data=data))
    _pager(
        builder,
        page,
        pages,
        lambda p: ExportAct(act="units", round=round_id, page=p).pack(),
        ExportAct(act="menu", round=round_id).pack(),
    )
    return builder.as_markup()


# ---------------------------------------------------------------- making the file


def _stage_text(step: Step | None) -> str:
    if step is None:
        return _("Starting…")
    counted = f" {step.done}/{step.total}" if step.total > 1 else ""
    return {
        Stage.LOADING: _("Reading the round…"),
        Stage.FORMS: _("Writing the units' forms") + counted,
        Stage.CONSOLIDATED: _("Writing the consolidated ledger (Word)…"),
        Stage.WORKBOOK: _("Writing the consolidated ledger (Excel)…"),
        Stage.EVIDENCE: _("Packing the evidence files") + counted,
        Stage.MANIFEST: _("Writing the list of files…"),
        Stage.PDF: _("Converting to PDF with LibreOffice…"),
        Stage.SPLITTING: _("The archive is large: cutting it into parts") + counted,
    }[step.stage]


def progress_heading(what: What | str, round_name: str, unit_name: str = "") -> str:
    return "<b>" + esc(what_label(what, unit_name)) + "</b> · " + esc(round_name)


def progress_text(heading: str, step: Step | None) -> str:
    return f"{heading}\n⏳ {_stage_text(step)}"


def sending_text(heading: str, done: int, total: int) -> str:
    counted = f" {done}/{total}" if total > 1 else ""
    return f"{heading}\n⏳ " + _("Sending") + counted + "…"


def done_text(heading: str, exported: Exported) -> str:
    if exported.parts:
        said = _(
            "Sent in {count} parts ({size} in all). Each part is a ZIP that opens on its own; "
            "together they hold the whole archive."
        ).format(count=len(exported.files), size=size_text(exported.size))
    else:
        said = _("Sent ({size}).").format(size=size_text(exported.size))
    return f"{heading}\n✅ {said}"


def caption(exported: Exported, number: int) -> str:
    label = what_label(exported.what, exported.unit_name)
    lines = [
        f"{label} · {exported.round_name} · "
        + _("due {date}").format(date=exported.round_due.isoformat())
    ]
    if exported.parts:
        count = len(exported.files)
        lines.append(_("Part {number} of {count}").format(number=number, count=count))
    if exported.what is What.UNIT:
        lines.append(_("The unit's last submitted version; blank where it has not submitted."))
    else:
        lines.append(
            _("Submitted: {submitted} of {units} units; the others are blank.").format(
                submitted=exported.submitted_units, units=exported.units
            )
        )
    return esc("\n".join(lines))


def failed_text(heading: str, error: ExportError, round_id: int, what: str) -> str:
    if error.code == "no_office":
        said = _(
            "LibreOffice is not installed on the server, so no PDF can be made. Export the "
            "Word file instead, or ask the administrator to install LibreOffice."
        )
    elif error.code == "pdf_failed":
        said = _("LibreOffice could not make the PDF: {detail}").format(detail=esc(error.detail))
    elif error.code == "too_large":
        said = _(
            "The file is {size}, over the {limit} a bot may send on Telegram, so it cannot come "
            "through the chat. On the server, export it with the command line:"
        ).format(size=size_text(error.size), limit=size_text(error.limit))
        said += f"\n<code>{esc(command_line(round_id, What(what)))}</code>"
    elif error.code == "no_form":
        said = _("This unit answers for no task in this round, so it has no form.")
    else:
        said = _("This cannot be exported.")
    return f"{heading}\n⚠️ {said}"


def not_found_text(heading: str) -> str:
    return f"{heading}\n⚠️ " + _("That round or unit no longer exists.")
