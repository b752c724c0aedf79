"""The stand-in's own HTTP API under /_sandbox: control it and act as simulated users.

Answers are `{"ok": true, "result": ...}` or `{"ok": false, "error": "..."}` (400, 404 or
409). The Python client (sandbox.client) and the web chat both use these routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox import users
from sandbox.limits import Fault
from sandbox.state import BotState, ChatLog, SimUser

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

PREFIX = "/_sandbox"
USER_FIELDS = ("first_name", "last_name", "username", "language_code", "phone_number", "started")
Handler = Callable[[web.Request], Awaitable[Any]]


class Problem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _answer(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler's result (or its error) in the control API's JSON envelope."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(request)
        except Problem as problem:
            return _json({"ok": False, "error": str(problem)}, problem.status)
        except KeyError as error:
            return _json({"ok": False, "error": f"missing field {error}"}, 400)
        except (users.UserError, ValueError, TypeError) as error:
            return _json({"ok": False, "error": str(error)}, 400)
        except LookupError as error:
            return _json({"ok": False, "error": str(error).strip("'\"")}, 404)
        if isinstance(result, web.StreamResponse):
            return result
        return _json({"ok": True, "result": result}, 200)

    return wrapped


def _json(payload: Any, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def add_routes(app: web.Application, server: SandboxServer) -> None:
    api = ControlApi(server)
    routes = [
        ("GET", "/state", api.state),
        ("POST", "/reset", api.reset),
        ("GET", "/bots", api.list_bots),
        ("POST", "/bots", api.add_bot),
        ("GET", "/users", api.list_users),
        ("POST", "/users", api.add_user),
        ("POST", "/users/{user_id}/block", api.block),
        ("POST", "/users/{user_id}/unblock", api.unblock),
        ("GET", "/groups", api.list_groups),
        ("POST", "/groups", api.add_group),
        ("GET", "/rate_limits", api.rate_limits),
        ("POST", "/rate_limits", api.set_rate_limits),
        ("GET", "/faults", api.list_faults),
        ("POST", "/faults", api.add_fault),
        ("DELETE", "/faults", api.clear_faults),
        ("GET", "/calls", api.list_calls),
        ("DELETE", "/calls", api.clear_calls),
        ("GET", "/chats", api.list_chats),
        ("GET", "/chats/{chat_id}", api.read_chat),
        ("POST", "/chats/{chat_id}/messages", api.send),
        ("POST", "/chats/{chat_id}/keyboard", api.tap_keyboard),
        ("POST", "/chats/{chat_id}/press", api.press),
        ("GET", "/callbacks/{query_id}", api.callback),
        ("GET", "/files/{file_id}", api.download),
        ("GET", "/events", api.events),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, PREFIX + path, _answer(handler))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise Problem(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Problem(400, "the body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Problem(400, f"{name} must be an integer") from None


class ControlApi:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.world = server.world

    # ------------------------------------------------------------ helpers

    def _bot(self, ref: Any) -> BotState:
        try:
            return self.world.find_bot(ref)
        except LookupError as error:
            status = 409 if not self.world.bots else 404
            raise Problem(status, str(error)) from None

    def _actor(
        self, request: web.Request, body: dict[str, Any]
    ) -> tuple[BotState, ChatLog, SimUser]:
        """The bot, chat and user of a user-side request (user_id in the body or query)."""
        user_id = body.get("user_id", request.query.get("user_id"))
        user = self.world.user(_int(user_id, "user_id"))
        bot = self._bot(body.get("bot", request.query.get("bot")))
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        return bot, self.world.chat_for_user(bot, chat_id, user), user

    # ------------------------------------------------------------ control

    async def state(self, request: web.Request) -> Any:
        return {
            "bots": [bot.info() for bot in self.world.bots.values()],
            "users": [user.info() for user in self.world.users.values()],
            "groups": [group.info() for group in self.world.groups.values()],
            "rate_limits": vars(self.world.limiter.settings),
            "faults": [fault.to_json() for fault in self.world.faults.rules],
        }

    async def reset(self, request: web.Request) -> Any:
        self.server.reset()
        return True

    async def list_bots(self, request: web.Request) -> Any:
        return [bot.info() for bot in self.world.bots.values()]

    async def add_bot(self, request: web.Request) -> Any:
        body = await _body(request)
        bot = self.server.register_bot(
            str(body["token"]), body.get("username"), body.get("first_name")
        )
        if "can_read_all_group_messages" in body:
            bot.can_read_all_group_messages = bool(body["can_read_all_group_messages"])
        return bot.me()

    async def list_users(self, request: web.Request) -> Any:
        return [user.info() for user in self.world.users.values()]

    async def add_user(self, request: web.Request) -> Any:
        body = await _body(request)
        fields = {key: body[key] for key in USER_FIELDS if key in body}
        user_id = _int(body["id"], "id") if body.get("id") is not None else None
        return self.world.add_user(user_id, **fields).info()

    async def block(self, request: web.Request) -> Any:
        return await self._set_blocked(request, True)

    async def unblock(self, request: web.Request) -> Any:
        return await self._set_blocked(request, False)

    async def _set_blocked(self, request: web.Request, blocked: bool) -> Any:
        body = await _body(request)
        user = self.world.user(_int(request.match_info["user_id"], "user_id"))
        bot = self._bot(body.get("bot", request.query.get("bot")))
        users.set_blocked(self.world, bot, user, blocked)
        return True

    async def list_groups(self, request: web.Request) -> Any:
        return [group.info() for group in self.world.groups.values()]

    async def add_group(self, request: web.Request) -> Any:
        body = await _body(request)
        group = self.world.add_group(
            str(body.get("title") or "Group"),
            [_int(uid, "member_ids") for uid in body.get("member_ids", [])],
            group_id=body.get("id"),
            kind=body.get("type", "group"),
            admin_ids=body.get("admin_ids"),
        )
        return group.info()

    async def rate_limits(self, request: web.Request) -> Any:
        return vars(self.world.limiter.settings)

    async def set_rate_limits(self, request: web.Request) -> Any:
        self.server.set_rate_limits(**await _body(request))
        return vars(self.world.limiter.settings)

    async def list_faults(self, request: web.Request) -> Any:
        return [fault.to_json() for fault in self.world.faults.rules]

    async def add_fault(self, request: web.Request) -> Any:
        body = await _body(request)
        body.pop("id", None)
        return self.world.faults.add(Fault(**body)).to_json()

    async def clear_faults(self, request: web.Request) -> Any:
        self.world.faults.clear()
        return True

    async def list_calls(self, request: web.Request) -> Any:
        method = request.query.get("method", "").lower()
        return [c for c in self.server.calls if not method or c["method"].lower() == method]

    async def clear_calls(self, request: web.Request) -> Any:
        self.server.calls.clear()
        return True

    # ------------------------------------------------------------ acting as a user

    async def list_chats(self, request: web.Request) -> Any:
        """The chats a user can open: the private chat with the bot, then their groups."""
        user = self.world.user(_int(request.query.get("user_id"), "user_id"))
        bot = self._bot(request.query.get("bot"))
        chats = [{**user.private_chat(), "title": bot.first_name, "id": user.id}]
        chats += [g.to_json() for g in self.world.groups.values() if user.id in g.member_ids]
        return chats

    async def read_chat(self, request: web.Request) -> Any:
        """The chat as the user sees it; with `since=V&timeout=T`, wait for a newer version."""
        bot, log, user = self._actor(request, {})
        since = request.query.get("since")
        if since is not None:
            timeout = min(float(request.query.get("timeout", 10)), 60)
            await self._wait(lambda: log.version > _int(since, "since"), timeout)
        return users.chat_view(self.world, bot, log, user)

    async def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done() and not self.world.stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = asyncio.ensure_future(self.world.changed.wait())
            stop = asyncio.ensure_future(self.world.stopping.wait())
            await asyncio.wait({changed, stop}, timeout=remaining, return_when="FIRST_COMPLETED")
            changed.cancel()
            stop.cancel()

    async def send(self, request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            return await self._send_file(request)
        body = await _body(request)
        bot, log, user = self._actor(request, body)
        if "contact" in body:
            phone = (body["contact"] or {}).get("phone_number")
            return users.share_contact(self.world, bot, log, user, phone)
        if body.get("sticker"):
            return users.send_sticker(self.world, bot, log, user)
        if "location" in body:
            where = body["location"] or {}
            return users.send_location(
                self.world, bot, log, user, float(where["latitude"]), float(where["longitude"])
            )
        reply_to = body.get("reply_to_message_id")
        return users.send_text(self.world, bot, log, user, str(body.get("text", "")), reply_to)

    async def _send_file(self, request: web.Request) -> Any:
        fields: dict[str, Any] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.filename:  # type: ignore[union-attr]
                fields["file"] = (part.filename, await part.read())  # type: ignore[union-attr]
                fields["mime_type"] = part.headers.get("Content-Type")  # type: ignore[union-attr]
            elif part.name:  # type: ignore[union-attr]
                fields[part.name] = await part.text()  # type: ignore[union-attr]
        if "file" not in fields:
            raise Problem(400, "no file in the request")
        bot, log, user = self._actor(request, fields)
        file_name, data = fields["file"]
        return users.send_file(
            self.world,
            bot,
            log,
            user,
            data,
            file_name,
            as_photo=fields.get("kind") == "photo",
            caption=fields.get("caption"),
            mime_type=fields.get("mime_type"),
        )

    async def tap_keyboard(self, request: web.Request) -> Any:
        body = await _body(request)
        bot, log, user = self._actor(request, body)
        return users.tap_keyboard_button(self.world, bot, log, user, str(body["text"]))

    async def press(self, request: web.Request) -> Any:
        body = await _body(request)
        bot, log, user = self._actor(request, body)
        message_id = body.get("message_id")
        if body.get("forge"):
            return users.forge_callback(
                self.world,
                bot,
                log,
                user,
                str(body.get("data") or ""),
                _int(message_id, "message_id") if message_id is not None else None,
            )
        return users.press_inline_button(
            self.world,
            bot,
            log,
            user,
            text=body.get("text"),
            data=body.get("data"),
            message_id=_int(message_id, "message_id") if message_id is not None else None,
        )

    async def callback(self, request: web.Request) -> Any:
        """A pressed button's callback query; with `timeout=T`, wait for the bot's answer."""
        bot = self._bot(request.query.get("bot"))
        query = bot.callback_queries.get(request.match_info["query_id"])
        if query is None:
            raise Problem(404, "no such callback query")
        timeout = min(float(request.query.get("timeout", 0)), 60)
        await self._wait(lambda: query.answer is not None, timeout)
        return query.to_json()

    async def download(self, request: web.Request) -> Any:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise Problem(404, "no such file")
        disposition = "inline" if stored.mime_type.startswith("image/") else "attachment"
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type,
            headers={"Content-Disposition": _disposition(disposition, stored.file_name)},
        )

    async def events(self, request: web.Request) -> Any:
        """Server-sent events for the web chat: which chats of this user changed."""
        user_id = _int(request.query.get("user_id"), "user_id")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # Listening before the answer's headers go: a page that has them misses no event.
        self.world.listeners.add(queue.put_nowait)
        try:
            await response.prepare(request)
            await response.write(b"retry: 1000\n\n")
            while not self.world.stopping.is_set():
                event = await self._next_event(queue)
                if event is None:
                    await response.write(b": ping\n\n")
                elif user_id in event.get("user_ids", [user_id]):
                    await response.write(f"data: {json.dumps(event)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.world.listeners.discard(queue.put_nowait)
        return response

    async def _next_event(self, queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any] | None:
        """The next event, or None after 15 s of quiet or when the server stops."""
        get = asyncio.ensure_future(queue.get())
        stop = asyncio.ensure_future(self.world.stopping.wait())
        done, _ = await asyncio.wait({get, stop}, timeout=15, return_when="FIRST_COMPLETED")
        stop.cancel()
        if get in done:
            return get.result()
        get.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await get
        return None


def _disposition(kind: str, file_name: str) -> str:
    from urllib.parse import quote

    return f"{kind}; filename*=UTF-8''{quote(file_name)}"
