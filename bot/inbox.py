"""Incoming updates, durably: stored first, acknowledged after, handled from the database.

Polling asks for the next updates only once the last batch is committed (the offset is
Telegram's acknowledgement); the webhook answers 200 only after the update is committed. The
worker then feeds each stored update to the dispatcher; the handler's first commit marks it
handled (storage.services.updates.guard_commit), so a crash, a database error or an exception
leaves it pending and it is tried again, with back-off, in each sender's order. An update that
still fails is given up: the person is told it was not saved, the staff get one digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import html
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update

from bot.settings import UpdateSettings
from locales import N_, gettext_for, language_for
from scheduler import metrics
from scheduler.messages import to_staff
from storage.services import updates
from storage.services.outbox import enqueue
from storage.services.people import identify, staff_recipients
from storage.types import utcnow

log = logging.getLogger(__name__)

NOT_SAVED = N_(
    "⚠️ Your last message could not be saved. Please send it again in a minute; "
    "if it keeps failing, tell the office."
)
FAILURES_DIGEST = N_(
    "⚠️ {count} incoming messages could not be handled after {attempts} tries "
    "(update ids {ids}). Their senders were asked to send them again; the log has the errors."
)
HOUSEKEEPING_EVERY = 60.0  # seconds between digests of failures and pruning


def dump(update: Update) -> dict[str, Any]:
    """An update as the JSON Telegram sent (aiogram's names back to the Bot API's)."""
    return update.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)


class Inbox:
    """Stores incoming updates and works through them."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        sessions,
        options: UpdateSettings,
        *,
        staff_ids: list[int] = (),
        default_locale: str = "zh_CN",
        clock: Callable[[], dt.datetime] = utcnow,
        wall_clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.bot, self.dispatcher, self.sessions = bot, dispatcher, sessions
        self.options = options
        self.staff_ids = list(staff_ids)
        self.default_locale = default_locale
        self.clock = clock  # the bot's time, which the outbox's times are in
        self.wall_clock = wall_clock  # for retry timing and retention, not business time
        self._wake = asyncio.Event()
        self._busy: dict[int, asyncio.Task] = {}  # update id -> its task
        self._busy_users: dict[int, int] = {}  # update id -> sender
        self._limit = asyncio.Semaphore(options.concurrency)
        self._last_housekeeping = float("-inf")
        self._last_digest = float("-inf")

    # ------------------------------------------------------------------ intake

    async def receive(self, payloads: list[dict[str, Any]]) -> int:
        """Store the updates and commit; only then may Telegram be told they arrived."""
        async with self.sessions() as session:
            new = await updates.store(session, self.bot.id, payloads, self.wall_clock())
            await session.commit()
        if new:
            self._wake.set()
        return new

    # ------------------------------------------------------------------ the worker

    async def run(self, stop: asyncio.Event) -> None:
        """Handle stored updates until `stop` is set, then let those in hand finish."""
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    wait = await self._start_due()
                    await self._housekeeping()
                except Exception:
                    log.exception("inbox: could not read the stored updates")
                    wait = 1.0
                await _first_of(stop, self._wake, timeout=wait)
        finally:
            await self.drain()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for the updates in hand (SIGTERM lets them finish), at most `timeout` seconds:
        with the sender's own wait (bot/runner.py) a stop stays within 10 s. Only as many are
        in hand as are handled at once (UPDATES__CONCURRENCY); the others wait in the
        database, as does one cut off here, and are handled at the next start."""
        if self._busy:
            _, cut = await asyncio.wait(list(self._busy.values()), timeout=timeout)
            if cut:
                log.warning("inbox: stopping with %d updates still in hand", len(cut))

    async def _start_due(self) -> float:
        """Start the updates that may run now, as many as are handled at once (the rest wait,
        stored, for a free place: a stop then finishes only those in hand); returns seconds
        until the next may run."""
        free = self.options.concurrency - len(self._busy)
        if free <= 0:
            return HOUSEKEEPING_EVERY  # an update done wakes the worker
        now = self.wall_clock()
        async with self.sessions() as session:
            found = await updates.look(
                session,
                self.bot.id,
                set(self._busy_users.values()),
                busy_updates=self._busy.keys(),
                now=now,
                take=free,
            )
        rows, retry_at = found.rows, found.retry_at
        for row in rows:
            self._busy_users[row.update_id] = row.user_id if row.user_id is not None else -1
            task = asyncio.create_task(self._handle(row.update_id, row.payload))
            self._busy[row.update_id] = task
            task.add_done_callback(lambda _t, uid=row.update_id: self._done(uid))
        if retry_at is None:
            return HOUSEKEEPING_EVERY
        return max(0.05, min(HOUSEKEEPING_EVERY, (retry_at - self.wall_clock()).total_seconds()))

    def _done(self, update_id: int) -> None:
        self._busy.pop(update_id, None)
        self._busy_users.pop(update_id, None)
        self._wake.set()  # the sender's next update may go now

    async def _handle(self, update_id: int, payload: dict[str, Any]) -> None:
        async with self._limit:
            started = time.perf_counter()
            bot_id = self.bot.id
            outcome: dict[str, Any] = {}
            try:
                update = Update.model_validate(payload, context={"bot": self.bot})
                await self.dispatcher.feed_update(
                    self.bot, update, inbound=(bot_id, update_id), inbound_outcome=outcome
                )
            except updates.AlreadyHandled:
                log.info("update %s was handled by another delivery: ignored", update_id)
                metrics.UPDATES.labels("duplicate").inc()
            except Exception as error:
                metrics.UPDATES.labels(await self._failed(update_id, payload, error)).inc()
            else:
                if not outcome.get("marked"):  # else in the handler's own commit (Guard)
                    async with self.sessions() as session:  # no handler committed: still done
                        await updates.mark_handled(session, bot_id, update_id)
                        await session.commit()
                metrics.UPDATES.labels("handled").inc()
                metrics.HANDLER_SECONDS.observe(time.perf_counter() - started)

    async def _failed(self, update_id: int, payload: dict[str, Any], error: Exception) -> str:
        """Records the failure; says what became of the update: retried or failed."""
        options = self.options
        async with self.sessions() as session:
            row = await session.get(updates.InboundUpdate, (update_id, self.bot.id))
            attempt = (row.attempts + 1) if row else 1
            delay = options.retry_delay * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            row = await updates.record_failure(
                session,
                self.bot.id,
                update_id,
                f"{type(error).__name__}: {error}",
                max_attempts=options.max_attempts,
                retry_at=self.wall_clock() + dt.timedelta(seconds=delay),
            )
            given_up = row is not None and row.status == updates.FAILED
            if given_up:
                await self._tell_the_sender(session, update_id, payload)
            await session.commit()
        if given_up:
            log.error("update %s failed %d times; given up", update_id, attempt, exc_info=error)
            self._digest_soon()
            return "failed"
        if row is None or row.status != updates.PENDING:
            # It failed after its changes were committed (and marked handled): not repeated.
            log.error("update %s failed after it was saved", update_id, exc_info=error)
            return "failed"
        log.warning(
            "update %s failed (attempt %d), tried again soon: %r", update_id, attempt, error
        )
        self._wake.set()
        return "retried"

    async def _tell_the_sender(self, session, update_id: int, payload: dict[str, Any]) -> None:
        chat_id, user_id = updates.chat_of(payload), updates.sender_of(payload)
        if chat_id is None:
            return
        chosen = (await identify(session, user_id, self.staff_ids)).language if user_id else None
        locale = chosen or language_for(updates.language_code_of(payload), self.default_locale)
        await enqueue(
            session,
            dedupe_key=f"update-failed:{self.bot.id}:{update_id}",
            kind="error_notice",
            chat_id=chat_id,
            payload={"text": gettext_for(locale)(NOT_SAVED)},
            now=self.clock(),
        )

    # ------------------------------------------------------------------ housekeeping

    def _digest_soon(self) -> None:
        """Tell the staff of a failure at the next look, unless they were told a minute ago:
        failures that come together reach them as one digest."""
        if time.monotonic() - self._last_digest >= HOUSEKEEPING_EVERY:
            self._last_housekeeping = float("-inf")
        self._wake.set()

    async def _housekeeping(self) -> None:
        """Now and then: one digest of failures to the staff; forget old handled updates."""
        if time.monotonic() - self._last_housekeeping < HOUSEKEEPING_EVERY:
            return
        self._last_housekeeping = time.monotonic()
        async with self.sessions() as session:
            failed = await updates.unreported_failures(session, self.bot.id)
            if failed:
                await self._digest(session, failed)
            kept_since = self.wall_clock() - dt.timedelta(days=self.options.retention_days)
            pruned = await updates.prune(session, kept_since)
            await session.commit()
        if pruned:
            log.info("inbox: forgot %d handled updates", pruned)

    async def _digest(self, session, failed) -> None:
        self._last_digest = time.monotonic()
        ids = ", ".join(str(row.update_id) for row in failed[:10])
        if len(failed) > 10:
            ids += ", …"

        def render(_: Callable[[str], str]) -> str:
            return _(FAILURES_DIGEST).format(
                count=len(failed), attempts=self.options.max_attempts, ids=html.escape(ids)
            )

        await enqueue(
            session,
            to_staff(
                await staff_recipients(session, self.staff_ids),
                key=f"update-failures:{self.bot.id}:{failed[-1].update_id}",
                kind="staff_notice",
                render=render,
            ),
            now=self.clock(),
        )
        for row in failed:
            row.reported = True
            session.add(row)


async def poll(
    bot: Bot,
    inbox: Inbox,
    stop: asyncio.Event,
    *,
    timeout: int = 25,
    allowed_updates: list[str] | None = None,
) -> None:
    """Long polling that moves the offset past an update only after it is stored."""
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        request = asyncio.ensure_future(
            bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=allowed_updates,
                request_timeout=timeout + 10,
            )
        )
        await _first_of(stop, request)
        if not request.done():
            request.cancel()  # the offset never moved past what was not stored
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await request
            return
        try:
            received = request.result()
            if received:
                await inbox.receive([dump(u) for u in received])
                offset = received[-1].update_id + 1
            backoff = 1.0
        except TelegramRetryAfter as error:
            await _first_of(stop, timeout=error.retry_after)
        except (TelegramNetworkError, TelegramServerError, OSError) as error:
            log.warning("polling: %s; trying again in %.0f s", error, backoff)
            await _first_of(stop, timeout=backoff)
            backoff = min(backoff * 2, 30.0)
        except Exception:
            # Mostly the database refusing to store: the updates stay with Telegram.
            log.exception("polling: could not store the updates; asking again in %.0f s", backoff)
            await _first_of(stop, timeout=backoff)
            backoff = min(backoff * 2, 30.0)


def webhook_handler(inbox: Inbox, secret: str):
    """An aiohttp handler that answers 200 only once the update is stored."""
    from aiohttp import web

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400)
        try:
            await inbox.receive([payload])
        except Exception:
            log.exception("webhook: could not store update %s", payload["update_id"])
            return web.Response(status=500)  # Telegram sends it again
        return web.Response()

    return receive


async def _first_of(*waitables: Any, timeout: float | None = None) -> None:
    """Wait until any event is set or future is done, or the timeout passes."""
    tasks = []
    for item in waitables:
        if isinstance(item, asyncio.Event):
            if item.is_set():
                return
            tasks.append(asyncio.ensure_future(item.wait()))
        elif item.done():
            return
    futures = [w for w in waitables if not isinstance(w, asyncio.Event)]
    try:
        await asyncio.wait([*tasks, *futures], timeout=timeout, return_when="FIRST_COMPLETED")
    finally:
        for task in tasks:
            task.cancel()
