"""Python client for the stand-in's control and user API: tests read as a user's story.

async with SandboxClient(server.base_url) as sandbox:
    alice = await sandbox.create_user("Alice", language_code="zh-hans")
    await alice.start("invite-token")
    reply = await alice.wait_for_reply()
    pressed = await alice.press("Confirm")
    view = await alice.read_chat()
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SandboxError(Exception):
    """The stand-in refused a control or user request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class ChatView:
    """A chat as one user sees it (the /_sandbox/chats/{id} answer)."""

    raw: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.raw["messages"]

    @property
    def version(self) -> int:
        return self.raw["version"]

    @property
    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("from", {}).get("is_bot")]

    @property
    def last_message(self) -> dict[str, Any] | None:
        return self.messages[-1] if self.messages else None

    @property
    def last_bot_message(self) -> dict[str, Any] | None:
        return self.bot_messages[-1] if self.bot_messages else None

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        return self.raw["reply_keyboard"]

    @property
    def commands(self) -> list[dict[str, Any]]:
        return self.raw["commands"]

    @property
    def chat_action(self) -> str | None:
        return self.raw["chat_action"]

    @property
    def blocked(self) -> bool:
        return self.raw["blocked"]

    def texts(self) -> list[str]:
        """Each message's text (or caption), oldest first."""
        return [m.get("text") or m.get("caption") or "" for m in self.messages]

    def keyboard_buttons(self) -> list[str]:
        """Texts of the reply keyboard under the input field."""
        rows = (self.reply_keyboard or {}).get("keyboard", [])
        return [button["text"] for row in rows for button in row]

    def message(self, message_id: int) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["message_id"] == message_id), None)


