"""The office's web console under /office: signing in, and what every console page shares.

A sub-application of the web app (web/app.py mounts it) with a context of its own, so that
nothing of the contacts' form reaches it:

- **Who.** The cookie `tz_office` (path /office) is a random token signed with WEB__SECRET for
  the console's purpose only; the database keeps its sha256 in `staff_session`
  (storage.services.staff_web). A contact's cookie (`tz_session`) is never read here, and a
  contact's signed token would not pass as an office one. Every request reads the staff row
  again; every service it calls checks the rights once more (a viewer's POST of an admin's
  step is refused by the service, StaffError admin_only → 403).
- **Signing in.** A one-time link `/office/login/<token>` (10 minutes, one use) comes to the
  staff member's Telegram chat from the bot's /console or `taizhang staff login-link`.
  Opening it shows a button; only the POST uses the link (a link preview or a mail scanner
  fetching the address signs nobody in). The POST is rate-limited per client address and is
  protected by a CSRF token bound to a cookie the login page sets.
- **CSRF.** Every POST carries `_csrf`, an HMAC of the session's token hash; it is checked here,
  before any handler runs (in a multipart body too), and a POST whose Origin names another
  site is refused. Only the broadcast compose form's POST may carry a body of 50 MB (its file).
- **One transaction per request**, rolled back when it is refused.

The pages themselves are web/office_views.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from locales import LANGUAGES, gettext_for
from storage.services import staff_web
from storage.services.broadcasts import FILE_LIMIT
from storage.services.errors import NotFound, ServiceError
from storage.services.staff import StaffError
from web import security
from web.app import CONFIG, DB, GETTEXT, LANG, MB, NOW, WebConfig

PREFIX = "/office"
HERE = Path(__file__).parent
COOKIE = "tz_office"
LOGIN_COOKIE = "tz_office_login"  # the login page's CSRF nonce
STAFF = web.RequestKey("staff", object)  # storage.services.staff_web.StaffIdentity | None
OFFICE_CSRF = web.RequestKey("office_csrf", str)
LIMITER = web.AppKey("office_login_limiter", security.RateLimiter)
OPEN_PATHS = ("/office/signin", "/office/login", "/office/language")
COMPOSE_PATH = "/office/broadcasts"  # the compose form's POST, which may carry a file


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, token: str) -> str:
    return f"{token}.{_mac(secret, 'office-session', token)}"


def unsign(secret: str, value: str | None) -> str | None:
    if not value or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    if not token or not hmac.compare_digest(signature, _mac(secret, "office-session", token)):
        return None
    return token


def csrf_token(secret: str, token_hash: str) -> str:
    return _mac(secret, "office-csrf", token_hash)


def _csrf_ok(secret: str, expected_for: str, given: object, purpose: str = "office-csrf") -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        given, _mac(secret, purpose, expected_for)
    )


# ------------------------------------------------------------------ the sub-application


def build_office_app(config: WebConfig) -> web.Application:
    from web import office_views

    app = web.Application(middlewares=[office_context])
    app[LIMITER] = security.RateLimiter(
        config.login_attempts, config.login_window, config.monotonic
    )
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates" / "office"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        context_processors=[_page_context],
    )
    from web.app import _static_url

    environment.globals["static"] = _static_url
    r = app.router
    r.add_get("", home)
    r.add_get("/", home)
    r.add_get("/signin", signin_page)
    r.add_get("/login/{token}", login_page)
    r.add_post("/login", login)
    r.add_post("/signout", signout)
    r.add_post("/language", set_language)
    office_views.add_routes(app)
    return app


async def _page_context(request: web.Request) -> dict:
    return page_context(request) if GETTEXT in request else {}


def page_context(request: web.Request) -> dict:
    who = request.get(STAFF)
    return {
        "_": request[GETTEXT],
        "lang": request[LANG],
        "who": who.member if who else None,
        "csrf": request.get(OFFICE_CSRF, ""),
        "path": request.path_qs if not request.path.startswith("/office/login") else "/office/",
        "section": "",
    }


@web.middleware
async def office_context(request: web.Request, handler) -> web.StreamResponse:
    config: WebConfig = request.config_dict[CONFIG]
    async with config.sessions() as session:
        request[DB] = session
        now = request[NOW] = config.clock()
        token = unsign(config.secret, request.cookies.get(COOKIE))
        who = None
        if token is not None:
            who = await staff_web.session_member(
                session,
                token,
                now=now,
                idle=config.office_session_idle,
                lifetime=config.office_session_lifetime,
            )
        request[STAFF] = who
        if who is not None and request.method == "POST" and request.path == COMPOSE_PATH:
            # A broadcast's file may have 50 MB: the compose form alone takes a body that big.
            request = request.clone(client_max_size=FILE_LIMIT + MB)
        chosen = request.cookies.get(security.LANGUAGE_COOKIE)
        if chosen not in LANGUAGES:
            chosen = who.language if who and who.language in LANGUAGES else None
        request[LANG] = chosen or config.default_locale
        request[GETTEXT] = gettext_for(request[LANG])
        if who is not None:
            request[OFFICE_CSRF] = csrf_token(config.secret, who.token_hash)
        refusal = await _refuse(request, who)
        if refusal is not None:
            return refusal
        try:
            response = await handler(request)
        except Refused as refused:
            await session.rollback()
            return error_page(request, refused.status, refused.code, **refused.params)
        except StaffError as error:
            await session.rollback()
            return error_page(request, 403, error.code)
        except NotFound:
            await session.rollback()
            return error_page(request, 404, "not_found")
        except web.HTTPException:
            await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return response


async def _refuse(request: web.Request, who) -> web.StreamResponse | None:
    """No page without a staff session (but the sign-in pages); every POST same-site and
    with its CSRF token."""
    open_path = any(request.path.startswith(p) for p in OPEN_PATHS)
    if who is None and not open_path:
        if request.method == "GET":
            return see_other(f"{PREFIX}/signin")
        return error_page(request, 401, "signed_out")
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return error_page(request, 403, "forbidden")
    if who is None or request.path == f"{PREFIX}/login":
        return None  # the sign-in form checks its own token; a language needs none
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return error_page(request, 413, "file_too_big")
    config = request.config_dict[CONFIG]
    if not _csrf_ok(config.secret, who.token_hash, form.get(security.CSRF_FIELD)):
        return error_page(request, 403, "csrf")
    return None


class Refused(Exception):
    """Raised by a page: answer with this status and the words of `code` (error_text)."""

    def __init__(self, status: int, code: str, **params: object):
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def safe_next(value: object, default: str = f"{PREFIX}/") -> str:
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//"):
        return default
    return text


def error_page(request: web.Request, status: int, code: str, **params: object) -> web.Response:
    _ = request[GETTEXT]
    context = {
        **page_context(request),
        "title": _("That did not work."),
        "message": error_text(_, code, **params),
        "code": code,
    }
    return aiohttp_jinja2.render_template("message.html", request, context, status=status)


def error_text(_, code: str, **params: object) -> str:
    words = {
        "signed_out": _(
            "You are not signed in to the office console, or your session has ended. Send "
            "/console to the bot for a sign-in link."
        ),
        "not_staff": _("This is for office staff only."),
        "admin_only": _(
            "Only an office administrator can do this; your role lets you view and export."
        ),
        "csrf": _("This form has expired. Reload the page and try again."),
        "forbidden": _("This request came from another site and was refused."),
        "not_found": _("There is no such page."),
        "unknown": _("This sign-in link is not valid. Send /console to the bot for a new one."),
        "expired": _(
            "This sign-in link has expired (it is valid for 10 minutes). Send /console to the "
            "bot for a new one."
        ),
        "used": _("This sign-in link was used already. Send /console to the bot for a new one."),
        "throttled": _(
            "Too many attempts from your network. Wait {minutes} minutes and try again."
        ),
        "no_actions": _("This console was started without the bot's outbox: it cannot send."),
        "confirm": _("Tick “sure” first to confirm."),
        "no_channel": _("This console cannot make that kind of link (no address is set for it)."),
        "file_too_big": _("The file is too big: bots send files of at most 50 MB."),
    }
    text = words.get(code) or _("That did not work.")
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def member_of(request: web.Request):
    """The signed-in staff member (the middleware lets no one else this far)."""
    who = request.get(STAFF)
    if who is None:
        raise Refused(401, "signed_out")
    return who.member


def attachment(payload: bytes, name: str, content_type: str) -> web.Response:
    return web.Response(
        body=payload,
        content_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


# ------------------------------------------------------------------ signing in and out


async def home(request: web.Request) -> web.StreamResponse:
    from storage.services import status

    member = member_of(request)
    choices = await status.rounds_to_pick(request[DB], member)
    if choices:
        return see_other(f"{PREFIX}/r/{choices[0].round_id}")
    return aiohttp_jinja2.render_template("no_rounds.html", request, {})


async def signin_page(request: web.Request) -> web.StreamResponse:
    if request.get(STAFF) is not None:
        return see_other(f"{PREFIX}/")
    return aiohttp_jinja2.render_template("signin.html", request, {}, status=401)


async def login_page(request: web.Request) -> web.StreamResponse:
    """The link's page: a button that signs in. The token is not looked at here, so a link
    preview or a scanner fetching the address uses nothing."""
    config = request.config_dict[CONFIG]
    nonce = secrets.token_urlsafe(16)
    response = aiohttp_jinja2.render_template(
        "login.html",
        request,
        {
            "token": request.match_info["token"],
            "login_csrf": _mac(config.secret, "office-login", nonce),
        },
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=600,
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies,
        path=f"{PREFIX}/login",
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    config = request.config_dict[CONFIG]
    limiter = request.app[LIMITER]
    address = _client_address(request, config)
    wait = limiter.retry_after(address)
    if wait:
        response = error_page(request, 429, "throttled", minutes=max(1, round(wait / 60)))
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    limiter.hit(address)
    form = await request.post()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not _csrf_ok(config.secret, nonce, form.get("_csrf"), "office-login"):
        return error_page(request, 403, "csrf")
    token = str(form.get("token") or "")
    session = request[DB]
    try:
        signed_in = await staff_web.exchange_login(
            session,
            token,
            now=request[NOW],
            idle=config.office_session_idle,
            lifetime=config.office_session_lifetime,
        )
    except staff_web.LoginError as error:
        await session.commit()  # a refused link stays refused; nothing else was written
        return error_page(request, 404 if error.reason == "unknown" else 410, error.reason)
    current = request.get(STAFF)
    if current is not None:
        await staff_web.end_session(session, current, now=request[NOW])
    response = see_other(f"{PREFIX}/")
    response.set_cookie(
        COOKIE,
        sign(config.secret, signed_in.token),
        max_age=int(config.office_session_lifetime.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies,
        path=PREFIX,
    )
    response.del_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


def _client_address(request: web.Request, config: WebConfig) -> str:
    """As web.app.client_address, for the sub-application (its config is the parent's)."""
    if config.trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or "?"


async def signout(request: web.Request) -> web.StreamResponse:
    who = request[STAFF]
    await staff_web.end_session(request[DB], who, now=request[NOW])
    response = see_other(f"{PREFIX}/signin")
    response.del_cookie(COOKIE, path=PREFIX)
    return response


async def set_language(request: web.Request) -> web.StreamResponse:
    config = request.config_dict[CONFIG]
    form = await request.post()
    who = request.get(STAFF)
    language = form.get("language")
    if language not in LANGUAGES:
        language = config.default_locale
    if who is not None:
        await staff_web.set_language(request[DB], who.member, language)
    response = see_other(safe_next(form.get("next")))
    response.set_cookie(
        security.LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies,
        path="/",
    )
    return response


def service_error(request: web.Request, error: ServiceError) -> str:
    """The words for a refusal a service gave (its code, else its message)."""
    from web.office_views import refusal_text

    return refusal_text(request[GETTEXT], error)
