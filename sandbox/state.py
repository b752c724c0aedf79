"""What the stand-in remembers: bots, simulated users and groups, chats, files and updates.

Everything lives in memory; one `World` per server. Chats are kept per bot, as Telegram
keeps a private chat per (user, bot) pair. Changes bump the chat's version and are
published to listeners (the web chat's event stream and waiting clients).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import BLOCKED, CHAT_NOT_FOUND, bad_request, forbidden
from sandbox.limits import Faults, RateLimiter, RateLimitSettings

TOKEN_PATTERN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{30,64}$")
# Sent unless the bot asks for them by name in allowed_updates (as in Telegram).
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024


def unix_now() -> int:
    return int(time.time())


@dataclass
class SimUser:
    """A simulated Telegram user (a phone)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone_number: str | None = None
    started: bool = False  # has started every bot already, so bots may write first

    def to_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                chat[key] = getattr(self, key)
        chat["type"] = "private"
        return chat

    def info(self) -> dict[str, Any]:
        return {**self.to_json(), "phone_number": self.phone_number, "started": self.started}


@dataclass
class Group:
    id: int
    title: str
    type: str  # "group" or "supergroup"
    member_ids: list[int]
    admin_ids: set[int] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type}

    def info(self) -> dict[str, Any]:
        return {
            **self.to_json(),
            "member_ids": self.member_ids,
            "admin_ids": sorted(self.admin_ids),
        }


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str
    mime_type: str
    file_path: str
    width: int | None = None
    height: int | None = None

    def document_json(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }

    def photo_json(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": self.width or 0,
                "height": self.height or 0,
            }
        ]

    def file_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    message: dict[str, Any]  # the Message object as it is now (edits applied)
    sender_id: int
    markup: dict[str, Any] | None = None  # reply_markup as sent, reply keyboards included
    deleted: bool = False


@dataclass
class ChatLog:
    """One chat as one bot and its members see it."""

    chat: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    force_reply: dict[str, Any] | None = None
    action: tuple[str, float] | None = None
    version: int = 0
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_group(self) -> bool:
        return self.chat["type"] != "private"

    def visible(self) -> list[dict[str, Any]]:
        return [stored.message for stored in self.messages.values() if not stored.deleted]

    def add(self, message: dict[str, Any], sender_id: int, markup: dict[str, Any] | None) -> int:
        message_id = self.next_id
        self.next_id += 1
        self.messages[message_id] = StoredMessage(
            {"message_id": message_id, **message}, sender_id, markup
        )
        return message_id


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "callback_query_id": self.id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answer is not None,
            "answer": self.answer,
        }


