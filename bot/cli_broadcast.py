"""`taizhang broadcast send|list|show|cancel`: the office's /broadcast, for scripts.

The same services as the bot, as the operator: `send` confirms at once and queues the
messages in the outbox, which the running bot's sender delivers (a time given with --at
makes them wait until then). `--file` is uploaded once through the Bot API into the first
admin's chat (Telegram then knows it by a file id, which every recipient's message reuses).

Registered in bot/cli.py as `app.add_typer(broadcast_app, name="broadcast")`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

broadcast_app = typer.Typer(
    help="Broadcasts: notices to units' contacts, with 收到 if asked.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]
IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The broadcast's number.")]
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _cli():
    from bot import cli

    return cli


def _when(moment: dt.datetime | None, timezone: str) -> str | None:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if moment else None


def _upload(settings, path: Path) -> tuple[str, str, int]:
    """Send the file once to the first admin's chat; returns (kind, file id, size)."""
    import asyncio

    from aiogram.types import FSInputFile

    from bot.app import build_bot
    from bot.attachments import holding_chat, upload

    cli = _cli()
    size = path.stat().st_size
    chat_id = cli.run_with_session(
        lambda session: holding_chat(session, None, settings.staff_ids), commit=False
    )
    if chat_id is None:
        raise cli.fail("--file needs an office admin's chat to upload it to (taizhang staff add)")
    kind = "photo" if path.suffix.lower() in PHOTO_SUFFIXES else "document"

    async def send() -> tuple[str, str, int]:
        bot = build_bot(settings)
        try:
            caption = f"📎 {path.name} (taizhang broadcast send)"
            file = FSInputFile(path, filename=path.name)
            sent_kind, file_id = await upload(bot, chat_id, file, kind, caption)
            return sent_kind, file_id, size
        finally:
            await bot.session.close()

    try:
        return asyncio.run(send())
    except Exception as error:  # the Bot API refused, or is out of reach
        raise cli.fail(f"cannot upload {path.name}: {error}") from None


