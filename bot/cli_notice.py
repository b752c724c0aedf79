"""`taizhang notice late ROUND -o 通报.docx` and `taizhang notice template`: the 通报 naming the
units that reported a round late or not at all, as the operator; the same service as the
office's 📣 通报 button (storage.services.notice). See docs/notice.md.

Registered in bot/cli.py as `app.add_typer(notice_app, name="notice")`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_status import PlanOption, RoundArgument

notice_app = typer.Typer(
    help="The 通报: the notice naming units that reported late or not at all.",
    no_args_is_help=True,
)


def _cli():
    from bot import cli

    return cli


@notice_app.command("late")
def notice_late(
    round_ref: RoundArgument,
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Where to write the Word file (.docx).")
    ],
    plan: PlanOption = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")
    ] = False,
    template: Annotated[
        Path | None,
        typer.Option("--template", help="Your own template (see `taizhang notice template`)."),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help="发文机关 (default: the plan's issuing office)."),
    ] = None,
    number: Annotated[
        str, typer.Option("--number", help="发文字号, e.g. 兴政办发〔2023〕12号 (default: none).")
    ] = "",
    date: Annotated[
        str | None,
        typer.Option("--date", help="成文日期, YYYY-MM-DD (default: today in the plan's zone)."),
    ] = None,
) -> None:
    """Write the 通报 of a round: the units that reported late or not at all.

    Units that submitted after the deadline (with when) and those that have not submitted (a
    partly answered report counts as not submitted), by kind, as an official Word document
    (A4, GB/T 9704). Nothing is written when every unit reported on time."""
    cli = _cli()
    if out.suffix.lower() != ".docx":
        raise cli.fail(f"-o {out}: the notice is a Word file, name it ….docx")
    try:
        issued_on = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise cli.fail(f"--date {date!r}: write YYYY-MM-DD") from None
    text = None
    if template is not None:
        try:
            text = template.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise cli.fail(f"cannot read the template {template}: {err}") from None
    if pdf:
        from ledger.pdf import office_available

        if not office_available():
            raise cli.fail("--pdf needs LibreOffice (soffice), which is not installed")

    async def work(session):
        from storage.services import notice, rounds
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        round_ = await rounds.find_round(session, round_ref, plan)
        try:
            return await notice.late_notice(
                session,
                OPERATOR,
                round_.id,
                now=utcnow(),
                template=text,
                issuer=issuer,
                number=number,
                issued_on=issued_on,
            )
        except notice.NoticeError as err:
            if err.code == "nothing_to_announce":
                raise cli.fail(
                    f"{round_.name}: every unit reported on time, there is nothing to announce"
                ) from None
            raise cli.fail(f"{template}: {err.detail}") from None

    made = cli.run_with_session(work)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(made.payload)
    written = [out]
    if pdf:
        from ledger.errors import LedgerError
        from ledger.pdf import pdf_bytes

        try:
            out.with_suffix(".pdf").write_bytes(pdf_bytes(made.payload))
        except LedgerError as err:
            raise cli.fail(str(err)) from None
        written.append(out.with_suffix(".pdf"))
    data = made.data
    cli.console.print(
        f"{data.round_name}: {len(data.late)} late, {len(data.missing)} not reported, "
        f"of {data.unit_count} units; wrote {', '.join(map(str, written))}",
        highlight=False,
        soft_wrap=True,
    )
    if made.before_deadline:
        cli.console.print(
            f"note: the deadline ({data.due_date}) has not passed yet; "
            "units not yet submitted are listed as not reported",
            highlight=False,
        )


@notice_app.command("template")
def notice_template() -> None:
    """Print the default template, to copy and edit (then: notice late … --template FILE)."""
    from ledger.notice import default_template

    typer.echo(default_template(), nl=False)
