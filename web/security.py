"""What keeps the web form safe: signed session cookies, CSRF tokens, rate limits, headers.

- The session cookie is `<token>.<signature>`: a random token (its sha256 is what the database
  keeps) signed with WEB__SECRET, so a tampered cookie is refused before any lookup.
- The CSRF token is bound to the session: an HMAC of the session's token hash. Every POST
  carries it (a form field, or the X-CSRF-Token header of the autosave), and a POST whose
  Origin names another site is refused too.
- Link exchanges are rate-limited per client address (a sliding window in memory).
- Every answer carries a Content-Security-Policy without inline script, and no page is cached
  or framed; the access log never shows a link's token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

SESSION_COOKIE = "tz_session"
LANGUAGE_COOKIE = "tz_lang"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_session(secret: str, token: str) -> str:
    return f"{token}.{_mac(secret, 'session', token)}"


def unsign_session(secret: str, value: str | None) -> str | None:
    """The token of a well-signed cookie value, else None."""
    if not value or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    if not token or not hmac.compare_digest(signature, _mac(secret, "session", token)):
        return None
    return token


def csrf_token(secret: str, session_token_hash: str) -> str:
    return _mac(secret, "csrf", session_token_hash)


def csrf_ok(secret: str, session_token_hash: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(given, csrf_token(secret, session_token_hash))


class RateLimiter:
    """At most `limit` events per `window` seconds for one key (a client address)."""

    def __init__(self, limit: int, window: float, monotonic: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.monotonic = limit, window, monotonic
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        events, now = self._events[key], self.monotonic()
        while events and now - events[0] >= self.window:
            events.popleft()
        return events

    def retry_after(self, key: str) -> float:
        """0 when `key` may go on, else the seconds until it may."""
        events = self._recent(key)
        if len(events) < self.limit:
            return 0.0
        return max(0.1, self.window - (self.monotonic() - events[0]))

    def hit(self, key: str) -> None:
        self._recent(key).append(self.monotonic())
        if len(self._events) > 10_000:  # forget keys that have gone quiet
            for quiet in [k for k, v in self._events.items() if not v][:5_000]:
                del self._events[quiet]


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _headers(response)
        raise
    _headers(response)
    return response


def _headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=()")


_TOKEN_IN_PATH = re.compile(r"(/l/|/office/login/)[^/?#\s]+")


def redact(path: str) -> str:
    """A request line fit for a log: a link's token replaced by …"""
    return _TOKEN_IN_PATH.sub(r"\1…", path)


class AccessLogger(AbstractAccessLogger):
    """One line per request, with the link tokens taken out."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.0fms",
            request.remote,
            request.method,
            redact(request.path),
            response.status,
            time * 1000,
        )