def inline_buttons(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A message's inline buttons, row by row, flattened."""
    rows = (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def button_texts(message: dict[str, Any] | None) -> list[str]:
    return [button["text"] for button in inline_buttons(message)]


@dataclass
class Pressed:
    """An inline button press and, once the bot answered it, its answerCallbackQuery."""

    callback_query_id: str | None
    message_id: int
    data: str | None
    answer: dict[str, Any] | None = None
    button: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def text(self) -> str | None:
        return (self.answer or {}).get("text")


class SandboxClient:
    def __init__(
        self,
        base_url: str,
        *,
        bot: int | str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        verb: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
        timeout: float = 30.0,
    ) -> Any:
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        if self.bot is not None:
            query.setdefault("bot", str(self.bot))
        async with self._http().request(
            verb,
            f"{self.base_url}/_sandbox{path}",
            json=json,
            params=query,
            data=data,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.json()
        if not body.get("ok"):
            raise SandboxError(response.status, body.get("error", "unknown error"))
        return body["result"]

    # ------------------------------------------------------------ control

    async def state(self) -> dict[str, Any]:
        return await self._call("GET", "/state")

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def register_bot(
        self,
        token: str,
        username: str | None = None,
        first_name: str | None = None,
        *,
        can_read_all_group_messages: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"token": token, "username": username, "first_name": first_name}
        if can_read_all_group_messages is not None:
            body["can_read_all_group_messages"] = can_read_all_group_messages
        return await self._call("POST", "/bots", json=body)

    async def bots(self) -> list[dict[str, Any]]:
        """Known bots with pending_update_count, get_updates_started and polling (now)."""
        return await self._call("GET", "/bots")

    async def wait_until_polling(self, *, after: int = 0, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the bot has begun more than `after` getUpdates calls; return its info."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            bots = await self.bots()
            bot = next((b for b in bots if self.bot in (None, b["id"], b["username"])), None)
            if bot and bot["get_updates_started"] > after:
                return bot
            if loop.time() > deadline:
                raise TimeoutError(f"the bot did not call getUpdates within {timeout} s")
            await asyncio.sleep(0.02)

    async def set_rate_limits(
        self, enabled: bool | None = None, **settings: Any
    ) -> dict[str, Any]:
        if enabled is not None:
            settings["enabled"] = enabled
        return await self._call("POST", "/rate_limits", json=settings)

    async def inject_fault(self, kind: str, count: int = 1, **options: Any) -> dict[str, Any]:
        """kind: error, timeout, slow, flood, drop_updates or duplicate_updates (see docs)."""
        return await self._call("POST", "/faults", json={"kind": kind, "count": count, **options})

    async def faults(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/faults")

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Bot API calls the stand-in answered, oldest first."""
        return await self._call("GET", "/calls", params={"method": method})

    async def clear_calls(self) -> None:
        await self._call("DELETE", "/calls")

    # ------------------------------------------------------------ the mailbox

    async def mails(self) -> list[dict[str, Any]]:
        """The mails the mailbox caught, newest first (id, from, to, subject, date…)."""
        return (await self._call("GET", "/mail"))["mails"]

    async def mail(self, mail_id: int) -> dict[str, Any]:
        """One caught mail with its `text`, `html` and `attachments`."""
        return await self._call("GET", f"/mail/{mail_id}")

    async def wait_for_mail(
        self, to: str | None = None, *, after: int = 0, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first mail newer than id `after` (and for address `to`), as `mail()` has it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no mail{f' to {to}' if to else ''} within {timeout} s")
            found = await self._call(
                "GET",
                "/mail",
                params={"since": after, "timeout": remaining},
                timeout=remaining + 10,
            )
            for summary in reversed(found["mails"]):  # oldest first
                if to is None or to.lower() in (r.lower() for r in summary["recipients"]):
                    return await self.mail(summary["id"])
            if found["mails"]:
                after = found["mails"][0]["id"]

    async def clear_mail(self) -> None:
        await self._call("DELETE", "/mail")

    async def block(self, user_id: int) -> None:
        await self._call("POST", f"/users/{user_id}/block")

    async def unblock(self, user_id: int) -> None:
        await self._call("POST", f"/users/{user_id}/unblock")

    # ------------------------------------------------------------ users and groups

    async def create_user(
        self,
        first_name: str = "Tester",
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone_number: str | None = None,
        started: bool = False,
    ) -> SimulatedUser:
        """Create (or update) a user; `started=True` lets bots write to them first."""
        body = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "phone_number": phone_number,
            "started": started,
        }
        info = await self._call("POST", "/users", json=body)
        return SimulatedUser(self, info["id"], info)

    async def users(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/users")

    def as_user(self, user_id: int, chat_id: int | None = None) -> SimulatedUser:
        """A handle for an existing user, acting in `chat_id` (default: the private chat)."""
        return SimulatedUser(self, user_id, {"id": user_id}, chat_id)

    async def create_group(
        self,
        title: str,
        members: Iterable[SimulatedUser | int],
        *,
        admins: Iterable[SimulatedUser | int] = (),
        supergroup: bool = False,
    ) -> dict[str, Any]:
        body = {
            "title": title,
            "member_ids": [_user_id(m) for m in members],
            "admin_ids": [_user_id(a) for a in admins],
            "type": "supergroup" if supergroup else "group",
        }
        return await self._call("POST", "/groups", json=body)

    # ------------------------------------------------------------ acting, by user id

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        body = {"user_id": user_id, "text": text, "reply_to_message_id": reply_to_message_id}
        return await self._call("POST", f"/chats/{chat_id or user_id}/messages", json=body)

    async def send_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        filename: str = "photo.jpg",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._send_file(user_id, data, filename, "photo", caption, None, chat_id)

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._send_file(
            user_id, data, filename, "document", caption, mime_type, chat_id
        )

    async def _send_file(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        kind: str,
        caption: str | None,
        mime_type: str | None,
        chat_id: int | None,
    ) -> dict[str, Any]:
        form = aiohttp.FormData(quote_fields=False)  # raw UTF-8 names, as aiogram sends
        form.add_field("user_id", str(user_id))
        form.add_field("kind", kind)
        if caption:
            form.add_field("caption", caption)
        form.add_field(
            "file", data, filename=filename, content_type=mime_type or "application/octet-stream"
        )
        return await self._call("POST", f"/chats/{chat_id or user_id}/messages", data=form)

    async def share_contact(
        self, user_id: int, phone_number: str | None = None, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        body = {"user_id": user_id, "contact": {"phone_number": phone_number}}
        return await self._call("POST", f"/chats/{chat_id or user_id}/messages", json=body)

    async def tap_keyboard(
        self, user_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Tap a reply-keyboard button (a request_contact button shares the user's phone)."""
        body = {"user_id": user_id, "text": text}
        return await self._call("POST", f"/chats/{chat_id or user_id}/keyboard", json=body)

    async def press_button(
        self,
        user_id: int,
        *,
        text: str | None = None,
        data: str | None = None,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        body = {"user_id": user_id, "text": text, "data": data, "message_id": message_id}
        return await self._call("POST", f"/chats/{chat_id or user_id}/press", json=body)

    async def callback_query(self, query_id: str, *, timeout: float = 0) -> dict[str, Any]:
        """A pressed button's callback query; waits up to `timeout` s for the bot's answer."""
        return await self._call(
            "GET", f"/callbacks/{query_id}", params={"timeout": timeout}, timeout=timeout + 10
        )

    async def read_chat(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        since: int | None = None,
        timeout: float | None = None,
    ) -> ChatView:
        """The chat as the user sees it; with `since`, wait (up to timeout) for a change."""
        params = {"user_id": user_id, "since": since, "timeout": timeout}
        raw = await self._call(
            "GET", f"/chats/{chat_id or user_id}", params=params, timeout=(timeout or 0) + 10
        )
        return ChatView(raw)

    async def wait_until(
        self,
        user_id: int,
        predicate: Callable[[ChatView], bool],
        *,
        timeout: float = 5.0,
        chat_id: int | None = None,
    ) -> ChatView:
        """Wait until the chat, as the user sees it, satisfies `predicate`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        view = await self.read_chat(user_id, chat_id=chat_id)
        while not predicate(view):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"chat never got there in {timeout} s; last: {view.texts()[-5:]}"
                )
            view = await self.read_chat(
                user_id, chat_id=chat_id, since=view.version, timeout=remaining
            )
        return view

    async def download(self, file_id: str) -> bytes:
        async with self._http().get(f"{self.base_url}/_sandbox/files/{file_id}") as response:
            if response.status != 200:
                raise SandboxError(response.status, "no such file")
            return await response.read()


def _user_id(user: SimulatedUser | int) -> int:
    return user.id if isinstance(user, SimulatedUser) else int(user)


class SimulatedUser:
    """One user acting in one chat (their private chat with the bot unless `in_chat`)."""

    def __init__(
        self,
        client: SandboxClient,
        user_id: int,
        info: dict[str, Any],
        chat_id: int | None = None,
    ) -> None:
        self.client = client
        self.id = user_id
        self.info = info
        self.chat_id = chat_id or user_id
        self.seen_message_id = 0  # wait_for_reply looks for bot messages after this one
        # Messages the person looks past when waiting for a reply (e.g. a bot's own
        # notices that happen to arrive in between); None: every bot message is a reply.
        self.looks_past: Callable[[dict[str, Any]], bool] | None = None

    def __repr__(self) -> str:
        return f"SimulatedUser({self.id}, chat={self.chat_id})"

    def in_chat(self, chat_id: int) -> SimulatedUser:
        """The same user, acting in a group."""
        user = SimulatedUser(self.client, self.id, self.info, chat_id)
        user.looks_past = self.looks_past
        return user

    def is_reply(self, message: dict[str, Any]) -> bool:
        """A bot message this person reads as an answer to what they did."""
        if not message.get("from", {}).get("is_bot", False):
            return False
        return self.looks_past is None or not self.looks_past(message)

    def _saw(self, message: dict[str, Any]) -> dict[str, Any]:
        self.seen_message_id = max(self.seen_message_id, message["message_id"])
        return message

    async def send(self, text: str, *, reply_to_message_id: int | None = None) -> dict[str, Any]:
        message = await self.client.send_text(
            self.id, text, chat_id=self.chat_id, reply_to_message_id=reply_to_message_id
        )
        return self._saw(message)

    async def start(self, payload: str | None = None) -> dict[str, Any]:
        """Send /start, with a deep-link payload as when opening t.me/<bot>?start=<payload>.

        Telegram passes on only payloads of 1-64 characters A-Z a-z 0-9 _ -, so others raise.
        """
        if payload is not None and not START_PAYLOAD.match(payload):
            raise ValueError(f"Telegram would not pass on the start payload {payload!r}")
        return await self.send(f"/start {payload}" if payload else "/start")

    async def send_photo(
        self, data: bytes, *, filename: str = "photo.jpg", caption: str | None = None
    ) -> dict[str, Any]:
        message = await self.client.send_photo(
            self.id, data, filename=filename, caption=caption, chat_id=self.chat_id
        )
        return self._saw(message)

    async def send_document(
        self,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        message = await self.client.send_document(
            self.id, data, filename, caption=caption, mime_type=mime_type, chat_id=self.chat_id
        )
        return self._saw(message)

    async def share_contact(self, phone_number: str | None = None) -> dict[str, Any]:
        message = await self.client.share_contact(self.id, phone_number, chat_id=self.chat_id)
        return self._saw(message)

    async def send_sticker(self) -> dict[str, Any]:
        body = {"user_id": self.id, "sticker": True}
        return self._saw(
            await self.client._call("POST", f"/chats/{self.chat_id}/messages", json=body)
        )

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        body = {"user_id": self.id, "location": {"latitude": latitude, "longitude": longitude}}
        return self._saw(
            await self.client._call("POST", f"/chats/{self.chat_id}/messages", json=body)
        )

    async def forge_press(
        self, data: str, *, message_id: int | None = None, timeout: float = 5.0
    ) -> Pressed:
        """Send a callback query with any data, as a modified client could (no such button
        needs to exist); waits for the bot's answer."""
        view = await self.read_chat()
        if view.messages:
            self.seen_message_id = max(self.seen_message_id, view.messages[-1]["message_id"])
        body = {"user_id": self.id, "data": data, "message_id": message_id, "forge": True}
        result = await self.client._call("POST", f"/chats/{self.chat_id}/press", json=body)
        query = await self.client.callback_query(result["callback_query_id"], timeout=timeout)
        return Pressed(result["callback_query_id"], result["message_id"], data, query["answer"])

    async def tap(self, text: str) -> dict[str, Any]:
        """Tap a reply-keyboard button."""
        return self._saw(await self.client.tap_keyboard(self.id, text, chat_id=self.chat_id))

    async def press(
        self,
        text: str | None = None,
        *,
        data: str | None = None,
        message_id: int | None = None,
        wait_answer: bool = True,
        timeout: float = 5.0,
    ) -> Pressed:
        """Press an inline button by its text (or callback data) on the newest message with it.

        Waits up to `timeout` s for the bot's answerCallbackQuery unless `wait_answer=False`.
        """
        view = await self.read_chat()
        if view.messages:
            self.seen_message_id = max(self.seen_message_id, view.messages[-1]["message_id"])
        result = await self.client.press_button(
            self.id, text=text, data=data, message_id=message_id, chat_id=self.chat_id
        )
        pressed = Pressed(
            result.get("callback_query_id"),
            result["message_id"],
            result.get("data"),
            result.get("answer"),
            result.get("button", {}),
        )
        if pressed.callback_query_id and wait_answer:
            query = await self.client.callback_query(pressed.callback_query_id, timeout=timeout)
            pressed.answer = query["answer"]
        return pressed

    async def read_chat(self) -> ChatView:
        return await self.client.read_chat(self.id, chat_id=self.chat_id)

    async def wait_until(
        self, predicate: Callable[[ChatView], bool], *, timeout: float = 5.0
    ) -> ChatView:
        return await self.client.wait_until(
            self.id, predicate, timeout=timeout, chat_id=self.chat_id
        )

    async def wait_for_reply(self, *, timeout: float = 5.0) -> dict[str, Any]:
        """The next message from the bot after the last thing this user sent, pressed or read.

        Successive calls walk through the bot's replies one by one.
        """

        def newer(message: dict[str, Any]) -> bool:
            return self.is_reply(message) and message["message_id"] > self.seen_message_id

        view = await self.wait_until(lambda v: any(newer(m) for m in v.messages), timeout=timeout)
        return self._saw(next(m for m in view.messages if newer(m)))

    async def download(self, file: str | dict[str, Any]) -> bytes:
        """A file by file_id, or the document (or largest photo) of a message."""
        if isinstance(file, dict):
            item = file.get("document") or (file.get("photo") or [{}])[-1]
            file = item["file_id"]
        return await self.client.download(file)

    async def block(self) -> None:
        await self.client.block(self.id)

    async def unblock(self) -> None:
        await self.client.unblock(self.id)
