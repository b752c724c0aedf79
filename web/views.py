"""The contact's report form: link exchange, the round's tasks, a task's card, saving,
evidence, preview, submitting and the receipt.

Thin, as handlers/report.py is: every rule is a call into storage.services (reporting,
form_answers, review, exports, web_access). The unit always comes from the session, never
from the request, and every round and task id in a URL is checked to be the unit's own.
Every form works without JavaScript (it posts and is redirected back); web/static/app.js only
saves as the person types.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import select

from ledger.model import Status
from locales import LANGUAGES
from storage.models import Attachment, ProgressEntry, Round, Submission, SubmissionVersion
from storage.services import form_answers, reporting, review, submitted, web_access
from storage.services.reporting import Actor, ReportError
from web import security, uploads
from web.app import (
    CONFIG,
    CSRF_CHECKED,
    DB,
    GETTEXT,
    IDENTITY,
    LINK_LIMITER,
    MB,
    NOW,
    OVERVIEW,
    Refusal,
    client_address,
    page_error,
    wants_json,
)

STATUSES = [s.value for s in Status]


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home, name="home")
    r.add_get("/l/{token}", open_link, name="link")
    r.add_post("/language", set_language)
    r.add_post("/signout", sign_out)
    r.add_get("/r/{round:\\d+}", overview_page, name="overview")
    r.add_get("/r/{round:\\d+}/t/{task:\\d+}", card_page, name="card")
    r.add_post("/r/{round:\\d+}/t/{task:\\d+}", save)
    r.add_post("/r/{round:\\d+}/t/{task:\\d+}/previous", use_previous)
    r.add_post("/r/{round:\\d+}/t/{task:\\d+}/files", upload)
    r.add_get("/r/{round:\\d+}/preview", preview)
    r.add_get("/r/{round:\\d+}/submit", confirm_page)
    r.add_post("/r/{round:\\d+}/submit", submit)
    r.add_get("/r/{round:\\d+}/receipt", receipt_page)


# ------------------------------------------------------------------ words


def error_text(_, code: str, **params) -> str:
    messages = {
        "signed_out": _(
            "You are not signed in, or your session has ended. Open the personal link the "
            "office sent you again."
        ),
        "csrf": _("This form has expired. Reload the page and try again."),
        "forbidden": _("This request came from another site and was refused."),
        "not_found": _("There is no such page for your unit."),
        "unknown": _(
            "This link is not valid. Check that it was copied whole, or ask the office "
            "for a new one."
        ),
        "expired": _("This link has expired. Ask the office for a new one."),
        "revoked": _("This link was withdrawn by the office. Ask them for a new one."),
        "used_up": _(
            "This link has been used as often as it may be. Ask the office for a new one."
        ),
        "throttled": _(
            "Too many attempts from your network. Wait {minutes} minutes and try again."
        ),
        "file_too_big": _("The file is larger than {limit_mb} MB and was not kept."),
        "file_type": _(
            "Only photos (JPEG, PNG, WebP, HEIC), PDF and OFD, and Word, Excel, PowerPoint or "
            "WPS files are kept as evidence; archives and documents with macros are not."
        ),
        "no_file": _("Choose a file first."),
        "round_missing": _("This round no longer exists."),
        "round_closed": _("The round “{name}” is closed: answers can no longer be changed."),
        "not_your_task": _("This task is not one your unit answers for."),
        "reason_needed": _("Please say in a few words why the task does not apply."),
        "reason_too_long": _("The reason is too long ({length} characters; at most {limit})."),
        "empty_text": _("There is no text to add."),
        "answer_too_long": _(
            "Not saved: the answer would be {length} characters, more than the form can hold "
            "({limit}). It has {have} now; shorten what you send, or clear and rewrite it."
        ),
        "no_previous_answer": _("There is no answer from an earlier round for this task."),
        "nothing_to_report": _("Your unit has no tasks in this round."),
        "stale": _(
            "Someone else of your unit changed this answer meanwhile (in the bot or another "
            "browser). Here it is now; your own text is kept below, not saved."
        ),
        "stale_own": _(
            "This answer was changed from another window meanwhile. Here it is now; your own "
            "text is kept below, not saved."
        ),
    }
    text = messages.get(code, _("That did not work."))
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def status_label(_, status: str) -> str:
    return {
        "not_started": _("Not started"),
        "in_progress": _("In progress"),
        "done": _("Done"),
        "not_applicable": _("Not applicable"),
    }[status]


def local_time(moment: dt.datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# ------------------------------------------------------------------ who and what


def identity_of(request: web.Request):
    identity = request.get(IDENTITY)
    if identity is None:
        raise _error(request, 401, "signed_out")
    return identity


def _error(request: web.Request, status: int, code: str, **params) -> Refusal:
    return Refusal(status, code, **params)


def actor_of(request: web.Request) -> Actor:
    identity = identity_of(request)
    return Actor(
        unit_id=identity.unit_id,
        label=identity.label,
        contact_id=identity.contact_id,
        source="web",
        at=request[NOW],
    )


async def round_of(request: web.Request) -> Round:
    """The round in the URL, if the signed-in unit answers for a task of its plan."""
    identity = identity_of(request)
    session = request[DB]
    round_ = await session.get(Round, int(request.match_info["round"]))
    if round_ is None:
        raise _error(request, 404, "not_found")
    summary = await reporting.overview(session, round_.id, identity.unit_id)
    if summary.total == 0:
        raise _error(request, 404, "not_found")
    request[OVERVIEW] = summary
    return round_


async def form_of(request: web.Request):
    """The posted form, once its CSRF token is checked (the autosave sends it as a header)."""
    form = await request.post()
    if not request.get(CSRF_CHECKED):
        identity = identity_of(request)
        config = request.app[CONFIG]
        if not security.csrf_ok(config.secret, identity.token_hash, form.get(security.CSRF_FIELD)):
            raise _error(request, 403, "csrf")
    return form


def task_url(round_id: int, task_id: int, **query: str) -> str:
    tail = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    return f"/r/{round_id}/t/{task_id}" + (f"?{tail}" if tail else "")


# ------------------------------------------------------------------ signing in and out


async def open_link(request: web.Request) -> web.StreamResponse:
    """Exchange the link's token for a session cookie at once, and redirect to a URL without
    it. The same browser opening its link again uses no further use of it."""
    config = request.app[CONFIG]
    limiter = request.app[LINK_LIMITER]
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait:
        response = page_error(request, 429, "throttled", minutes=max(1, round(wait / 60)))
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    limiter.hit(address)
    token = request.match_info["token"]
    session = request[DB]
    current = request.get(IDENTITY)
    if current is not None and await web_access.link_contact(session, token) == current.contact_id:
        return see_other("/")
    try:
        sign_in = await web_access.exchange_link(
            session,
            token,
            now=request[NOW],
            idle=config.session_idle,
            lifetime=config.session_lifetime,
        )
    except web_access.WebAccessError as error:
        return page_error(request, 404 if error.reason == "unknown" else 410, error.reason)
    if current is not None:
        await web_access.end_session(session, current.session_id, now=request[NOW])
    response = see_other("/")
    response.set_cookie(
        security.SESSION_COOKIE,
        security.sign_session(config.secret, sign_in.token),
        max_age=int(config.session_lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies,
        path="/",
    )
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    identity = identity_of(request)
    await form_of(request)
    await web_access.end_session(request[DB], identity.session_id, now=request[NOW])
    response = see_other("/")
    response.del_cookie(security.SESSION_COOKIE, path="/")
    return response


async def set_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    identity = request.get(IDENTITY)
    config = request.app[CONFIG]
    token = form.get(security.CSRF_FIELD)
    if identity is not None and not security.csrf_ok(config.secret, identity.token_hash, token):
        raise _error(request, 403, "csrf")
    language = form.get("language")
    if language not in LANGUAGES:
        language = config.default_locale
    if identity is not None:
        await web_access.set_language(request[DB], identity.contact_id, language)
    back = str(form.get("next") or "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = see_other(back)
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


# ------------------------------------------------------------------ pages


async def home(request: web.Request) -> web.StreamResponse:
    identity = request.get(IDENTITY)
    _ = request[GETTEXT]
    if identity is None:
        return aiohttp_jinja2.render_template(
            "message.html",
            request,
            {"title": _("Task ledger report"), "message": error_text(_, "signed_out"), "code": ""},
            status=401,
        )
    rounds = await reporting.open_rounds(request[DB], identity.unit_id)
    if len(rounds) == 1:
        return see_other(f"/r/{rounds[0].id}")
    return aiohttp_jinja2.render_template("home.html", request, {"rounds": rounds})


async def _returns(request: web.Request, round_id: int):
    identity = identity_of(request)
    return await review.returned_state(request[DB], round_id, identity.unit_id)


async def overview_page(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    summary = request[OVERVIEW]
    returns = await _returns(request, round_.id)
    return aiohttp_jinja2.render_template(
        "overview.html",
        request,
        {
            "round": round_,
            "o": summary,
            "returns": returns,
            "status_label": lambda s: status_label(request[GETTEXT], s),
            "local_time": lambda m: local_time(m, summary.timezone),
            "is_open": round_.status == "open",
        },
    )


async def _card_context(request: web.Request, round_: Round, task_id: int) -> dict:
    identity = identity_of(request)
    session = request[DB]
    try:
        card = await reporting.card(session, round_.id, identity.unit_id, task_id)
    except ReportError:
        raise _error(request, 404, "not_found") from None
    previous = await reporting.previous_answer(session, round_, identity.unit_id, task_id)
    returns = await _returns(request, round_.id)
    files = await _files(request, round_.id, task_id)
    summary = request[OVERVIEW]
    line = next((x for x in summary.lines if x.task_id == card.task_id), None)
    return {
        "round": round_,
        "o": summary,
        "card": card,
        "title": card.name or (line.title if line else ""),
        "previous": previous,
        "task_returns": returns.task_returns(task_id),
        "whole_returns": returns.whole_returns,
        "files": files,
        "statuses": STATUSES,
        "status_label": lambda s: status_label(request[GETTEXT], s),
        "local_time": lambda m: local_time(m, summary.timezone),
        "is_open": round_.status == "open",
        "accept": uploads.ACCEPTED,
        "max_mb": request.app[CONFIG].max_upload_bytes // MB,
        "notice": "",
        "notice_kind": "",
        "mine": None,  # the person's own text, not saved, after a stale save
    }


async def _files(request: web.Request, round_id: int, task_id: int) -> list[Attachment]:
    identity = identity_of(request)
    rows = await request[DB].exec(
        select(Attachment.file_name, Attachment.size, Attachment.kind)
        .join(ProgressEntry, ProgressEntry.id == Attachment.entry_id)
        .where(
            ProgressEntry.round_id == round_id,
            ProgressEntry.unit_id == identity.unit_id,
            ProgressEntry.task_id == task_id,
        )
        .order_by(Attachment.id)
    )
    return list(rows.all())


async def card_page(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    context = await _card_context(request, round_, int(request.match_info["task"]))
    _ = request[GETTEXT]
    flash = request.query.get("done", "")
    if flash == "saved":
        context.update(notice=_("Saved."), notice_kind="ok")
    elif flash == "previous":
        context.update(notice=_("Last round's answer is filled in."), notice_kind="ok")
    elif flash == "file":
        context.update(notice=_("Kept as evidence."), notice_kind="ok")
    elif flash in ("reason_needed",):
        context.update(notice=error_text(_, flash), notice_kind="warn")
    return aiohttp_jinja2.render_template("card.html", request, context)


def _saved_json(_, saved: form_answers.Saved, timezone: str, now: dt.datetime) -> dict:
    code = ""
    if saved.stale:
        code = "stale" if saved.by_someone_else else "stale_own"
    elif saved.problem:
        code = saved.problem
    return {
        "ok": not saved.stale,
        "version": saved.version,
        "status": saved.status,
        "text": saved.text,
        "reason": saved.reason,
        "changed": saved.changed,
        "stale": saved.stale,
        "code": code,
        "message": error_text(_, code) if code else _("Saved."),
        "saved_at": local_time(now, timezone)[-5:],
    }


async def save(request: web.Request) -> web.StreamResponse:
    """Save the card's form (the autosave posts here too, asking for JSON)."""
    round_ = await round_of(request)
    task_id = int(request.match_info["task"])
    form = await form_of(request)
    _ = request[GETTEXT]
    try:
        seen = int(form.get("version", ""))
    except ValueError:
        seen = -1
    status = form.get("status")
    if status is not None and status not in STATUSES:
        status = None
    text = form.get("text")
    reason = form.get("reason")
    try:
        saved = await form_answers.save_answer(
            request[DB],
            actor_of(request),
            round_.id,
            task_id,
            seen_version=seen,
            status=status,
            text=text if isinstance(text, str) else None,
            reason=reason if isinstance(reason, str) else None,
        )
    except ReportError as error:
        if error.code == "not_your_task":
            raise _error(request, 404, "not_found") from None
        if wants_json(request):
            message = error_text(_, error.code, **error.params)
            return web.json_response(
                {"ok": False, "code": error.code, "message": message}, status=422
            )
        context = await _card_context(request, round_, task_id)
        context.update(
            notice=error_text(_, error.code, **error.params), notice_kind="error", mine=text
        )
        return aiohttp_jinja2.render_template("card.html", request, context, status=422)
    summary = request[OVERVIEW]
    if wants_json(request):
        body = _saved_json(_, saved, summary.timezone, request[NOW])
        return web.json_response(body, status=409 if saved.stale else 200)
    if saved.stale:
        context = await _card_context(request, round_, task_id)
        code = "stale" if saved.by_someone_else else "stale_own"
        context.update(notice=error_text(_, code), notice_kind="warn", mine=text)
        return aiohttp_jinja2.render_template("card.html", request, context, status=409)
    if saved.problem:
        return see_other(task_url(round_.id, task_id, done=saved.problem))
    card = await reporting.card(request[DB], round_.id, identity_of(request).unit_id, task_id)
    if form.get("go") == "next" and card.next_task_id:
        return see_other(task_url(round_.id, card.next_task_id))
    if form.get("go") == "list":
        return see_other(f"/r/{round_.id}")
    return see_other(task_url(round_.id, task_id, done="saved") + "#answer")


