"""The stand-in's mailbox: mail a bot would send over SMTP, caught and kept in memory instead.

Nothing leaves the machine. Whatever builds `email.message.EmailMessage`s hands them to
`Mailbox.deliver` (a bot's composition root wires it in place of its SMTP call); each message
is written out as it would go over SMTP and read back, so what the pages show is what a mail
client would decode. Pages and API on the stand-in's server:

    /mail                 the caught mails, newest first (time, to, subject); live
    /mail/{id}            one mail decoded: its headers, the HTML part in a sandboxed frame
                          (no scripts, no same-origin access), the plain text with its links
                          clickable, the attachments
    /mail/{id}/html       the HTML part alone, under `Content-Security-Policy: sandbox`
    /mail/{id}.eml        the message as it would have gone over SMTP
    /_sandbox/mail        JSON {count, mails} (newest first, `?limit=N`); `?since=ID&timeout=T`
                          waits for a mail newer than ID and lists only those
    /_sandbox/mail/{id}   JSON: one mail with its text and HTML
    DELETE /_sandbox/mail forget them all

Like the rest of the stand-in this knows nothing of the bot. Its few words are English unless
the server is given `MailWords` (a translate function and the languages to offer).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import email.utils
import html
import itertools
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any
from urllib.parse import urlencode

from aiohttp import web


def N_(text: str) -> str:
    """Marks a word of the pages for the catalogue of whoever translates them (MailWords)."""
    return text


MAILBOX = N_("Mailbox")
INTRO = N_("Mail the bot sent, caught by the sandbox: nothing leaves this machine.")
EMPTY = N_("No mail yet. When the bot sends an e-mail, it shows up here at once.")
COUNT = N_("{count} caught")
TIME = N_("Time")
TO = N_("Recipient")
FROM = N_("Sender")
SUBJECT = N_("Subject")
NO_SUBJECT = N_("(no subject)")
BACK = N_("← Mailbox")
WEB_CHAT = N_("Web chat")
PLAIN = N_("Plain text")
HTML_PART = N_("As HTML (scripts off)")
ATTACHMENTS = N_("Attachments")
RAW = N_("Raw message (.eml)")
NOT_FOUND = N_("There is no such mail (it may have been cleared).")

# The HTML part's frame: no scripts at all (so the page may read its height to fit it, the
# one thing same-origin is allowed for); a link in it opens where it is clicked (the whole
# tab), as a mail app hands a link to the browser.
FRAME_SANDBOX = (
    "allow-same-origin allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation"
)
HTML_PART_CSP = (
    f"sandbox {FRAME_SANDBOX}; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
)
PAGE_CSP = "default-src 'self'; style-src 'self'; frame-src 'self'; img-src 'self' data:"
_URL = re.compile(r"https?://[^\s<>\"'\u3000-\u303f\uff00-\uffef]+")
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True)
class MailWords:
    """How the pages speak: `translate(language, english)`, and the languages offered as
    (code, name), the first one the default."""

    translate: Callable[[str, str], str]
    languages: tuple[tuple[str, str], ...]


@dataclass
class CaughtMail:
    id: int
    caught_at: dt.datetime  # when the mailbox took it (UTC)
    raw: bytes  # as it would have gone over SMTP
    message: EmailMessage = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def sender(self) -> str:
        return str(self.message.get("From", ""))

    @property
    def to(self) -> str:
        return ", ".join(str(v) for v in self.message.get_all("To", []))

    @property
    def recipients(self) -> list[str]:
        """Every address it was for (To, Cc and Bcc), as an SMTP envelope would hold them."""
        values = [str(v) for key in ("To", "Cc", "Bcc") for v in self.message.get_all(key, [])]
        return [address for _name, address in email.utils.getaddresses(values) if address]

    @property
    def date(self) -> dt.datetime:
        """The Date header (when the sender says it sent it), else when it was caught."""
        value = self.message.get("Date")
        try:
            parsed = email.utils.parsedate_to_datetime(str(value)) if value else None
        except (TypeError, ValueError):
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            return self.caught_at
        return parsed

    @property
    def text(self) -> str:
        return _body(self.message, "plain")

    @property
    def html(self) -> str:
        return _body(self.message, "html")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        found = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True) or b""
            found.append(
                {
                    "filename": part.get_filename() or "",
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                }
            )
        return found

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.to,
            "recipients": self.recipients,
            "subject": self.subject,
            "date": self.date.isoformat(),
            "caught_at": self.caught_at.isoformat(),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "text": self.text,
            "html": self.html,
            "attachments": self.attachments,
        }


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: show what can be shown
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content.replace("\r\n", "\n")  # SMTP's line ends


class Mailbox:
    """The mails caught, oldest first in `mails`; ids keep counting when old ones drop off."""

    def __init__(
        self,
        publish: Callable[[dict[str, Any]], None] | None = None,
        *,
        size: int = 500,
    ) -> None:
        self.mails: deque[CaughtMail] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._publish = publish or (lambda event: None)
        self._arrived = asyncio.Event()

    def deliver(self, message: Message | bytes) -> CaughtMail:
        """Catch one message: written out for SMTP (as a server would receive it), kept."""
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=email.policy.SMTP)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        caught = CaughtMail(next(self._ids), dt.datetime.now(dt.UTC), raw, parsed)
        self.mails.append(caught)
        self._publish({"type": "mail", "id": caught.id, "count": len(self.mails)})
        self._arrived.set()
        self._arrived = asyncio.Event()
        return caught

    def get(self, mail_id: int) -> CaughtMail:
        for mail in self.mails:
            if mail.id == mail_id:
                return mail
        raise LookupError(f"no mail {mail_id}")

    def newest_first(self) -> list[CaughtMail]:
        return list(reversed(self.mails))

    def clear(self) -> None:
        self.mails.clear()
        self._publish({"type": "mail", "id": None, "count": 0})

    async def wait_newer(self, since: int, timeout: float, stopping: asyncio.Event) -> None:
        """Until a mail newer than `since` is here, the timeout passes or the server stops."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (self.mails and self.mails[-1].id > since) and not stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            arrived = asyncio.ensure_future(self._arrived.wait())
            stop = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({arrived, stop}, timeout=remaining, return_when="FIRST_COMPLETED")
            arrived.cancel()
            stop.cancel()


