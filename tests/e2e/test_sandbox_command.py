"""`taizhang sandbox`, the README's first command, as a newcomer runs it."""

from __future__ import annotations

from sandbox.client import SandboxClient
from tests.e2e.phone import screen
from tests.e2e.sandbox_process import sandbox_process


async def test_sandbox_serves_the_web_chat_and_the_seeded_bot(tmp_path):
    async with sandbox_process(tmp_path / "sandbox") as running:
        assert f"web chat: {running.base_url}/" in running.output
        assert f"Mailbox: {running.base_url}/mail" in running.output  # no SMTP__HOST
        async with SandboxClient(running.base_url) as client:
            zhou = client.as_user(10001)  # 周琪 of 兴庆区医疗保障局, bound by the seed
            await zhou.send("/report")
            await screen(zhou, "兴庆区医疗保障局", "已填 0 /", timeout=20)
