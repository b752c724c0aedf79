"""`taizhang invite …` through Typer's runner, on a database of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from bot.cli import app
from bot.cli_invite import BadExpiry, parse_expires
from ledger.samples import sample_path
from tests.cli_helpers import in_database, make_cli, runner
from tests.sandbox_fixtures import sandbox, sandbox_factory  # noqa: F401

LINK = re.compile(r"^https://t\.me/(?P<bot>\w+)\?start=(?P<token>\S+)$", re.MULTILINE)
START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BOT = "taizhang_bot"


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    # QR files land in tmp_path; the bot's name must come from the options under test.
    invoke = make_cli(
        database_url,
        monkeypatch,
        tmp_path,
        unset=("BOT_TOKEN", "BOT_USERNAME", "TELEGRAM_API_BASE"),
    )
    invoke("units", "import", str(sample_path("xingqing-units.yaml")))
    return invoke


def link_in(output: str) -> tuple[str, str, str]:
    """(link, bot username, token) of the one link printed."""
    links = list(LINK.finditer(output))
    assert len(links) == 1, output
    return links[0][0], links[0]["bot"], links[0]["token"]


def invites(cli) -> list[dict[str, Any]]:
    return json.loads(cli("invite", "list", "--json").stdout)


def invite_table(url: str) -> list[dict[str, Any]]:
    """Every invite row as the database holds it, column by column."""
    from sqlalchemy import text

    from storage.db import make_engine

    async def read():
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT * FROM invite ORDER BY id"))
                return [dict(row._mapping) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


# ---------------------------------------------------------------- the token and the link


def test_link_token_fits_telegram_and_only_its_hash_is_stored(cli, database_url, tmp_path):
    result = cli("invite", "create", "--unit", "医保局", "--bot-username", BOT)
    _, bot, token = link_in(result.stdout)
    assert bot == BOT
    assert START_PARAMETER.match(token) and len(token) <= 64
    assert len(token) >= 22  # ≥ 128 bits at 6 bits per base64url character
    assert "兴庆区医疗保障局" in result.stdout

    [row] = invite_table(database_url)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in row.values())
    if database_url.startswith("sqlite"):  # not even on disk, in any page or journal
        for path in tmp_path.glob("taizhang.db*"):
            assert token.encode() not in path.read_bytes(), path

    again = link_in(cli("invite", "create", "--unit", "医保局", "--bot-username", BOT).stdout)
    assert again[2] != token


def test_qr_png_holds_the_printed_link(cli, tmp_path):
    result = cli("invite", "create", "--unit", "医保局", "--bot-username", "@" + BOT)
    link, _, _ = link_in(result.stdout)
    default = tmp_path / "invite-兴庆区医疗保障局.png"
    assert default.exists() and str(default) in result.stdout.replace("\n", "")
    assert_qr_of(default, link)

    chosen = tmp_path / "qr" / "mine.png"
    chosen.parent.mkdir()
    result = cli(
        "invite", "create", "--unit", "民政局", "--bot-username", BOT, "--qr", str(chosen)
    )
    assert_qr_of(chosen, link_in(result.stdout)[0])
    assert not (tmp_path / "invite-兴庆区民政局.png").exists()


def assert_qr_of(png: Path, link: str) -> None:
    """The PNG's modules, read back pixel by pixel, are the QR code `qrcode` makes of `link`.

    No QR decoder is installed, so this is the next best thing: the image is a valid PNG of a
    plausible size, and its dark and light squares are exactly the symbol for the link.
    """
    import qrcode
    from PIL import Image

    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and 200 < len(data) < 100_000
    image = Image.open(png).convert("L")
    assert image.width == image.height and 150 <= image.width <= 2000
    matches = []
    for level in (0, 1, 2, 3):  # whichever error correction the command chose
        code = qrcode.QRCode(error_correction=level)
        code.add_data(link)
        code.make(fit=True)
        matrix = code.get_matrix()  # with its quiet zone
        if image.width % len(matrix):
            continue
        box = image.width // len(matrix)
        modules = [
            [
                image.getpixel((x * box + box // 2, y * box + box // 2)) < 128
                for x in range(len(row))
            ]
            for y, row in enumerate(matrix)
        ]
        matches.append(modules == matrix)
    assert any(matches), "the PNG is not the QR code of the printed link"


def test_a_qr_of_another_link_does_not_pass(cli, tmp_path):
    cli("invite", "create", "--unit", "医保局", "--bot-username", BOT)
    with pytest.raises(AssertionError):
        assert_qr_of(
            tmp_path / "invite-兴庆区医疗保障局.png", "https://t.me/x_bot?start=" + "A" * 32
        )


# ---------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14d", dt.timedelta(days=14)),
        ("36h", dt.timedelta(hours=36)),
        ("90m", dt.timedelta(minutes=90)),
        ("1D", dt.timedelta(days=1)),
        (" 7d ", dt.timedelta(days=7)),
        ("never", None),
        ("NEVER", None),
    ],
)
def test_expiry_parses(text, expected):
    assert parse_expires(text) == expected


@pytest.mark.parametrize(
    "text", ["", "14", "d", "14w", "2 weeks", "-1d", "1.5d", "0d", "14d3h", "nevermore", "1e3d"]
)
def test_malformed_expiry_is_refused(text):
    with pytest.raises(BadExpiry, match="14d"):
        parse_expires(text)


def test_expiry_on_the_command_line(cli):
    bad = cli(
        "invite", "create", "--unit", "医保局", "--bot-username", BOT, "--expires", "2w", ok=False
    )
    assert bad.exit_code == 2 and "14d, 36h, 90m or never" in bad.stderr
    assert "Traceback" not in bad.output
    assert invites(cli) == []

    before = dt.datetime.now(dt.UTC)
    cli("invite", "create", "--unit", "医保局", "--bot-username", BOT, "--expires", "36h")
    cli("invite", "create", "--unit", "民政局", "--bot-username", BOT, "--expires", "never")
    timed, forever = invites(cli)
    expires = dt.datetime.fromisoformat(timed["expires_at"])
    assert dt.timedelta(hours=36) <= expires - before < dt.timedelta(hours=36, minutes=1)
    assert forever["expires_at"] is None and forever["state"] == "active"


# ---------------------------------------------------------------- the bot's username


def test_username_from_the_environment_and_clear_refusals(cli, monkeypatch):
    missing = cli("invite", "create", "--unit", "医保局", ok=False)
    assert missing.exit_code == 2
    assert "--bot-username" in missing.stderr and "BOT_TOKEN" in missing.stderr
    bad = cli("invite", "create", "--unit", "医保局", "--bot-username", "no way", ok=False)
    assert bad.exit_code == 2 and "username" in bad.stderr
    assert invites(cli) == []  # nothing created when the link cannot be made

    monkeypatch.setenv("BOT_USERNAME", "office_env_bot")
    assert link_in(cli("invite", "create", "--unit", "医保局").stdout)[1] == "office_env_bot"


def test_unknown_unit_or_qr_folder_creates_nothing(cli, tmp_path):
    result = cli("invite", "create", "--unit", "无此单位", "--bot-username", BOT, ok=False)
    assert result.exit_code == 1 and "无此单位" in result.stderr
    assert "Traceback" not in result.output
    assert invites(cli) == [] and list(tmp_path.glob("*.png")) == []
    nowhere = ("--qr", "no/such/x.png")
    result = cli("invite", "create", "--unit", "医保局", "--bot-username", BOT, *nowhere, ok=False)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert invites(cli) == []


def test_unit_and_all_units_exclude_each_other(cli):
    for args in ([], ["--unit", "医保局", "--all-units"], ["--all-units", "--qr", "x.png"]):
        result = cli("invite", "create", "--bot-username", BOT, *args, ok=False)
        assert result.exit_code == 2, args


# ---------------------------------------------------------------- all units


def test_all_units_workbook_has_a_row_with_link_and_qr_per_unit(cli, tmp_path):
    from openpyxl import load_workbook

    units = json.loads(cli("units", "list", "--json").stdout)
    out = tmp_path / "invites.xlsx"
    result = cli(
        "invite", "create", "--all-units", "--bot-username", BOT, "--uses", "2", "-o", str(out)
    )
    assert f"{len(units)} invites" in result.stdout

    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(units) == 28
    assert sorted(r[1] for r in rows) == sorted(u["name"] for u in units)
    links = [r[4] for r in rows]
    for link in links:
        [(_, bot, token)] = [link_in(link)]
        assert bot == BOT and START_PARAMETER.match(token) and len(token) >= 22
    assert len(set(links)) == len(links)
    assert {r[6] for r in rows} == {2}

    images = sheet._images
    assert len(images) == len(rows)
    anchored = sorted(image.anchor._from.row for image in images)  # 0-based rows
    assert anchored == list(range(1, len(rows) + 1))  # one per data row, none on another's
    for image in images:
        row = image.anchor._from.row + 1
        assert sheet.row_dimensions[row].height >= image.height * 0.75  # points ≥ pixels

    listed = invites(cli)
    assert len(listed) == len(units) and {i["max_uses"] for i in listed} == {2}


def test_all_units_is_one_transaction(cli, tmp_path, monkeypatch):
    import bot.cli_invite
    from storage.services.errors import ServiceError

    def broken(rows):
        raise ServiceError("the workbook could not be made")

    monkeypatch.setattr(bot.cli_invite, "invites_workbook", broken)
    out = tmp_path / "invites.xlsx"
    result = cli(
        "invite", "create", "--all-units", "--bot-username", BOT, "-o", str(out), ok=False
    )
    assert result.exit_code == 1 and "could not be made" in result.stderr
    assert invites(cli) == [] and not out.exists() and list(tmp_path.glob(".*part")) == []

    nowhere = cli(
        "invite",
        "create",
        "--all-units",
        "--bot-username",
        BOT,
        "-o",
        "no/such/dir/i.xlsx",
        ok=False,
    )
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.stderr
    assert invites(cli) == []


def test_all_units_of_one_directory(cli, tmp_path):
    cli("units", "import", str(sample_path("yibao-units.yaml")))
    cli("invite", "create", "--all-units", "--directory", "yibao", "--bot-username", BOT)
    assert (tmp_path / "invites.xlsx").exists()
    assert [i["unit"] for i in invites(cli)] == [
        "办公室",
        "综合科",
        "医保基金监管科",
        "稽核监控科",
        "医疗保障科",
    ]


# ---------------------------------------------------------------- list and revoke


def test_list_shows_states_and_revoke_changes_them(cli, database_url):
    for unit in ("医保局", "民政局", "卫健局", "人社局"):
        cli("invite", "create", "--unit", unit, "--bot-username", BOT)
    assert [i["state"] for i in invites(cli)] == ["active"] * 4

    revoked = cli("invite", "revoke", "1")
    assert "invite 1" in revoked.stdout and "兴庆区医疗保障局" in revoked.stdout
    assert "already" in cli("invite", "revoke", "1").stdout

    async def age(session):  # what time and the bot would do to invites 2 and 3
        from storage.models import Invite

        (await session.get(Invite, 2)).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        (await session.get(Invite, 3)).uses = 1

    in_database(database_url, age)
    listed = invites(cli)
    assert [i["state"] for i in listed] == ["revoked", "expired", "used_up", "active"]
    assert listed[0]["revoked_at"] and [i["uses"] for i in listed] == [0, 0, 1, 0]

    table = cli("invite", "list").stdout
    for word in ("revoked", "expired", "used_up", "active", "1/1", "0/1", "兴庆区民政局"):
        assert word in table


def test_list_never_shows_a_token(cli):
    token = link_in(cli("invite", "create", "--unit", "医保局", "--bot-username", BOT).stdout)[2]
    assert token not in cli("invite", "list").stdout
    assert token not in cli("invite", "list", "--json").stdout


def test_revoking_an_unknown_invite_is_a_clean_error(cli):
    result = cli("invite", "revoke", "999", ok=False)
    assert result.exit_code == 1 and "no invite 999" in result.stderr
    assert "Traceback" not in result.output
    assert cli("invite", "revoke", "abc", ok=False).exit_code == 2


# ---------------------------------------------------------------- against the Bot API stand-in


@pytest.mark.e2e
async def test_username_from_getme_and_the_link_binds_through_the_bot(
    sandbox,  # noqa: F811
    sqlite_url,
    monkeypatch,
    tmp_path,
):
    from tests.e2e.harness import BotUnderTest
    from tests.e2e.phone import text_of

    bot = BotUnderTest(sandbox, sqlite_url)
    await bot.prepare()
    await bot.start()
    try:
        monkeypatch.setenv("DATABASE_URL", sqlite_url)
        monkeypatch.setenv("BOT_TOKEN", sandbox.token)
        monkeypatch.setenv("TELEGRAM_API_BASE", sandbox.base_url)
        monkeypatch.delenv("BOT_USERNAME", raising=False)
        monkeypatch.chdir(tmp_path)
        result = await asyncio.to_thread(
            runner.invoke, app, ["invite", "create", "--unit", "医保局"]
        )
        assert result.exit_code == 0, result.output
        _, username, token = link_in(result.stdout)
        assert username == "sandbox_bot"  # what the stand-in's getMe says

        person = await sandbox.client.create_user("周琪", language_code="zh-hans")
        await person.start(token)
        assert "兴庆区医疗保障局" in text_of(await person.wait_for_reply())
        listed = await asyncio.to_thread(runner.invoke, app, ["invite", "list", "--json"])
        assert [i["state"] for i in json.loads(listed.stdout)] == ["used_up"]
    finally:
        await bot.close()


async def test_getme_refused_is_a_clear_error_without_the_token(
    sandbox,  # noqa: F811
    sqlite_url,
    monkeypatch,
    tmp_path,
):
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, sqlite_url)
    wrong = "42:" + secrets.token_hex(8)  # malformed: the stand-in answers 401 Unauthorized
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BOT_TOKEN", wrong)
    monkeypatch.setenv("TELEGRAM_API_BASE", sandbox.base_url)
    monkeypatch.delenv("BOT_USERNAME", raising=False)
    monkeypatch.chdir(tmp_path)
    await asyncio.to_thread(
        runner.invoke, app, ["units", "import", str(sample_path("xingqing-units.yaml"))]
    )
    result = await asyncio.to_thread(runner.invoke, app, ["invite", "create", "--unit", "医保局"])
    assert result.exit_code == 2 and "getMe" in result.stderr and "--bot-username" in result.stderr
    assert wrong not in result.output and "Traceback" not in result.output
    assert list(tmp_path.glob("*.png")) == []

    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    result = await asyncio.to_thread(runner.invoke, app, ["invite", "create", "--unit", "医保局"])
    assert result.exit_code == 2 and "cannot ask Telegram" in result.stderr
    assert wrong not in result.output