# ---------------------------------------------------------------- the routes


def add_routes(
    app: web.Application,
    mailbox: Mailbox,
    stopping: asyncio.Event,
    *,
    words: MailWords | None = None,
    zone: dt.tzinfo | None = None,
) -> None:
    pages = _Pages(mailbox, stopping, words, zone)
    app.router.add_get("/mail", pages.index)
    app.router.add_get("/mail/{id:\\d+}.eml", pages.raw)
    app.router.add_get("/mail/{id:\\d+}/html", pages.html_part)
    app.router.add_get("/mail/{id:\\d+}", pages.one)
    app.router.add_get("/_sandbox/mail", pages.api_list)
    app.router.add_delete("/_sandbox/mail", pages.api_clear)
    app.router.add_get("/_sandbox/mail/{id:\\d+}", pages.api_one)


class _Pages:
    def __init__(
        self,
        mailbox: Mailbox,
        stopping: asyncio.Event,
        words: MailWords | None,
        zone: dt.tzinfo | None,
    ) -> None:
        self.mailbox = mailbox
        self.stopping = stopping
        self.words = words
        self.zone = zone

    # ------------------------------------------------------------ words and times

    def _language(self, request: web.Request) -> str:
        if self.words is None or not self.words.languages:
            return "en"
        codes = [code for code, _name in self.words.languages]
        asked = request.query.get("lang", "")
        return asked if asked in codes else codes[0]

    def _words(self, language: str) -> Callable[[str], str]:
        if self.words is None:
            return lambda text: text
        translate = self.words.translate
        return lambda text: translate(language, text)

    def _when(self, moment: dt.datetime) -> str:
        local = moment.astimezone(self.zone) if self.zone else moment.astimezone()
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def _link(self, path: str, language: str) -> str:
        default = self.words.languages[0][0] if self.words and self.words.languages else "en"
        return path if language == default else f"{path}?{urlencode({'lang': language})}"

    # ------------------------------------------------------------ pages

    async def index(self, request: web.Request) -> web.StreamResponse:
        language = self._language(request)
        _ = self._words(language)
        mails = self.mailbox.newest_first()
        if mails:
            rows = "".join(self._row(mail, language, _) for mail in mails)
            listing = (
                '<table class="mails" id="mails"><thead><tr>'
                f"<th>{_e(_(TIME))}</th><th>{_e(_(TO))}</th><th>{_e(_(SUBJECT))}</th>"
                f"</tr></thead><tbody>{rows}</tbody></table>"
            )
        else:
            listing = f'<p class="empty" id="empty">{_e(_(EMPTY))}</p>'
        count = _(COUNT).format(count=len(mails))
        body = (
            f'<h1>✉️ {_e(_(MAILBOX))} <span id="count">{_e(count)}</span></h1>'
            f'<p class="intro">{_e(_(INTRO))}</p>{listing}'
        )
        last = mails[0].id if mails else 0
        return self._page(request, language, _(MAILBOX), body, "/mail", live=last)

    def _row(self, mail: CaughtMail, language: str, _: Callable[[str], str]) -> str:
        href = _e(self._link(f"/mail/{mail.id}", language))
        subject = mail.subject or _(NO_SUBJECT)
        return (
            f'<tr id="mail-{mail.id}" data-id="{mail.id}">'
            f'<td class="time"><time datetime="{_e(mail.date.isoformat())}">'
            f"{_e(self._when(mail.date))}</time></td>"
            f'<td class="to">{_e(mail.to)}</td>'
            f'<td class="subject"><a href="{href}">{_e(subject)}</a></td></tr>'
        )

    async def one(self, request: web.Request) -> web.StreamResponse:
        language = self._language(request)
        _ = self._words(language)
        mail = self._find(request)
        if mail is None:
            body = f'<p class="empty">{_e(_(NOT_FOUND))}</p>'
            return self._page(request, language, _(MAILBOX), body, "/mail", status=404)
        headers = "".join(
            f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>"
            for label, value in (
                (_(FROM), mail.sender),
                (_(TO), mail.to),
                (_(TIME), self._when(mail.date)),
            )
            if value
        )
        parts = [
            f'<h1 class="subject">{_e(mail.subject or _(NO_SUBJECT))}</h1>',
            f'<dl class="headers">{headers}</dl>',
        ]
        if mail.html:
            parts.append(
                f'<section class="part"><h2>{_e(_(HTML_PART))}</h2>'
                f'<iframe id="html-part" title="{_e(mail.subject)}" '
                f'sandbox="{FRAME_SANDBOX}" referrerpolicy="no-referrer" '
                f'src="/mail/{mail.id}/html"></iframe></section>'
            )
        if mail.text:
            parts.append(
                f'<section class="part"><h2>{_e(_(PLAIN))}</h2>'
                f'<pre id="plain">{linkify(mail.text)}</pre></section>'
            )
        if mail.attachments:
            items = "".join(
                f"<li>{_e(a['filename'] or a['content_type'])} · {a['size']} B</li>"
                for a in mail.attachments
            )
            parts.append(
                f'<section class="part"><h2>{_e(_(ATTACHMENTS))}</h2><ul>{items}</ul></section>'
            )
        parts.append(f'<p class="raw"><a href="/mail/{mail.id}.eml">{_e(_(RAW))}</a></p>')
        title = mail.subject or _(MAILBOX)
        return self._page(request, language, title, "".join(parts), f"/mail/{mail.id}", back=True)

    async def html_part(self, request: web.Request) -> web.StreamResponse:
        mail = self._find(request)
        if mail is None or not mail.html:
            raise web.HTTPNotFound()
        return web.Response(
            text=with_base_target(mail.html),
            content_type="text/html",
            headers={
                "Content-Security-Policy": HTML_PART_CSP,
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def raw(self, request: web.Request) -> web.StreamResponse:
        mail = self._find(request)
        if mail is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=mail.raw,
            content_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="mail-{mail.id}.eml"'},
        )

    def _find(self, request: web.Request) -> CaughtMail | None:
        try:
            return self.mailbox.get(int(request.match_info["id"]))
        except LookupError:
            return None

    def _page(
        self,
        request: web.Request,
        language: str,
        title: str,
        body: str,
        path: str,
        *,
        live: int | None = None,
        back: bool = False,
        status: int = 200,
    ) -> web.Response:
        _ = self._words(language)
        switch = ""
        if self.words and len(self.words.languages) > 1:
            links = "".join(
                f'<a href="{_e(self._link(path, code))}" lang="{_e(code.replace("_", "-"))}"'
                + (' aria-current="true"' if code == language else "")
                + f">{_e(name)}</a>"
                for code, name in self.words.languages
            )
            switch = f'<nav class="langs">{links}</nav>'
        home = self._link("/mail", language)
        nav = (
            f'<a class="back" href="{_e(home)}">{_e(_(BACK))}</a>'
            if back
            else f'<a class="back" href="/">← {_e(_(WEB_CHAT))}</a>'
        )
        last = f' data-last="{live}"' if live is not None else ""  # the list: live
        script = f'<script src="/static/mail.js"{last} defer></script>'
        lang = "zh-CN" if language.startswith("zh") else language.replace("_", "-")
        page = (
            f'<!doctype html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{_e(title)}</title>"
            '<link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="/static/mail.css">{script}</head>'
            f'<body><header class="bar">{nav}{switch}</header>'
            f'<main class="mailbox">{body}</main></body></html>'
        )
        return web.Response(
            text=page,
            status=status,
            content_type="text/html",
            headers={"Content-Security-Policy": PAGE_CSP, "Referrer-Policy": "no-referrer"},
        )

    # ------------------------------------------------------------ JSON

    async def api_list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            since = int(query["since"]) if "since" in query else None
            timeout = min(float(query.get("timeout", 10)), 60)
            limit = int(query["limit"]) if "limit" in query else None
        except ValueError:
            return _json({"ok": False, "error": "since, timeout and limit are numbers"}, 400)
        if since is not None:
            await self.mailbox.wait_newer(since, timeout, self.stopping)
        mails = self.mailbox.newest_first()
        if since is not None:
            mails = [m for m in mails if m.id > since]
        if limit is not None:
            mails = mails[: max(limit, 0)]
        result = {"count": len(self.mailbox.mails), "mails": [m.summary() for m in mails]}
        return _json({"ok": True, "result": result}, 200)

    async def api_one(self, request: web.Request) -> web.StreamResponse:
        mail = self._find(request)
        if mail is None:
            return _json({"ok": False, "error": f"no mail {request.match_info['id']}"}, 404)
        return _json({"ok": True, "result": mail.to_json()}, 200)

    async def api_clear(self, request: web.Request) -> web.StreamResponse:
        self.mailbox.clear()
        return _json({"ok": True, "result": True}, 200)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _json(payload: Any, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def linkify(text: str) -> str:
    """Plain text as HTML: everything escaped, each http(s) address a link to itself."""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        end = match.start() + len(url)
        out.append(_e(text[position : match.start()]))
        out.append(f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a>')
        position = end
    out.append(_e(text[position:]))
    return "".join(out)


def with_base_target(document: str) -> str:
    """The HTML part with `<base target="_top">`, so its links open in the tab, not the frame."""
    base = '<base target="_top">'
    match = _HEAD.search(document)
    if match:
        return document[: match.end()] + base + document[match.end() :]
    return base + document