@dataclass
class PendingUpdate:
    update_id: int
    payload: dict[str, Any]
    repeats: int = 0  # extra deliveries still owed (the duplicate_updates fault)

    @property
    def kind(self) -> str:
        return next(key for key in self.payload if key != "update_id")


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotState:
    """One bot (one token): its identity, its update queue and everything it has set."""

    def __init__(self, token: str, bot_id: int, username: str, first_name: str) -> None:
        self.token = token
        self.id = bot_id
        self.username = username
        self.first_name = first_name
        self.can_read_all_group_messages = False  # privacy mode on, Telegram's default
        self.can_read_all_group_messages = False  # privacy mode on, Telegram's default
        self.wakeup = asyncio.Event()  # replaced after each signal()
        self.poll_generation = 0
        self.get_updates_started = 0  # getUpdates calls begun, for "is the bot polling yet?"
        self.polls_waiting = 0
        self.forget()

    def forget(self) -> None:
        """Drop everything the bot and its users did; keep the identity."""
        self.updates: deque[PendingUpdate] = deque()
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.webhook: Webhook | None = None
        self.commands: dict[tuple[tuple[Any, ...], str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.texts: dict[tuple[str, str], str] = {}  # (name|description|short, language)
        self.chats: dict[int, ChatLog] = {}
        self.started: set[int] = set()  # users who ever wrote to the bot
        self.blocked: set[int] = set()
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.poll_generation += 1
        self.signal()

    def signal(self) -> None:
        """Wake whoever waits for this bot's updates (long polls, the webhook pusher)."""
        self.wakeup.set()
        self.wakeup = asyncio.Event()

    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def me(self) -> dict[str, Any]:
        return {
            **self.user_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def wants(self, kind: str) -> bool:
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        if not allowed:
            return kind not in OPT_IN_UPDATES
        return kind in allowed

    def info(self) -> dict[str, Any]:
        return {
            **self.user_json(),
            "pending_update_count": len(self.updates),
            "get_updates_started": self.get_updates_started,
            "polling": self.polls_waiting > 0,
            "webhook_url": self.webhook.url if self.webhook else "",
            "blocked_user_ids": sorted(self.blocked),
        }


Listener = Callable[[dict[str, Any]], None]


class World:
    def __init__(
        self,
        *,
        bot_username: str = "sandbox_bot",
        rate_limits: RateLimitSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_username = bot_username
        self.limiter = RateLimiter(rate_limits or RateLimitSettings(), clock)
        self.faults = Faults()
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, Group] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.listeners: set[Listener] = set()
        self.stopping = asyncio.Event()
        self.changed = asyncio.Event()  # set and replaced on every change
        self._user_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._file_numbers = itertools.count(1)

    # ------------------------------------------------------------ bots

    def bot_for_token(self, token: str) -> BotState | None:
        if token in self.bots:
            return self.bots[token]
        if not TOKEN_PATTERN.match(token):
            return None
        return self.register_bot(token)

    def register_bot(
        self, token: str, username: str | None = None, first_name: str | None = None
    ) -> BotState:
        bot_id = int(token.split(":", 1)[0])
        bot = self.bots.get(token)
        if bot is None:
            bot = BotState(token, bot_id, self.bot_username, "Sandbox Bot")
            self.bots[token] = bot
            self.publish({"type": "bots"})
        bot.username = username or bot.username
        bot.first_name = first_name or bot.first_name
        return bot

    def find_bot(self, ref: int | str | None = None) -> BotState:
        """A bot by id or username; without one, the only (or first registered) bot."""
        if ref in (None, ""):
            if not self.bots:
                raise LookupError("no bot has connected to the sandbox yet")
            return next(iter(self.bots.values()))
        for bot in self.bots.values():
            if str(bot.id) == str(ref) or bot.username == str(ref).lstrip("@"):
                return bot
        raise LookupError(f"no bot {ref!r}")

    # ------------------------------------------------------------ users and groups

    def add_user(self, user_id: int | None = None, **fields: Any) -> SimUser:
        """Create a user, or update the given fields of an existing one."""
        user_id = user_id or next(self._user_ids)
        user = self.users.get(user_id)
        if user is None:
            fields.setdefault("first_name", f"User {user_id}")
            user = self.users[user_id] = SimUser(user_id, **fields)
        else:
            for key, value in fields.items():
                setattr(user, key, value)
        self.publish({"type": "users"})
        return user

    def add_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        group_id: int | None = None,
        kind: str = "group",
        admin_ids: list[int] | None = None,
    ) -> Group:
        if kind not in ("group", "supergroup"):
            raise ValueError("kind must be group or supergroup")
        unknown = [uid for uid in member_ids if uid not in self.users]
        if unknown:
            raise LookupError(f"unknown users {unknown}")
        if group_id is None:
            number = next(self._group_ids)
            group_id = -(1_000_000_000_000 + number) if kind == "supergroup" else -number
        group = Group(group_id, title, kind, list(member_ids), set(admin_ids or []))
        self.groups[group_id] = group
        self.publish({"type": "users"})
        return group

    def user(self, user_id: int) -> SimUser:
        if user_id not in self.users:
            raise LookupError(f"no user {user_id}")
        return self.users[user_id]

    # ------------------------------------------------------------ chats

    def chat_for_user(self, bot: BotState, chat_id: int, user: SimUser) -> ChatLog:
        """The chat `user` acts in: their private chat with the bot, or a group they are in."""
        if chat_id in (0, user.id):
            log = bot.chats.get(user.id)
            if log is None:
                log = bot.chats[user.id] = ChatLog(user.private_chat())
            log.chat = user.private_chat()
            return log
        group = self.groups.get(chat_id)
        if group is None or user.id not in group.member_ids:
            raise LookupError(f"user {user.id} is not in chat {chat_id}")
        if chat_id not in bot.chats:
            bot.chats[chat_id] = ChatLog(group.to_json())
        return bot.chats[chat_id]

    def chat_for_bot(self, bot: BotState, chat_ref: int | str) -> ChatLog:
        """The chat a bot addresses, with Telegram's answers when it cannot."""
        if isinstance(chat_ref, str):
            username = chat_ref.lstrip("@").lower()
            match = [u.id for u in self.users.values() if (u.username or "").lower() == username]
            if not chat_ref.startswith("@") or not match:
                raise bad_request(CHAT_NOT_FOUND)
            chat_ref = match[0]
        if chat_ref in self.groups:
            group = self.groups[chat_ref]
            if chat_ref not in bot.chats:
                bot.chats[chat_ref] = ChatLog(group.to_json())
            return bot.chats[chat_ref]
        user = self.users.get(chat_ref)
        if user is None:
            raise bad_request(CHAT_NOT_FOUND)
        if chat_ref not in bot.started and not user.started:
            raise forbidden("bot can't initiate conversation with a user")
        if chat_ref in bot.blocked:
            raise forbidden(BLOCKED)
        return self.chat_for_user(bot, chat_ref, user)

    def members(self, log: ChatLog) -> list[int]:
        if log.is_group:
            group = self.groups.get(log.id)
            return list(group.member_ids) if group else []
        return [log.id]

    def touch(self, bot: BotState, log: ChatLog) -> None:
        log.version += 1
        self.publish(
            {
                "type": "chat",
                "bot_id": bot.id,
                "chat_id": log.id,
                "version": log.version,
                "user_ids": self.members(log),
            }
        )

    def publish(self, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event)
        self.changed.set()
        self.changed = asyncio.Event()

    # ------------------------------------------------------------ updates

    def enqueue(self, bot: BotState, kind: str, payload: dict[str, Any]) -> PendingUpdate | None:
        """Queue an update for the bot, unless it did not ask for this kind or a fault drops it."""
        if not bot.wants(kind):
            return None
        fault = self.faults.take_update_fault()
        if fault and fault.kind == "drop_updates":
            return None
        update = PendingUpdate(
            bot.next_update_id, {"update_id": bot.next_update_id, kind: payload}
        )
        bot.next_update_id += 1
        if fault and fault.kind == "duplicate_updates":
            update.repeats = 1
        bot.updates.append(update)
        bot.signal()
        return update

    @staticmethod
    def confirm(bot: BotState, offset: int) -> None:
        """getUpdates' offset: forget updates below it (a negative offset keeps the last -N)."""
        if offset < 0:
            while len(bot.updates) > -offset:
                bot.updates.popleft()
            return
        kept: deque[PendingUpdate] = deque()
        for update in bot.updates:
            if update.update_id >= offset:
                kept.append(update)
            elif update.repeats > 0:
                update.repeats -= 1
                kept.append(update)
        bot.updates = kept

    # ------------------------------------------------------------ files

    def store_file(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        folder: str,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        number = next(self._file_numbers)
        prefix = "AgAC" if folder == "photos" else "BQAC"
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(48),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}.{extension}",
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self.files[stored.file_id] = stored
        self.file_paths[stored.file_path] = stored
        return stored

    # ------------------------------------------------------------ reset

    def reset(self) -> None:
        """Forget users, groups, chats, files, updates and faults; keep bot identities."""
        for bot in self.bots.values():
            bot.forget()
        self.users.clear()
        self.groups.clear()
        self.files.clear()
        self.file_paths.clear()
        self.faults.clear()
        self.limiter.reset()
        self.publish({"type": "reset"})
