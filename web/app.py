"""The web app: configuration, the middlewares (headers, one database session per request,
who is signed in, which language, CSRF) and the routes.

`build_web_app(WebConfig(...))` is all the composition root (bot/) calls; how a submission
tells the office is its business too (`submit`), so web/ needs nothing of scheduler/ or bot/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from locales import LANGUAGES, gettext_for
from storage.services import web_access
from storage.services.people import Membership
from storage.services.reporting import Actor, Overview, Receipt
from storage.types import utcnow
from web import security

HERE = Path(__file__).parent
MB = 1024 * 1024

# submit(session, actor, round_id, membership, now) -> (receipt, overview): the bot's wiring
# passes scheduler.notices.submit_and_tell_staff, so the office hears of it as from the bot.
Submitter = Callable[
    [AsyncSession, Actor, int, Membership, dt.datetime], Awaitable[tuple[Receipt, Overview]]
]


@dataclass(frozen=True)
class Upload:
    """A file the console hands the upload action: checked already (size, type from its
    content), `kind` photo or document as Telegram will send it."""

    name: str
    data: bytes
    kind: str
    mime: str


@dataclass(frozen=True)
class Uploaded:
    """What Telegram made of it: photo or document (a photo it refused goes as a document),
    and the file id every recipient's message reuses."""

    kind: str
    file_id: str


class UploadFailed(Exception):
    """The upload action could not give the file to Telegram (its answer, or no admin chat)."""

    def __init__(self, reason: str = "", *, no_chat: bool = False):
        super().__init__(reason or "upload failed")
        self.reason, self.no_chat = reason, no_chat


# upload(session, member, Upload) -> Uploaded: the file given to Telegram once
Uploader = Callable[[AsyncSession, Any, Upload], Awaitable[Uploaded]]


@dataclass(frozen=True)
class OfficeActions:
    """What the office's console does that tells someone, passed in by the composition root
    (bot/web_server.py) as `submit` is: scheduler.review_notices.accept_and_tell and
    return_and_tell, scheduler.broadcasts.confirm_and_queue, scheduler.nudges.nudge and
    remind_unacknowledged; the time rules of a scheduled broadcast (scheduler.broadcasts.
    time_for and schedule); and, only where the bot runs, the upload of a broadcast's file
    through the Bot API (bot/attachments.py). Without them (None) the console shows review
    and broadcasts but cannot decide or send; without `upload_attachment` it sends no files."""

    accept: Callable[..., Awaitable[Any]]
    return_report: Callable[..., Awaitable[Any]]
    confirm_broadcast: Callable[..., Awaitable[Any]]
    nudge: Callable[..., Awaitable[Any]] | None = None
    remind_unacknowledged: Callable[..., Awaitable[int]] | None = None
    broadcast_time: Callable[..., Awaitable[dt.datetime]] | None = None
    schedule_broadcast: Callable[..., Awaitable[Any]] | None = None
    upload_attachment: Uploader | None = None


@dataclass
class WebConfig:
    sessions: async_sessionmaker
    secret: str
    submit: Submitter
    base_url: str = ""
    clock: Callable[[], dt.datetime] = utcnow
    default_locale: str = "zh_CN"
    max_upload_bytes: int = 10 * MB
    session_idle: dt.timedelta = web_access.SESSION_IDLE
    session_lifetime: dt.timedelta = web_access.SESSION_LIFETIME
    link_attempts: int = 10  # link exchanges per client address …
    link_window: float = 600.0  # … in this many seconds
    trust_forwarded: bool = False  # take the client address from X-Forwarded-For
    monotonic: Callable[[], float] = field(default=time.monotonic)
    office: OfficeActions | None = None  # the console's actions (web/office.py)
    office_session_idle: dt.timedelta = dt.timedelta(hours=8)
    office_session_lifetime: dt.timedelta = dt.timedelta(days=7)
    login_attempts: int = 10  # console sign-ins per client address …
    login_window: float = 600.0  # … in this many seconds
    bot_username: str = ""  # for Telegram invite links made in the console ("" : web links only)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


CONFIG = web.AppKey("config", WebConfig)
LINK_LIMITER = web.AppKey("link_limiter", security.RateLimiter)
DB = web.RequestKey("db", AsyncSession)
NOW = web.RequestKey("now", dt.datetime)
IDENTITY = web.RequestKey("identity", object)
LANG = web.RequestKey("lang", str)
GETTEXT = web.RequestKey("gettext", object)
CSRF = web.RequestKey("csrf", str)
CSRF_CHECKED = web.RequestKey("csrf_checked", bool)
OVERVIEW = web.RequestKey("overview", Overview)


