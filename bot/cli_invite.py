"""`taizhang invite …`: invite links (and their QR codes) that bind a contact to a unit.

Registered in bot/cli.py:

    from bot.cli_invite import invite_app
    app.add_typer(invite_app, name="invite")

The token is shown once, in the link; the database keeps only its sha256. Heavy modules are
imported inside the commands, as in bot/cli.py.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from ledger.qr import QR_BOX_SHEET, qr_png

invite_app = typer.Typer(
    help="Invites: links and QR codes that bind a contact's Telegram account to a unit.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

EXPIRES_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_EXPIRES = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$", re.IGNORECASE)
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_UNSAFE_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
KIND_LABELS = {"department": "部门", "township": "乡镇", "street": "街道", "section": "科室"}
GETME_TIMEOUT = 15  # seconds


def _cli():
    from bot import cli

    return cli


# ---------------------------------------------------------------- small pure helpers


class BadExpiry(ValueError):
    pass


def parse_expires(text: str) -> dt.timedelta | None:
    """`14d`, `36h`, `90m` → a duration; `never` → None. Anything else: BadExpiry."""
    if text.strip().lower() == "never":
        return None
    match = _EXPIRES.match(text)
    if not match:
        raise BadExpiry(
            f"--expires must look like 14d, 36h, 90m or never (days, hours, minutes), not {text!r}"
        )
    amount, unit = int(match[1]), match[2].lower()
    if amount == 0:
        raise BadExpiry(
            f"--expires must be more than zero, like 14d, 36h, 90m, or never, not {text!r}"
        )
    return dt.timedelta(**{EXPIRES_UNITS[unit]: amount})


def clean_username(name: str) -> str:
    """A bot username as given (with or without @), checked; ValueError when malformed."""
    name = name.strip().removeprefix("@")
    if not _USERNAME.match(name):
        raise ValueError(
            f"{name!r} is not a Telegram username (5–32 letters, digits and _, starting with a "
            "letter)"
        )
    return name


def default_qr_path(unit_name: str) -> Path:
    return Path(f"invite-{_UNSAFE_IN_FILE_NAME.sub('_', unit_name).strip(' .') or 'unit'}.png")


# ---------------------------------------------------------------- the bot's username


class NoUsername(Exception):
    """The bot's username could not be found; the message says what to do."""


def find_bot_username(given: str | None) -> str:
    """--bot-username (or BOT_USERNAME), else ask Telegram's getMe with BOT_TOKEN."""
    if given:
        try:
            return clean_username(given)
        except ValueError as err:
            raise NoUsername(f"--bot-username: {err}") from None
    settings = _cli().load_settings_or_exit()
    if not settings.bot_token:
        raise NoUsername(
            "the link needs the bot's username: give --bot-username NAME (or set BOT_USERNAME), "
            "or set BOT_TOKEN so it can be asked from Telegram (getMe)"
        )
    import asyncio

    return asyncio.run(_get_me_username(settings.telegram_api_base, settings.bot_token))


async def _get_me_username(api_base: str, token: str) -> str:
    import aiohttp

    hint = "; or give --bot-username NAME (or set BOT_USERNAME)"
    where = f"getMe at {api_base}"
    try:
        timeout = aiohttp.ClientTimeout(total=GETME_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"{api_base}/bot{token}/getMe") as response,
        ):
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        detail = str(err).replace(token, "<BOT_TOKEN>") or type(err).__name__
        raise NoUsername(
            f"cannot ask Telegram for the bot's username ({where}): {detail}{hint}"
        ) from None
    if not isinstance(answer, dict) or not answer.get("ok"):
        said = answer.get("description", "no answer") if isinstance(answer, dict) else answer
        raise NoUsername(f"Telegram refused {where}: {said} (is BOT_TOKEN right?){hint}")
    username = (answer.get("result") or {}).get("username")
    if not username:
        raise NoUsername(f"{where} gave no username{hint}")
    return username


# ---------------------------------------------------------------- writing files safely


