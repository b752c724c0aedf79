"""The running bot's jobs: with SMTP__HOST and WEB__BASE_URL set, the sweep mails web contacts
and the e-mail job sends them; without SMTP__HOST there is no e-mail job."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot.settings import load_settings
from scheduler.jobs import EMAIL_JOB, start_scheduler, stop_scheduler
from tests.email.test_email_reminders import _world


async def test_the_jobs_mail_the_reminder(
    sessions, smtp, clock, database_url, monkeypatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    await _world(sessions, addresses=["zhaomin@example.cn"])
    settings = load_settings(
        database_url=database_url,
        smtp={"host": smtp.host, "port": smtp.port, "tls": "none", "sender": "tz@example.cn"},
        web={"base_url": "https://tz.example.cn"},
    )
    assert settings.email_enabled
    app = SimpleNamespace(settings=settings, sessions=sessions, bot=None)
    scheduler = start_scheduler(app, clock=clock, sweep_every=3600, send_every=0.1)
    try:
        assert scheduler.get_job(EMAIL_JOB) is not None
        assert await asyncio.to_thread(smtp.catcher.arrived.wait, 20)
    finally:
        await stop_scheduler(scheduler)
    [mail] = smtp.catcher.to("zhaomin@example.cn")
    assert "https://tz.example.cn/l/" in mail.get_body(("plain",)).get_content()


def test_no_smtp_host_no_email_channel(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert not load_settings(web={"base_url": "https://tz.example.cn"}).email_enabled
    assert not load_settings(smtp={"host": "mail.example.cn"}).email_enabled  # no links
    assert load_settings(smtp={"host": "m", "tls": "tls"}).smtp.effective_port == 465


async def test_a_mail_transport_turns_the_channel_on_without_smtp(
    sessions, clock, database_url, monkeypatch, tmp_path
) -> None:
    """`taizhang sandbox` without SMTP__HOST: its mailbox takes the mail the jobs send."""
    from sandbox.mail import Mailbox

    monkeypatch.chdir(tmp_path)
    await _world(sessions, addresses=["zhaomin@example.cn"])
    settings = load_settings(database_url=database_url, web={"base_url": "http://127.0.0.1:8082"})
    assert not settings.email_enabled
    mailbox, arrived = Mailbox(), asyncio.Event()

    async def catch(message, config, timeout) -> None:
        mailbox.deliver(message)
        arrived.set()

    app = SimpleNamespace(settings=settings, sessions=sessions, bot=None)
    scheduler = start_scheduler(
        app, clock=clock, sweep_every=3600, send_every=0.1, mail_transport=catch
    )
    try:
        assert scheduler.get_job(EMAIL_JOB) is not None
        await asyncio.wait_for(arrived.wait(), 20)
    finally:
        await stop_scheduler(scheduler)
    [mail] = mailbox.mails
    assert mail.recipients == ["zhaomin@example.cn"]
    assert mail.sender == "taizhang@localhost"  # no SMTP__HOST to name the sender after
    assert "http://127.0.0.1:8082/l/" in mail.text
