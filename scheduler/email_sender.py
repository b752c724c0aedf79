"""The e-mail sender: the outbox's rows of the `email` channel, through an SMTP server.

It is the Telegram sender (scheduler/outbox.Sender) with another call at its heart, so it
claims, marks and records exactly as that one does — a row is marked in flight before its
SMTP conversation and its outcome committed after it, so after a crash at most `concurrency`
mails may go twice — but it takes only `email` rows, at its own pace (`SMTP__RATE_PER_MINUTE`,
a token bucket of its own), with its own workers, so e-mail never holds Telegram back nor
the other way round. Outcomes:

- 250: `sent`;
- a 4xx answer, a refused connection, a dropped one or a time-out: back in the queue with
  the same exponential back-off, `failed` after `max_attempts`;
- a 5xx refusal of the recipient: `failed`, the contact's address marked refused and every
  staff member told once (like a Telegram 403); the sweep sends that address nothing more;
- a 5xx refusal of the sender or of our login (a setting is wrong): retried like a 4xx, and
  logged as an error, since no address is to blame;
- any other 5xx (the message itself refused): `failed` with the server's answer.

The link in a reminder is a credential and is never stored: just before each attempt a fresh
web link bound to the contact is made (only its hash kept, expiring, revocable) and put into
the text. docs/delivery.md states the guarantees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import html
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from scheduler.clock import Clock
from scheduler.email_messages import LINK, refused_address_notices
from scheduler.outbox import Sender, SenderOptions, _Claimed, _Outcome, _Run
from storage.models import Unit
from storage.services.email_contacts import mark_address_refused
from storage.services.errors import ServiceError
from storage.services.outbox import EMAIL, FAILED, OUTBOX, QUEUED, SENT, enqueue
from storage.services.people import staff_recipients
from storage.services.web_access import create_web_invite, web_link

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    tls: str = "starttls"  # none | starttls | tls
    user: str = ""
    password: str = ""
    sender: str = ""

    @classmethod
    def from_settings(cls, smtp: Any) -> SmtpConfig:
        return cls(
            host=smtp.host,
            port=smtp.effective_port,
            tls=smtp.tls,
            user=smtp.user,
            password=smtp.password,
            sender=smtp.sender or f"taizhang@{smtp.host or 'localhost'}",
        )


Transport = Callable[[EmailMessage, SmtpConfig, float], Awaitable[Any]]


async def smtp_send(message: EmailMessage, config: SmtpConfig, timeout: float) -> Any:
    """One SMTP conversation for one message (aiosmtplib)."""
    return await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        username=config.user or None,
        password=config.password or None,
        use_tls=config.tls == "tls",
        start_tls=config.tls == "starttls",
        timeout=timeout,
    )


@dataclass
class _MailOutcome(_Outcome):
    refused_address: bool = False


class EmailSender(Sender):
    """Sends due `email` rows of the outbox over SMTP; one instance per process."""

    channel = EMAIL

    def __init__(
        self,
        sessions: async_sessionmaker,
        smtp: SmtpConfig,
        base_url: str,
        options: SenderOptions | None = None,
        *,
        clock: Clock | None = None,
        worker: str | None = None,
        rng: random.Random | None = None,
        transport: Transport = smtp_send,
    ) -> None:
        super().__init__(sessions, None, options, clock=clock, worker=worker, rng=rng)
        self.worker = f"{self.worker}:email"
        self.smtp = smtp
        self.base_url = base_url.rstrip("/")
        self.transport = transport

    @classmethod
    def from_settings(
        cls, sessions: async_sessionmaker, settings: Any, **kwargs: Any
    ) -> EmailSender:
        """From bot.settings.Settings: its `smtp` group, WEB__BASE_URL, staff and language."""
        smtp = settings.smtp
        options = email_options(
            rate_per_minute=smtp.rate_per_minute,
            max_attempts=smtp.max_attempts,
            concurrency=smtp.concurrency,
            request_timeout=smtp.timeout,
            staff_ids=tuple(settings.staff_ids),
            default_language=settings.default_locale,
        )
        config = SmtpConfig.from_settings(smtp)
        return cls(sessions, config, settings.web.base_url, options, **kwargs)

    # ------------------------------------------------------------ one message

    async def _deliver(self, run: _Run, row: _Claimed) -> _Outcome:
        """Mark the row in flight, hold the conversation, record the outcome."""
        if not await self._mark_sending(row):
            return _Outcome("lost")
        held = await self._pace(run, row)
        if held is not None:  # stopping: it does not go now
            outcome: _Outcome = _Outcome("deferred", retry_after=held)
        else:
            outcome = await self._mail(row)
        await self._record(row, outcome)
        return outcome

    async def _mail(self, row: _Claimed) -> _Outcome:
        attempt = row.attempts + 1
        try:
            message = await self._compose(row)
        except (ServiceError, KeyError, TypeError, ValueError) as error:
            return _Outcome("failed", f"cannot compose the e-mail: {error}"[:1000])
        try:
            async with asyncio.timeout(self.options.request_timeout):
                await self.transport(message, self.smtp, self.options.request_timeout)
        except aiosmtplib.SMTPRecipientsRefused as error:
            refusal = error.recipients[0] if error.recipients else None
            code = refusal.code if refusal is not None else 550
            text = refusal.message if refusal is not None else str(error)
            return self._answer(code, f"recipient refused: {text}", attempt, recipient=True)
        except aiosmtplib.SMTPRecipientRefused as error:
            return self._answer(error.code, f"recipient refused: {error.message}", attempt, True)
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPAuthenticationError) as error:
            if error.code >= 500:  # our settings, not the address: keep trying, loudly
                log.error("e-mail: the SMTP server refused us (%s %s)", error.code, error.message)
            return self._retry_or_fail(f"{error.code} {error.message}", attempt)
        except aiosmtplib.SMTPResponseException as error:
            return self._answer(error.code, error.message, attempt)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return self._retry_or_fail(f"{type(error).__name__}: {error}"[:1000], attempt)
        return _Outcome("sent")

    def _answer(self, code: int, text: str, attempt: int, recipient: bool = False) -> _Outcome:
        error = f"{code} {text}"[:1000]
        if 400 <= code < 500:
            return self._retry_or_fail(error, attempt)
        return _MailOutcome("failed", error, refused_address=recipient)

    async def _compose(self, row: _Claimed) -> EmailMessage:
        """The message, with a fresh personal link in place of LINK."""
        payload = row.payload
        text, body = payload["text"], payload.get("html", "")
        if LINK in text or LINK in body:
            link = await self._fresh_link(row)
            text = text.replace(LINK, link)
            body = body.replace(LINK, html.escape(link))
        message = EmailMessage()
        message["Subject"] = payload["subject"]
        message["From"] = self.smtp.sender
        message["To"] = payload["to"]
        message["Date"] = email.utils.format_datetime(self.clock.now())
        domain = self.smtp.sender.rsplit("@", 1)[-1].strip(" >") or "taizhang"
        message["Message-ID"] = f"<taizhang-outbox-{row.id}@{domain}>"  # the same on a retry
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        if body:
            message.add_alternative(body, subtype="html")
        return message

    async def _fresh_link(self, row: _Claimed) -> str:
        """A new web link bound to the row's contact, committed before the mail goes."""
        spec = row.payload.get("link") or {}
        if row.contact_id is None:
            raise ServiceError("the row names no contact for its link")
        async with self.sessions() as session:
            unit = await session.get(Unit, int(spec["unit_id"]))
            if unit is None or not unit.active:
                raise ServiceError("the unit is no longer active")
            created = await create_web_invite(
                session,
                unit,
                now=self.clock.now(),
                contact_id=row.contact_id,
                uses=int(spec.get("uses", 3)),
                expires_in=dt.timedelta(days=float(spec.get("days", 14))),
            )
            await session.commit()
        return web_link(self.base_url, created.token)

    async def _record(self, row: _Claimed, outcome: _Outcome) -> None:
        now = self.clock.now()
        if outcome.status == "sent":
            values: dict[str, Any] = {"status": SENT, "sent_at": now, "last_error": ""}
        elif outcome.status == "failed":
            values = {"status": FAILED, "last_error": outcome.error}
        else:  # retry, or deferred (stopping): back in the queue; only a retry costs an attempt
            later = now + dt.timedelta(seconds=outcome.retry_after)
            values = {"status": QUEUED, "next_attempt_at": later}
            if outcome.status == "deferred":
                values["attempts"] = OUTBOX.c.attempts - 1
            else:
                values["last_error"] = outcome.error[:1000]
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                update(OUTBOX).where(OUTBOX.c.id == row.id).values(claimed_by="", **values)
            )
            if isinstance(outcome, _MailOutcome) and outcome.refused_address:
                await self._refused(session, row, outcome.error)
            await session.commit()
        if outcome.status == "failed":
            log.warning("outbox %s (e-mail) failed: %s", row.id, outcome.error)

    async def _refused(self, session: Any, row: _Claimed, error: str) -> None:
        """The address is refused for good; the staff hear of it once."""
        if row.contact_id is None:
            return
        refused = await mark_address_refused(session, row.contact_id, row.payload["to"], error)
        if refused is None:
            return  # known already (or the address changed meanwhile)
        recipients = await staff_recipients(session, self.options.staff_ids)
        messages = refused_address_notices(
            refused,
            cause=f"outbox:{row.id}",
            recipients=recipients,
            default_language=self.options.default_language,
        )
        await enqueue(session, messages, now=self.clock.now())


def email_options(
    *, rate_per_minute: float = 30.0, concurrency: int = 2, **options: Any
) -> SenderOptions:
    """SenderOptions for e-mail: the pace per minute, few conversations at once, small claims
    (a claimed row waits its turn well within `stale_after`), one recipient at a time."""
    options.setdefault("request_timeout", 60.0)
    options.setdefault("batch_size", 4 * concurrency)
    options.setdefault("per_chat_interval", 0.0)
    options.setdefault("burst", 1)
    return SenderOptions(
        rate_per_second=rate_per_minute / 60.0, concurrency=concurrency, **options
    )