async def use_previous(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    task_id = int(request.match_info["task"])
    form = await form_of(request)
    session = request[DB]
    actor = actor_of(request)
    _ = request[GETTEXT]
    try:
        seen = int(form.get("version", ""))
    except ValueError:
        seen = -1
    try:
        stale = await reporting.stale_view(session, actor, round_.id, task_id, seen)
        if stale is None:
            await reporting.use_previous_answer(session, actor, round_.id, task_id)
    except ReportError as error:
        if error.code == "not_your_task":
            raise _error(request, 404, "not_found") from None
        raise _error(request, 422, error.code, **error.params) from None
    if stale is not None:
        context = await _card_context(request, round_, task_id)
        code = "stale" if stale.by_someone_else else "stale_own"
        context.update(notice=error_text(_, code), notice_kind="warn")
        return aiohttp_jinja2.render_template("card.html", request, context, status=409)
    return see_other(task_url(round_.id, task_id, done="previous") + "#answer")


async def upload(request: web.Request) -> web.StreamResponse:
    """Evidence: size and type checked (the type from the content), kept with the answer."""
    round_ = await round_of(request)
    task_id = int(request.match_info["task"])
    config = request.app[CONFIG]
    limit_mb = config.max_upload_bytes // MB
    try:
        form = await form_of(request)
    except web.HTTPRequestEntityTooLarge:
        raise _error(request, 413, "file_too_big", limit_mb=limit_mb) from None
    field = form.get("file")
    if not isinstance(field, web.FileField):
        raise _error(request, 422, "no_file")
    data = field.file.read(config.max_upload_bytes + 1)
    if len(data) > config.max_upload_bytes:
        raise _error(request, 413, "file_too_big", limit_mb=limit_mb)
    if not data:
        raise _error(request, 422, "no_file")
    file_type = uploads.sniff(data, field.filename or "")
    if file_type is None:
        raise _error(request, 415, "file_type")
    actor = actor_of(request)
    name = uploads.safe_name(
        field.filename or "", file_type, f"{file_type.kind}-{request[NOW]:%Y%m%d-%H%M%S}"
    )
    try:
        await reporting.add_evidence(
            request[DB],
            actor,
            round_.id,
            task_id,
            kind=file_type.kind,
            file_name=name,
            data=data,
            mime_type=file_type.mime,
        )
    except ReportError as error:
        if error.code == "not_your_task":
            raise _error(request, 404, "not_found") from None
        raise _error(request, 422, error.code, **error.params) from None
    return see_other(task_url(round_.id, task_id, done="file") + "#files")


async def preview(request: web.Request) -> web.StreamResponse:
    from storage.services.errors import NotFound
    from storage.services.exports import preview_form

    round_ = await round_of(request)
    identity = identity_of(request)
    try:
        form = await preview_form(request[DB], round_.id, identity.unit_id)
    except NotFound:
        raise _error(request, 404, "not_found") from None
    disposition = f"attachment; filename*=UTF-8''{quote(form.file_name)}"
    return web.Response(
        body=form.data,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": disposition},
    )


async def confirm_page(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    summary = request[OVERVIEW]
    return aiohttp_jinja2.render_template(
        "confirm.html",
        request,
        {"round": round_, "o": summary, "returns": await _returns(request, round_.id)},
    )


async def submit(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    await form_of(request)
    identity = identity_of(request)
    config = request.app[CONFIG]
    try:
        await config.submit(
            request[DB], actor_of(request), round_.id, identity.membership, request[NOW]
        )
    except ReportError as error:
        raise _error(request, 422, error.code, **error.params) from None
    return see_other(f"/r/{round_.id}/receipt")


async def receipt_page(request: web.Request) -> web.StreamResponse:
    round_ = await round_of(request)
    identity = identity_of(request)
    session = request[DB]
    summary = request[OVERVIEW]
    submission = (
        await session.exec(
            select(Submission).where(
                Submission.round_id == round_.id, Submission.unit_id == identity.unit_id
            )
        )
    ).first()
    if submission is None:
        return see_other(f"/r/{round_.id}")
    latest: SubmissionVersion | None = await submitted.latest_version(
        session, round_.id, identity.unit_id
    )
    return aiohttp_jinja2.render_template(
        "receipt.html",
        request,
        {
            "round": round_,
            "o": summary,
            "submission": submission,
            "latest": latest,
            "first_at": local_time(submission.submitted_at, summary.timezone),
            "latest_at": local_time(latest.at if latest else None, summary.timezone),
        },
    )
