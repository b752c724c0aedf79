"""`taizhang invite create --web`: a personal link under WEB__BASE_URL and its QR code; the
token is 256 bits, kept only as its hash; `invite list` tells web links from deep links."""

from __future__ import annotations

import hashlib
import re

import pytest

from ledger.samples import sample_path
from tests.cli_helpers import in_database, make_cli
from tests.test_cli_invite import assert_qr_of, invite_table, invites

WEB_LINK = re.compile(r"^https://tz\.example\.gov\.cn/l/(?P<token>[A-Za-z0-9_-]+)$", re.M)


@pytest.fixture
def cli(sqlite_url, monkeypatch, tmp_path):
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    invoke = make_cli(sqlite_url, monkeypatch, tmp_path, unset=("BOT_TOKEN", "BOT_USERNAME"))
    monkeypatch.setenv("WEB__BASE_URL", "https://tz.example.gov.cn/")
    invoke("units", "import", str(sample_path("xingqing-units.yaml")))
    return invoke


def test_a_web_link_with_its_qr_code_and_only_its_hash_kept(cli, sqlite_url, tmp_path):
    result = cli("invite", "create", "--unit", "医保局", "--web", "--name", "赵敏")
    found = WEB_LINK.search(result.stdout)
    assert found, result.stdout
    token = found["token"]
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert_qr_of(tmp_path / "invite-兴庆区医疗保障局.png", found[0])
    [row] = invite_table(sqlite_url)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and row["channel"] == "web" and row["max_uses"] == 3
    [listed] = invites(cli)
    assert listed["channel"] == "web" and listed["state"] == "active"

    async def person(session):
        from sqlmodel import select

        from storage.models import WebLink

        return (await session.exec(select(WebLink))).one().name

    assert in_database(sqlite_url, person) == "赵敏"


def test_web_links_need_the_public_address(cli, monkeypatch):
    monkeypatch.setenv("WEB__BASE_URL", "")
    result = cli("invite", "create", "--unit", "医保局", "--web", ok=False)
    assert result.exit_code == 2 and "WEB__BASE_URL" in result.output


def test_a_web_token_never_binds_a_telegram_account(cli, sqlite_url):
    token = WEB_LINK.search(cli("invite", "create", "--unit", "医保局", "--web").stdout)["token"]

    async def redeem(session):
        from storage.services.invites import InviteProblem, redeem_invite

        with pytest.raises(InviteProblem) as refused:
            await redeem_invite(session, token, telegram_user_id=5, chat_id=5, name="x")
        return refused.value.reason

    assert in_database(sqlite_url, redeem) == "unknown"
