"""E-mail addresses from the command line and the units directory."""

from __future__ import annotations

import re

from sqlmodel import select

from ledger.samples import sample_path
from storage.models import Contact, OutboxMessage, Unit, WebLink
from tests.cli_helpers import in_database, make_cli


def _cli(database_url, monkeypatch, tmp_path):
    invoke = make_cli(database_url, monkeypatch, tmp_path, unset=("SMTP__HOST",))
    monkeypatch.setenv("WEB__BASE_URL", "https://tz.example.cn")
    invoke("units", "import", str(sample_path("xingqing-units.yaml")))
    return invoke


def _contacts(url: str, unit: str = "兴庆区医疗保障局") -> list[Contact]:
    async def work(session):
        query = select(Contact).join(Unit).where(Unit.name == unit).order_by(Contact.id)
        return list((await session.exec(query)).all())

    return in_database(url, work)


def test_a_web_link_for_an_address_makes_the_contact_now(database_url, monkeypatch, tmp_path):
    invoke = _cli(database_url, monkeypatch, tmp_path)
    out = invoke(
        "invite", "create", "--unit", "医保局", "--web", "--name", "赵敏", "--email",
        "ZhaoMin@YiBao.GOV.CN",
    ).output  # fmt: skip
    assert re.search(r"https://tz\.example\.cn/l/[A-Za-z0-9_-]{43}", out)
    [contact] = _contacts(database_url)
    assert (contact.email, contact.name, contact.chat_id) == ("ZhaoMin@yibao.gov.cn", "赵敏", None)

    async def bound(session):
        return (await session.exec(select(WebLink.contact_id))).all()

    assert in_database(database_url, bound) == [contact.id]
    # The same address again: the same contact, another link.
    invoke("invite", "create", "--unit", "医保局", "--web", "--email", "zhaomin@yibao.gov.cn")
    assert len(_contacts(database_url)) == 1
    bad = invoke("invite", "create", "--unit", "医保局", "--web", "--email", "nope", ok=False)
    assert bad.exit_code == 2 and "not an e-mail address" in bad.output

    # taizhang contact email: change, prefer, clear.
    out = invoke("contact", "email", str(contact.id), "zm@yibao.gov.cn", "--prefer").output
    assert "zm@yibao.gov.cn, reminded by e-mail" in out
    assert _contacts(database_url)[0].remind_by_email
    out = invoke("contact", "email", str(contact.id), "--clear").output
    assert "no e-mail address" in out
    after = _contacts(database_url)[0]
    assert (after.email, after.remind_by_email) == ("", False)
    missing = invoke("contact", "email", "999", "a@b.cn", ok=False)
    assert missing.exit_code != 0 and "no contact 999" in missing.output


def test_units_files_carry_contacts_with_addresses(database_url, monkeypatch, tmp_path):
    invoke = _cli(database_url, monkeypatch, tmp_path)
    yaml_file = tmp_path / "units.yaml"
    yaml_file.write_text(
        "directory: xingqing\ntitle: 银川市兴庆区\nunits:\n"
        "  - name: 兴庆区医疗保障局\n    short: 医保局\n    kind: department\n"
        "    contacts:\n      - {name: 赵敏, phone: '13800000000', email: zm@yibao.gov.cn}\n"
        "      - {name: 钱进}\n",
        encoding="utf-8",
    )
    invoke("units", "import", str(yaml_file))
    invoke("units", "import", str(yaml_file))  # again: nothing new
    [contact] = _contacts(database_url)
    assert (contact.name, contact.phone, contact.email) == (
        "赵敏",
        "13800000000",
        "zm@yibao.gov.cn",
    )
    csv_file = tmp_path / "xingqing.csv"  # the key: the file name
    csv_file.write_text(
        "名称,简称,类型,联系人,联系电话,电子邮箱\n兴庆区医疗保障局,医保局,部门,赵敏,,zm@yibao.gov.cn\n"
        "掌政镇人民政府,掌政镇,乡镇,孙丽,,sunli@zz.gov.cn\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    invoke("units", "import", str(csv_file))
    assert len(_contacts(database_url)) == 1
    [township] = _contacts(database_url, "掌政镇人民政府")
    assert township.email == "sunli@zz.gov.cn" and township.telegram_user_id is None
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "directory: x\nunits:\n  - name: 甲\n    kind: department\n"
        "    contacts: [{email: 'not an address'}]\n",
        encoding="utf-8",
    )
    result = invoke("units", "import", str(broken), ok=False)
    assert result.exit_code != 0 and "电子邮箱" in result.output


def test_remind_sweep_email_queues_mail_without_smtp(database_url, monkeypatch, tmp_path):
    """`taizhang remind sweep --email`: for a running `taizhang sandbox`, whose mailbox sends
    what is queued although no SMTP__HOST is set here; without it, e-mail contacts wait."""
    import asyncio
    import json

    from scheduler import reminders
    from scheduler.clock import FakeClock
    from storage.db import make_engine, make_session_factory
    from storage.services.outbox import EMAIL
    from tests.email.test_email_reminders import _world

    async def prepare():
        engine = make_engine(database_url)
        try:
            await _world(make_session_factory(engine), addresses=["zhaomin@example.cn"])
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    invoke = make_cli(database_url, monkeypatch, tmp_path, unset=("SMTP__HOST",))
    # the sweep's now: a Monday, before-1 of the round due 2023-10-10 (never the wall's)
    monkeypatch.setattr(reminders, "SystemClock", lambda: FakeClock.at("2023-10-09 09:30"))

    async def mails(session):
        query = select(OutboxMessage.payload).where(OutboxMessage.channel == EMAIL)
        return [payload["to"] for payload in (await session.exec(query)).all()]

    plain_run = invoke("remind", "sweep", "--json")
    plain = json.loads(plain_run.stdout)
    assert plain["rounds"] == 1 and in_database(database_url, mails) == []
    assert "SMTP__HOST" not in plain_run.stderr  # nothing mailed, nothing to warn of
    swept_run = invoke("remind", "sweep", "--email", "--json")
    swept = json.loads(swept_run.stdout)
    assert swept["reminders"] >= 1
    assert "wait for a running bot" in swept_run.stderr  # no SMTP here: said so
    assert in_database(database_url, mails) == ["zhaomin@example.cn"]