def build_web_app(config: WebConfig) -> web.Application:
    if len(config.secret) < 16:
        raise ValueError("the web app needs a secret of at least 16 characters (WEB__SECRET)")
    from web import views

    app = web.Application(
        middlewares=[security.security_headers, request_context],
        client_max_size=config.max_upload_bytes + MB,
    )
    app[CONFIG] = config
    app[LINK_LIMITER] = security.RateLimiter(
        config.link_attempts, config.link_window, config.monotonic
    )
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        context_processors=[_page_context],
    )
    environment.globals["static"] = _static_url
    views.add_routes(app)
    from web import office

    app.add_subapp(office.PREFIX, office.build_office_app(config))
    app.router.add_static("/static/", HERE / "static", name="static", append_version=False)
    return app


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((HERE / "static").iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


_STATIC_VERSION = _static_version()  # a new address whenever a file changes


def _static_url(name: str) -> str:
    return f"/static/{name}?v={_STATIC_VERSION}"


async def _page_context(request: web.Request) -> dict:
    return page_context(request) if GETTEXT in request else {}  # static files: nothing


def page_context(request: web.Request) -> dict:
    """What every page needs: the words, the language, who is signed in, the CSRF token."""
    return {
        "_": request[GETTEXT],
        "lang": request[LANG],
        "identity": request.get(IDENTITY),
        "csrf": request.get(CSRF, ""),
        "path": "/" if request.path.startswith("/l/") else request.path_qs,  # never a token
    }


# ------------------------------------------------------------------ per request


def client_address(request: web.Request) -> str:
    config = request.app[CONFIG]
    if config.trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or "?"


def choose_language(request: web.Request, identity) -> str:
    chosen = request.cookies.get(security.LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if identity is not None and identity.language in LANGUAGES:
        return identity.language
    return request.app[CONFIG].default_locale


def office_path(path: str) -> bool:
    return path == "/office" or path.startswith("/office/")


@web.middleware
async def request_context(request: web.Request, handler) -> web.StreamResponse:
    """One database session per request, committed when the handler answers; who is signed
    in (a tampered, unknown or expired cookie: nobody); the language; the CSRF check."""
    config = request.app[CONFIG]
    if request.path.startswith("/static/") or office_path(request.path):
        return await handler(request)  # the console has a context of its own (web/office.py)
    async with config.sessions() as session:
        request[DB] = session
        now = request[NOW] = config.clock()
        token = security.unsign_session(
            config.secret, request.cookies.get(security.SESSION_COOKIE)
        )
        identity = None
        if token is not None:
            identity = await web_access.session_identity(
                session,
                token,
                now=now,
                idle=config.session_idle,
                lifetime=config.session_lifetime,
            )
        request[IDENTITY] = identity
        request[LANG] = choose_language(request, identity)
        request[GETTEXT] = gettext_for(request[LANG])
        if identity is not None:
            request[CSRF] = security.csrf_token(config.secret, identity.token_hash)
        refusal = _refuse_post(request, identity)
        if refusal is not None:
            return refusal
        try:
            response = await handler(request)
        except Refusal as refusal:
            await session.rollback()  # nothing of a refused request is kept
            return page_error(request, refusal.status, refusal.code, **refusal.params)
        except web.HTTPException:
            await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return response


class Refusal(Exception):
    """Raised by a view: answer with this status and the message of `code` (views.error_text)."""

    def __init__(self, status: int, code: str, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


def _refuse_post(request: web.Request, identity) -> web.StreamResponse | None:
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return page_error(request, 403, "forbidden")
    if request.path == "/language" and identity is None:
        return None  # a cookie of its own, nothing of anyone's to change
    if identity is None:
        return page_error(request, 401, "signed_out")
    config = request.app[CONFIG]
    given = request.headers.get(security.CSRF_HEADER)
    if given is None:
        return None  # the form field is checked once the body is read (views.form_of)
    if not security.csrf_ok(config.secret, identity.token_hash, given):
        return page_error(request, 403, "csrf")
    request[CSRF_CHECKED] = True
    return None


def page_error(request: web.Request, status: int, code: str, **params: object) -> web.Response:
    """A page that says what went wrong in the person's language (JSON for the autosave)."""
    from web.views import error_text

    _ = request[GETTEXT]
    message = error_text(_, code, **params)
    if wants_json(request):
        return web.json_response({"ok": False, "code": code, "message": message}, status=status)
    context = {"title": _("That did not work."), "message": message, "code": code}
    return aiohttp_jinja2.render_template(
        "message.html", request, {**page_context(request), **context}, status=status
    )


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")
