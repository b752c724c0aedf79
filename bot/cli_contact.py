"""`taizhang contact …`: a contact's e-mail address and whether they are reminded by e-mail."""

from __future__ import annotations

from typing import Annotated

import typer

contact_app = typer.Typer(
    help="Contacts: e-mail addresses for e-mail reminders.", no_args_is_help=True
)


def _cli():
    from bot import cli

    return cli


@contact_app.command("email")
def contact_email(
    contact_id: Annotated[int, typer.Argument(metavar="ID", help="Contact id.")],
    address: Annotated[
        str, typer.Argument(metavar="ADDRESS", help='The address; "" or --clear removes it.')
    ] = "",
    clear: Annotated[bool, typer.Option("--clear", help="Remove the address.")] = False,
    prefer: Annotated[
        bool | None,
        typer.Option(
            "--prefer/--no-prefer",
            help="Remind by e-mail even while Telegram reaches them (or no longer).",
        ),
    ] = None,
) -> None:
    """Set or clear a contact's e-mail address. Contacts with an address and no Telegram chat
    the bot can reach (or who prefer it) are reminded by e-mail when SMTP__HOST is set; a new
    address forgets an earlier refusal by the mail server."""
    cli = _cli()
    if clear and address:
        raise cli.fail("give an ADDRESS or --clear, not both", 2)
    if not clear and not address and prefer is None:
        raise cli.fail("give an ADDRESS, --clear, or --prefer/--no-prefer", 2)

    async def work(session):
        from storage.models import Contact
        from storage.services.email_contacts import set_email

        contact = await session.get(Contact, contact_id)
        current = contact.email if contact is not None else ""
        return await set_email(
            session, contact_id, "" if clear else (address or current), prefer=prefer
        )

    change = cli.run_with_session(work)
    if change.email:
        how = (
            "by e-mail" if change.remind_by_email else "by e-mail when Telegram cannot reach them"
        )
        cli.console.print(
            f"contact {change.contact_id} ({change.unit_name}): {change.email}, reminded {how}",
            highlight=False,
        )
    else:
        cli.console.print(
            f"contact {change.contact_id} ({change.unit_name}): no e-mail address", highlight=False
        )
