"""E-mail tests: a local SMTP server (aiosmtpd on 127.0.0.1, a free port) that keeps what it is
sent and answers RCPT as a test tells it to; e-mail senders on the test's clock."""

from __future__ import annotations

import email
import email.policy
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from scheduler.clock import FakeClock
from scheduler.email_sender import EmailSender, SmtpConfig, email_options

BASE_URL = "http://taizhang.test"
SENDER = "台账提醒 <taizhang@example.gov.cn>"


@dataclass
class Catcher:
    """The SMTP server's handler: every message it accepted, and scripted RCPT answers."""

    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    rcpt: dict[str, list[str]] = field(default_factory=dict)  # address → answers, in turn
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            answers = self.rcpt.get(address)
            answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else None
        if answer is not None and not answer.startswith("250"):
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        self.arrived.set()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    host: str
    port: int
    catcher: Catcher

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host=self.host, port=self.port, tls="none", sender=SENDER)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    catcher = Catcher()
    controller = Controller(catcher, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, catcher)
    finally:
        controller.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock.at("2023-10-09 09:30")  # a Monday: before-1 of a round due 2023-10-10


@pytest.fixture
def make_email_sender(sessions, smtp: SmtpServer, clock: FakeClock):
    def make(**options: Any) -> EmailSender:
        options.setdefault("request_timeout", 5.0)
        options.setdefault("backoff_base", 1.0)
        options.setdefault("stale_after", 60.0)
        transport = options.pop("transport", None)
        extra = {"transport": transport} if transport is not None else {}
        return EmailSender(
            sessions,
            smtp.config,
            BASE_URL,
            email_options(**options),
            clock=clock,
            rng=random.Random(7),
            **extra,
        )

    return make


@pytest.fixture
def make_telegram_sender(sessions, clock: FakeClock):
    """The Telegram sender with a stand-in bot that accepts every call (and counts them)."""
    from types import SimpleNamespace

    from scheduler.outbox import Sender, SenderOptions

    def make(**options: Any) -> Sender:
        calls: list[Any] = []

        async def bot(method, request_timeout=None):
            calls.append(method)
            return SimpleNamespace(message_id=len(calls))

        sender = Sender(sessions, bot, SenderOptions(**options), clock=clock, rng=random.Random(7))
        sender.calls = calls
        return sender

    return make