@dataclass
class PendingFile:
    """A file written beside its destination and moved into place only once all is saved."""

    path: Path

    @property
    def temporary(self) -> Path:
        return self.path.with_name(f".{self.path.name}.part")

    def check(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise _cli().fail(f"cannot write {self.path}: folder {folder} does not exist", 2)
        if self.path.is_dir():
            raise _cli().fail(f"cannot write {self.path}: it is a folder", 2)

    def write(self, data: bytes) -> None:
        """Called inside the transaction: a failure here rolls the invites back."""
        from storage.services.errors import ServiceError

        try:
            self.temporary.write_bytes(data)
        except OSError as err:
            raise ServiceError(f"cannot write {self.path}: {err.strerror}") from None

    def finish(self) -> None:
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


def _saved_with(files: list[PendingFile], work) -> Any:
    """Run `work` in one transaction; its files appear only when the invites are committed."""
    try:
        result = _cli().run_with_session(work)
    except BaseException:
        for pending in files:
            pending.discard()
        raise
    for pending in files:
        pending.finish()
    return result


# ---------------------------------------------------------------- create


UnitOption = Annotated[
    str | None, typer.Option("--unit", help="Unit: canonical name, short name or alias.")
]
AllUnitsOption = Annotated[
    bool, typer.Option("--all-units", help="One invite for every active unit, into a workbook.")
]
DirectoryOption = Annotated[
    str | None, typer.Option("--directory", help="Units directory key (e.g. xingqing).")
]
UsesOption = Annotated[
    int | None,
    typer.Option("--uses", min=1, help="How many people (web: browsers) may use it [1; web: 3]."),
]
ExpiresOption = Annotated[
    str | None,
    typer.Option("--expires", help="Valid for: 14d, 36h, 90m, or never [14d; web: 30d]."),
]
WebOption = Annotated[
    bool,
    typer.Option(
        "--web",
        help="A personal link to the web report form (WEB__BASE_URL/…) instead of the bot.",
    ),
]
NameOption = Annotated[
    str, typer.Option("--name", help="With --web: the contact's name (and --phone) for the form.")
]
PhoneOption = Annotated[str, typer.Option("--phone", help="With --web: the contact's phone.")]
EmailOption = Annotated[
    str,
    typer.Option(
        "--email",
        help="With --web: the contact's e-mail address; the contact is made now and gets "
        "e-mail reminders (SMTP__HOST) with personal links.",
    ),
]
QrOption = Annotated[
    Path | None,
    typer.Option("--qr", help="QR code PNG to write (default: invite-<unit>.png here)."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Workbook for --all-units (default: invites.xlsx)."),
]
UsernameOption = Annotated[
    str | None,
    typer.Option(
        "--bot-username",
        envvar="BOT_USERNAME",
        help="The bot's @username for the link (default: asked from Telegram with BOT_TOKEN).",
    ),
]


@invite_app.command("create")
def invite_create(
    unit: UnitOption = None,
    all_units: AllUnitsOption = False,
    directory: DirectoryOption = None,
    uses: UsesOption = None,
    expires: ExpiresOption = None,
    qr: QrOption = None,
    output: OutputOption = None,
    bot_username: UsernameOption = None,
    web: WebOption = False,
    name: NameOption = "",
    phone: PhoneOption = "",
    email: EmailOption = "",
) -> None:
    """Create an invite link and its QR code (or, with --all-units, a workbook of them);
    with --web, a personal link to the web report form."""
    cli = _cli()
    if (name or phone or email) and not (web and unit):
        raise cli.fail("--name, --phone and --email are for one unit's --web link", 2)
    if email:
        from storage.services.email_contacts import BadEmail, normalise_email

        try:
            email = normalise_email(email)
        except BadEmail as err:
            raise cli.fail(str(err), 2) from None
    uses = uses or (3 if web else 1)
    expires = expires or ("30d" if web else "14d")
    if bool(unit) == all_units:
        raise cli.fail("give either --unit NAME or --all-units", 2)
    if all_units and qr:
        raise cli.fail("--qr is for one unit; --all-units puts the QR codes in the workbook", 2)
    if unit and output:
        raise cli.fail("-o/--output is for --all-units; for one unit use --qr FILE.png", 2)
    try:
        expires_in = parse_expires(expires)
    except BadExpiry as err:
        raise cli.fail(str(err), 2) from None
    settings = cli.load_settings_or_exit()
    web_base = ""
    if web:
        web_base = settings.web.base_url
        if not web_base:
            raise cli.fail(
                "--web links are built from WEB__BASE_URL: set it to the form's public address "
                "(e.g. https://tz.example.gov.cn)",
                2,
            )
        username = ""
    else:
        try:
            username = find_bot_username(bot_username)
        except NoUsername as err:
            raise cli.fail(str(err), 2) from None
    request = Request(
        directory, uses, expires_in, username, settings.zone, web_base, name, phone, email
    )
    if all_units:
        _create_for_all(request, output or Path("invites.xlsx"))
    else:
        _create_for_one(request, unit, qr)


@dataclass
class Request:
    directory: str | None
    uses: int
    expires_in: dt.timedelta | None
    bot_username: str
    zone: ZoneInfo
    web_base: str = ""  # a web link's address starts so; "": a Telegram deep link
    name: str = ""
    phone: str = ""
    email: str = ""  # with web_base: the link is for the unit's contact of this address

    async def create(self, session, unit, **person: str):
        """(created invite, its link): a web link with `web_base`, else a deep link."""
        from storage.services.invites import create_invite, deep_link
        from storage.services.web_access import create_web_invite, web_link
        from storage.types import utcnow

        if self.web_base and self.email:
            from storage.services.email_contacts import create_email_contact

            contact = await create_email_contact(session, unit, self.email, now=utcnow(), **person)
            created = await create_web_invite(
                session,
                unit,
                now=utcnow(),
                uses=self.uses,
                expires_in=self.expires_in,
                contact_id=contact.id,
            )
            return created, web_link(self.web_base, created.token)
        if self.web_base:
            created = await create_web_invite(
                session, unit, now=utcnow(), uses=self.uses, expires_in=self.expires_in, **person
            )
            return created, web_link(self.web_base, created.token)
        created = await create_invite(session, unit, uses=self.uses, expires_in=self.expires_in)
        return created, deep_link(self.bot_username, created.token)


def _create_for_one(request: Request, name: str, qr: Path | None) -> None:
    from storage.services.invites import find_unit

    files: list[PendingFile] = []

    async def work(session):
        found = await find_unit(session, name, request.directory)
        pending = PendingFile(qr or default_qr_path(found.name))
        pending.check()
        person = {"name": request.name, "phone": request.phone} if request.web_base else {}
        created, link = await request.create(session, found, **person)
        files.append(pending)
        pending.write(qr_png(link))
        return _describe(created.invite, found, request.zone), link

    row, link = _saved_with(files, work)
    _print_created(row, link, files[0].path)


def _print_created(row: dict[str, Any], link: str, qr_path: Path) -> None:
    console = _cli().console
    console.print(
        f"invite {row['id']} for [bold]{row['unit']}[/]: {_uses_text(row)}, {_expiry_text(row)}",
        highlight=False,
    )
    sys.stdout.write(link + "\n")  # on a line of its own, never wrapped or styled
    console.print(f"QR code written to {qr_path.resolve()}", highlight=False, soft_wrap=True)
    console.print(
        "send the link or the QR code to the unit's contact; it is shown only now "
        "(the database keeps only its hash)",
        style="dim",
    )


def _create_for_all(request: Request, output: Path) -> None:
    from storage.services.directories import list_units
    from storage.services.errors import NotFound

    if output.suffix.lower() != ".xlsx":
        raise _cli().fail(f"-o/--output must be an .xlsx workbook, not {output}", 2)
    pending = PendingFile(output)
    pending.check()

    async def work(session):
        rows = []
        for _, unit, _ in await list_units(session, request.directory):
            if unit.active:
                created, link = await request.create(session, unit)
                row = _describe(created.invite, unit, request.zone)
                row["link"] = link
                rows.append(row)
        if not rows:
            where = f"directory {request.directory!r}" if request.directory else "any directory"
            raise NotFound(f"no active units in {where} (see `taizhang units list`)")
        pending.write(invites_workbook(rows))
        return rows

    rows = _saved_with([pending], work)
    _cli().console.print(
        f"{len(rows)} invites created ({_uses_text(rows[0])}, {_expiry_text(rows[0])}); "
        f"links and QR codes written to {output.resolve()}",
        highlight=False,
        soft_wrap=True,
    )


# ---------------------------------------------------------------- the workbook

HEADERS = ["编号 id", "单位 unit", "简称 short", "类别 kind", "邀请链接 link", "有效期至 expires"]
HEADERS += ["可用次数 uses", "二维码 QR"]
WIDTHS = [8, 30, 14, 8, 70, 18, 10]


def invites_workbook(rows: list[dict[str, Any]]) -> bytes:
    """One row per invite: its unit, link and QR code image; as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "邀请 invites"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    qr_column = get_column_letter(len(HEADERS))
    for number, row in enumerate(rows, start=2):
        sheet.append(
            [
                row["id"],
                row["unit"],
                row["short_name"],
                KIND_LABELS.get(row["kind"], row["kind"]),
                row["link"],
                row["expires_local"] or "长期有效 never",
                row["max_uses"],
            ]
        )
        link_cell = sheet.cell(number, 5)
        link_cell.hyperlink = row["link"]
        link_cell.font = Font(color="0563C1", underline="single")
        for cell in sheet[number]:
            cell.alignment = Alignment(vertical="center", wrap_text=cell.column == 2)
        image = Image(io.BytesIO(qr_png(row["link"], box_size=QR_BOX_SHEET)))
        sheet.add_image(image, f"{qr_column}{number}")
        sheet.row_dimensions[number].height = image.height * 0.75 + 6  # pixels → points
    sheet.column_dimensions[qr_column].width = max(image.width / 7 + 2, 12)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- list and revoke


def _describe(invite, unit, zone, now: dt.datetime | None = None) -> dict[str, Any]:
    from storage.services.invites import invite_state
    from storage.types import utcnow

    expires = invite.expires_at
    return {
        "id": invite.id,
        "unit": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "uses": invite.uses,
        "max_uses": invite.max_uses,
        "expires_at": expires.isoformat() if expires else None,
        "expires_local": expires.astimezone(zone).strftime("%Y-%m-%d %H:%M") if expires else "",
        "revoked_at": invite.revoked_at.isoformat() if invite.revoked_at else None,
        "created_at": invite.created_at.isoformat(),
        "state": invite_state(invite, now or utcnow()),
        "channel": invite.channel,
    }


def _uses_text(row: dict[str, Any]) -> str:
    return "one use" if row["max_uses"] == 1 else f"{row['max_uses']} uses"


def _expiry_text(row: dict[str, Any]) -> str:
    return f"valid until {row['expires_local']}" if row["expires_local"] else "never expires"


STATE_STYLES = {"active": "green", "expired": "yellow", "revoked": "red", "used_up": "dim"}


@invite_app.command("list")
def invite_list(as_json: JsonOption = False) -> None:
    """List invites: id, unit, uses, expiry and state (the links cannot be shown again)."""
    from rich.table import Table

    cli = _cli()
    zone = cli.load_settings_or_exit().zone

    async def work(session):
        from storage.services.invites import list_invites

        return [_describe(invite, unit, zone) for invite, unit in await list_invites(session)]

    rows = cli.run_with_session(work, commit=False)
    if as_json:
        cli.print_json([{k: v for k, v in r.items() if k != "expires_local"} for r in rows])
        return
    if not rows:
        cli.console.print("no invites yet (create one with `taizhang invite create --unit …`)")
        return
    table = Table("id", "unit", "channel", "uses", "expires", "state")
    for r in rows:
        state = f"[{STATE_STYLES[r['state']]}]{r['state']}[/]"
        table.add_row(
            str(r["id"]),
            r["unit"],
            r["channel"],
            f"{r['uses']}/{r['max_uses']}",
            r["expires_local"] or "never",
            state,
        )
    cli.console.print(table)


@invite_app.command("revoke")
def invite_revoke(
    invite_id: Annotated[int, typer.Argument(metavar="ID", help="Invite id (see invite list).")],
) -> None:
    """Revoke an invite: its link no longer binds anyone (people already bound stay)."""
    cli = _cli()

    async def work(session):
        from storage.models import Invite, Unit
        from storage.services.invites import revoke_invite

        existing = await session.get(Invite, invite_id)
        already = existing is not None and existing.revoked_at is not None
        invite = await revoke_invite(session, invite_id)
        unit = await session.get(Unit, invite.unit_id)
        return unit.name, already

    unit_name, already = cli.run_with_session(work)
    if already:
        cli.console.print(f"invite {invite_id} ({unit_name}) was already revoked", highlight=False)
    else:
        cli.console.print(
            f"invite {invite_id} ({unit_name}) revoked: its link no longer binds anyone",
            highlight=False,
        )
