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
