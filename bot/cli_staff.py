"""`taizhang staff add|list|remove`: who is office staff, and with what role.

Registered in bot/cli.py as `app.add_typer(staff_app, name="staff")`. The running bot reads
the staff table on every staff action, so a change takes effect at once; the member's chat
menu gains the staff commands at their next /start or /help (and at every start of the bot).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

staff_app = typer.Typer(
    help="Office staff: who may see status and exports (viewer) or do everything (admin).",
    no_args_is_help=True,
)


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


def _cli():
    from bot import cli

    return cli


UserId = Annotated[int, typer.Argument(metavar="TELEGRAM_ID", help="The person's Telegram id.")]


@staff_app.command("add")
def staff_add(
    telegram_id: UserId,
    name: Annotated[str, typer.Option("--name", help="How notices and the audit name them.")] = "",
    role: Annotated[Role, typer.Option("--role", help="admin: everything; viewer: read.")] = (
        Role.ADMIN
    ),
) -> None:
    """Add a staff member, or change the name or role of one."""
    cli = _cli()

    async def work(session):
        from storage.services import audit, staff

        member, created = await staff.add_staff(session, telegram_id, name, role.value)
        action = "staff.add" if created else "staff.change"
        await audit.record(
            session, staff.OPERATOR, action, detail={"user": telegram_id, "role": role.value}
        )
        return member, created

    member, created = cli.run_with_session(work)
    verb = "added" if created else "updated"
    cli.console.print(
        f"staff {verb}: {member.name or '(no name)'} ({telegram_id}), {member.role}",
        highlight=False,
    )


@staff_app.command("list")
def staff_list(as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False):
    """List the staff: Telegram id, name, role, and where they come from."""
    from rich.table import Table

    cli = _cli()

    async def work(session):
        from sqlmodel import select

        from storage.models import Staff

        rows = (await session.exec(select(Staff).order_by(Staff.id))).all()
        return [
            {"telegram_id": r.telegram_user_id, "name": r.name, "role": r.role, "from": r.source}
            for r in rows
        ]

    rows = cli.run_with_session(work, commit=False)
    if as_json:
        cli.print_json(rows)
        return
    if not rows:
        cli.console.print("no staff yet (add with `taizhang staff add TELEGRAM_ID --name …`)")
        return
    table = Table("telegram id", "name", "role", "from")
    for r in rows:
        table.add_row(str(r["telegram_id"]), r["name"], r["role"], r["from"])
    cli.console.print(table)


@staff_app.command("remove")
def staff_remove(telegram_id: UserId) -> None:
    """Take a person's staff rights away (an id in STAFF_IDS comes back at the next start)."""
    cli = _cli()

    async def work(session):
        from storage.services import audit, staff

        member = await staff.remove_staff(session, telegram_id)
        await audit.record(session, staff.OPERATOR, "staff.remove", detail={"user": telegram_id})
        return member

    member = cli.run_with_session(work)
    cli.console.print(
        f"removed from staff: {member.name or '(no name)'} ({telegram_id})", highlight=False
    )


@staff_app.command("login-link")
def staff_login_link(
    telegram_id: UserId,
    show: Annotated[
        bool,
        typer.Option(
            "--print", help="Print the link here instead of sending it (it signs in as them)."
        ),
    ] = False,
) -> None:
    """A one-time sign-in link to the office's web console (10 minutes, one use), sent to the
    staff member's Telegram chat through the outbox (the running bot sends it)."""
    cli = _cli()
    settings = cli.load_settings_or_exit()
    from bot.web_server import web_base_url

    base_url = web_base_url(settings)

    async def work(session):
        from handlers.render_console import link_payload
        from storage.services import audit, staff, staff_web
        from storage.services.outbox import enqueue
        from storage.types import utcnow

        now = utcnow()
        try:
            made = await staff_web.create_login_link(session, telegram_id, now=now)
        except staff.StaffError:
            raise cli.fail(
                f"{telegram_id} is not office staff (see `taizhang staff list`)"
            ) from None
        link = staff_web.login_url(base_url, made.token)
        member = made.member
        await audit.record(
            session, staff.OPERATOR, "console.login_link", detail={"user": telegram_id}, now=now
        )
        if show:
            return link, member
        chat_id = member.chat_id or telegram_id
        language = member.language or settings.default_locale
        await enqueue(
            session,
            dedupe_key=f"console-login:{made.token[:12]}",
            kind="staff_notice",
            chat_id=chat_id,
            payload=link_payload(chat_id, link, language),
            now=now,
        )
        return None, member

    link, member = cli.run_with_session(work)
    if link:
        cli.console.print(link, highlight=False, soft_wrap=True)
        return
    cli.console.print(
        f"sign-in link to the web console queued for {member.name or telegram_id}'s chat "
        "(valid 10 minutes, once; the running bot sends it)",
        highlight=False,
    )