@broadcast_app.command("send")
def broadcast_send(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="all | kind:KIND | plan:PLAN | late:ROUND | units:A,B (names or short names).",
        ),
    ],
    text: Annotated[str, typer.Option("--text", help="The notice (plain text, at most 4,096).")],
    file: Annotated[
        Path | None, typer.Option("--file", help="A document or photo to send with it (≤ 50 MB).")
    ] = None,
    ack: Annotated[bool, typer.Option("--ack", help="Ask each recipient to press 收到.")] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Send at YYYY-MM-DD HH:MM (plan's zone, in office hours)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send a notice: prints the broadcast's number (with --json: id, recipients, units…)."""
    cli = _cli()
    settings = cli.load_settings_or_exit()
    from storage.services.broadcasts import FILE_LIMIT, BroadcastError, check_text

    try:
        check_text(text, attachment=file is not None)
    except BroadcastError as error:
        raise cli.fail(str(error)) from None
    attachment: dict = {}
    if file is not None:
        if not file.is_file():
            raise cli.fail(f"no file {file}")
        if file.stat().st_size > FILE_LIMIT:
            size = file.stat().st_size / 1024 / 1024
            raise cli.fail(f"{file.name} has {size:.1f} MB; bots send at most 50 MB")
        kind, file_id, size = _upload(settings, file)
        attachment = {
            "attachment_kind": kind,
            "attachment_file_id": file_id,
            "attachment_name": file.name,
            "attachment_size": size,
        }

    async def work(session):
        from scheduler import broadcasts as sb
        from storage.services import broadcasts as bc
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        now = utcnow()
        spec = await bc.parse_audience(session, to)
        row = await bc.create_draft(
            session, OPERATOR, audience=spec, text=text, ask_ack=ack, now=now, **attachment
        )
        if at:
            moment = sb.parse_time(at, row.timezone, now)
            await sb.schedule(session, OPERATOR, row.id, moment, now=now)
        return await sb.confirm_and_queue(
            session, OPERATOR, row.id, now=now, default_language=settings.default_locale
        )

    confirmed = cli.run_with_session(work)
    row = confirmed.broadcast
    people = len({r.chat_id for r in confirmed.recipients})
    units = len({r.unit_id for r in confirmed.recipients})
    if as_json:
        cli.print_json(
            {
                "id": row.id,
                "status": row.status,
                "recipients": people,
                "contacts": len(confirmed.recipients),
                "units": units,
                "unreachable_units": confirmed.unreachable_units,
                "ask_ack": row.ask_ack,
                "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None,
            }
        )
        return
    when = f" at {_when(row.scheduled_at, row.timezone)}" if row.scheduled_at else ""
    cli.console.print(
        f"{row.id}\nbroadcast {row.id}: {people} people in {units} units, queued{when}",
        highlight=False,
    )
    if confirmed.unreachable_units:
        cli.console.print(
            "nobody reachable at: " + "、".join(confirmed.unreachable_units), highlight=False
        )


def _summary_json(item) -> dict:
    row = item.broadcast
    return {
        **item.progress.to_json(),
        "audience": row.audience,
        "audience_name": item.audience.name,
        "text": row.text,
        "attachment": row.attachment_name or row.attachment_kind or None,
        "created_by": row.created_by_label,
        "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
    }


@broadcast_app.command("list")
def broadcast_list(as_json: JsonOption = False) -> None:
    """The latest broadcasts: status, sent, failed, pending, 收到."""
    cli = _cli()

    async def work(session):
        from storage.services import broadcasts as bc
        from storage.services.staff import OPERATOR

        return await bc.list_broadcasts(session, OPERATOR, limit=50)

    items = cli.run_with_session(work, commit=False)
    if as_json:
        cli.print_json([_summary_json(item) for item in items])
        return
    from rich.table import Table

    table = Table("id", "when", "to", "status", "sent", "failed", "pending", "收到")
    for item in items:
        row, found = item.broadcast, item.progress
        table.add_row(
            str(row.id),
            _when(row.scheduled_at or row.confirmed_at, row.timezone) or "",
            row.audience
            if item.audience.kind == "all"
            else f"{item.audience.kind}:{item.audience.name}",
            row.status,
            str(found.sent),
            str(found.failed),
            str(found.pending),
            str(found.acknowledged) if row.ask_ack else "-",
        )
    cli.console.print(table)


@broadcast_app.command("show")
def broadcast_show(broadcast_id: IdArgument, as_json: JsonOption = False) -> None:
    """One broadcast: recipients, sent, failed, pending, acknowledged; failures and 收到."""
    cli = _cli()

    async def work(session):
        from storage.services import broadcasts as bc
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        item = await bc.summary(session, OPERATOR, broadcast_id, now=utcnow())
        _, lines = await bc.delivery_report(session, OPERATOR, broadcast_id)
        units = (
            await bc.acks_by_unit(session, OPERATOR, broadcast_id)
            if item.broadcast.ask_ack
            else []
        )
        return item, lines, units

    item, lines, units = cli.run_with_session(work, commit=False)
    failures = [
        {"unit": line.unit, "contact": line.contact, "status": line.status,
         "reason": line.reason, "error": line.error}
        for line in lines
        if line.status in ("failed", "unreachable")
    ]  # fmt: skip
    acks = [
        {"unit": u.label, "acknowledged": u.acknowledged, "waiting": u.waiting,
         "not_delivered": u.not_delivered}
        for u in units
    ]  # fmt: skip
    if as_json:
        cli.print_json({**_summary_json(item), "failures": failures, "units": acks})
        return
    row, found = item.broadcast, item.progress
    out = cli.console
    out.print(f"broadcast {row.id} · {row.status} · to {row.audience} ({item.audience.name})",
              highlight=False)  # fmt: skip
    out.print(
        f"recipients {found.recipients} · sent {found.sent} · failed {found.failed} · "
        f"pending {found.pending} · withdrawn {found.withdrawn}"
        + (f" · acknowledged {found.acknowledged}" if row.ask_ack else ""),
        highlight=False,
    )
    if found.finishes_at:
        out.print(f"finishes about {_when(found.finishes_at, row.timezone)}", highlight=False)
    for failure in failures:
        out.print(
            f"  ✗ {failure['unit']} {failure['contact']}: {failure['reason']} {failure['error']}",
            highlight=False,
        )
    for unit in acks:
        mark = "✓" if unit["acknowledged"] else "…"
        names = ", ".join(unit["acknowledged"] or unit["waiting"])
        out.print(f"  {mark} {unit['unit']}: {names}", highlight=False)


@broadcast_app.command("cancel")
def broadcast_cancel(broadcast_id: IdArgument) -> None:
    """Cancel: every message not yet on its way is withdrawn; what went stays sent."""
    cli = _cli()

    async def work(session):
        from storage.services import broadcasts as bc
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        return await bc.cancel(session, OPERATOR, broadcast_id, now=utcnow())

    done = cli.run_with_session(work)
    if done.already:
        cli.console.print(f"broadcast {broadcast_id} was cancelled already", highlight=False)
        return
    cli.console.print(
        f"broadcast {broadcast_id} cancelled: {done.withdrawn} messages withdrawn",
        highlight=False,
    )
