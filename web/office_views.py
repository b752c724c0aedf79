"""The office console's pages: the round's matrix, a unit's answers, versions and review, the
exports and the 通报, invites with their QR codes, broadcasts composed and followed.

Thin, as handlers/staff_*.py are: every read and every change is a call into the staff
services (status, review, export_files, notice, staff_invites, broadcasts, audit), which check
who may do it; what tells someone (a review notice, a broadcast) goes through the functions
the composition root passed in (`WebConfig.office`), which queue it in the outbox in the same
transaction; so do a broadcast's time rules and reminders, and the upload of its file through
the running bot. Every form works without JavaScript.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from storage.services import (
    audit,
    broadcasts,
    export_files,
    notice,
    review,
    staff,
    staff_invites,
    status,
)
from storage.services import submitted as submitted_service
from storage.services.broadcasts import BroadcastError
from storage.services.errors import NotFound, ServiceError
from storage.services.export_files import ExportError, What
from storage.services.notice import NoticeError
from storage.services.review import ReviewError
from storage.services.status import StatusError
from web import uploads
from web.app import CONFIG, DB, GETTEXT, MB, NOW, Upload, UploadFailed
from web.office import PREFIX, Refused, attachment, member_of, see_other

KIND_GROUPS = status.KIND_GROUPS
DEFAULT_ZONE = "Asia/Shanghai"  # a broadcast's zone unless its audience's plan has another
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"docx": DOCX, "xlsx": XLSX, "pdf": "application/pdf", "zip": "application/zip"}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/r/go", pick_round)
    r.add_get("/r/{round:\\d+}", matrix_page)
    r.add_get("/r/{round:\\d+}/u/{unit:\\d+}", unit_page)
    r.add_post("/r/{round:\\d+}/u/{unit:\\d+}/accept", accept)
    r.add_post("/r/{round:\\d+}/u/{unit:\\d+}/return", return_report)
    r.add_post("/r/{round:\\d+}/nudge", nudge)
    r.add_post("/r/{round:\\d+}/u/{unit:\\d+}/nudge", nudge)
    r.add_get("/r/{round:\\d+}/export", exports_page)
    r.add_get("/r/{round:\\d+}/export/{what}", export_file)
    r.add_get("/r/{round:\\d+}/notice", notice_file)
    r.add_get("/invites", invites_page)
    r.add_get("/invites/u/{unit:\\d+}", desk_page)
    r.add_post("/invites/u/{unit:\\d+}", create_invite)
    r.add_post("/invites/{invite:\\d+}/revoke", revoke_invite)
    r.add_get("/broadcasts", broadcasts_page)
    r.add_post("/broadcasts", create_broadcast)
    r.add_get("/broadcasts/{id:\\d+}", broadcast_page)
    r.add_post("/broadcasts/{id:\\d+}/confirm", confirm_broadcast)
    r.add_post("/broadcasts/{id:\\d+}/cancel", cancel_broadcast)
    r.add_post("/broadcasts/{id:\\d+}/time", time_broadcast)
    r.add_post("/broadcasts/{id:\\d+}/remind", remind_broadcast)
    r.add_get("/broadcasts/{id:\\d+}/report.xlsx", broadcast_report)


# ------------------------------------------------------------------ words


def state_label(_, state: str) -> str:
    return {
        status.ON_TIME: _("Submitted on time"),
        status.LATE: _("Submitted late"),
        status.PARTLY: _("Partly answered, not submitted"),
        status.NOT_STARTED: _("Not started"),
    }[state]


def group_label(_, group: str) -> str:
    return {
        status.DEPARTMENT: _("Government departments"),
        status.TOWN: _("Townships and street offices"),
        status.SECTION: _("Bureau sections"),
    }.get(group, group)


def kind_label(_, kind: str) -> str:
    return {
        "department": _("Government departments"),
        "township": _("Townships"),
        "street": _("Street offices"),
        "section": _("Bureau sections"),
    }.get(kind, kind)


def answer_label(_, answer: str) -> str:
    return {
        "not_started": _("Not started"),
        "in_progress": _("In progress"),
        "done": _("Done"),
        "not_applicable": _("Not applicable"),
    }.get(answer, answer)


def review_label(_, state: str, version: int = 0) -> str:
    return {
        review.RETURNED: _("Returned (version {version})").format(version=version),
        review.RESUBMITTED: _("Resubmitted, awaiting review"),
        review.ACCEPTED: _("Accepted"),
    }.get(state, _("Awaiting review") if version else "")


def broadcast_state(_, state: str) -> str:
    return {
        broadcasts.DRAFT: _("draft"),
        broadcasts.SCHEDULED: _("scheduled"),
        broadcasts.SENDING: _("sending"),
        broadcasts.DONE: _("sent"),
        broadcasts.CANCELLED: _("cancelled"),
    }.get(state, state)


def invite_state_label(_, state: str) -> str:
    return {
        "active": _("active"),
        "expired": _("expired"),
        "revoked": _("revoked"),
        "used_up": _("used up"),
    }.get(state, state)


def refusal_text(_, error: ServiceError) -> str:
    code = getattr(error, "code", "")
    params = dict(getattr(error, "params", {}) or getattr(error, "values", {}) or {})
    words = {
        # review
        "not_submitted": _("This unit has not submitted this round: there is nothing to review."),
        "stale": _(
            "The unit submitted a newer version meanwhile (version {current}): look at it first."
        ),
        "round_closed": _("The round is closed: nothing can be returned for correction."),
        "comment_needed": _("Write a comment to say what should be corrected."),
        "comment_too_long": _("The comment is too long ({length} characters; at most {limit})."),
        "not_assigned": _("The unit does not answer for this task."),
        # exports and the notice
        "no_office": _("PDF needs LibreOffice on the server; download the Word file instead."),
        "pdf_failed": _("The PDF could not be made."),
        "no_form": _("This unit has no form in this round."),
        "nothing_to_announce": _("Every unit reported on time: there is nothing to announce."),
        # broadcasts
        "empty_text": _("Write the text of the notice."),
        "too_long": _("The text has {count} characters; Telegram takes at most {limit}."),
        "bad_audience": _("Choose who should get it."),
        "nobody_reachable": _(
            "Nobody in this audience can be reached by the bot: nothing will be sent."
        ),
        "already_confirmed": _("This broadcast was confirmed already: it is sent once."),
        "not_draft": _("This broadcast was confirmed already: it is sent once."),
        "finished": _("This broadcast was sent already."),
        "time_past": _("That time has passed: give a later one."),
        "outside_hours": _(
            "{time} is outside office hours ({start}–{end}): give a time within them."
        ),
        "not_workday": _("{day} is not a working day: give a working day."),
        "bad_time": _("Write the time as YYYY-MM-DD HH:MM."),
        "not_asked": _("This broadcast did not ask for 收到."),
        # a broadcast's file
        "bad_attachment": _("Attach a document or a photo."),
        "file_too_big": _("The file has {size} MB; bots can send at most 50 MB."),
        "file_empty": _("The file is empty."),
        "file_type": _(
            "This kind of file is not sent: attach a PDF, OFD, Word, Excel, PowerPoint or WPS "
            "document or a photo (JPEG, PNG, WebP, HEIC). Programs, scripts, archives and "
            "documents with macros are refused."
        ),
        "no_uploads": _(
            "Attachments need the running bot: this console was started without it "
            "(taizhang web). Send the notice without the file, or from the console of "
            "taizhang run."
        ),
        "no_admin_chat": _(
            "The file is uploaded through your chat with the bot: send /start to the bot "
            "first, then try again."
        ),
        "upload_failed": _("Telegram did not take the file ({reason}). Try again later."),
    }
    if code == "too_long" and params.get("limit") == broadcasts.CAPTION_LIMIT:
        words["too_long"] = _(
            "With a file the text is its caption: it has {count} characters, Telegram takes "
            "at most {limit}. Shorten it, or send the text without the file."
        )
    if code == "file_too_big" and isinstance(params.get("size"), int):
        params["size"] = f"{params['size'] / MB:.1f}"
    text = words.get(code) or str(error)
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def local(moment: dt.datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


def render(request: web.Request, template: str, context: dict, status_code: int = 200):
    _ = request[GETTEXT]
    words = {
        "state_label": lambda s: state_label(_, s),
        "group_label": lambda g: group_label(_, g),
        "kind_label": lambda k: kind_label(_, k),
        "answer_label": lambda a: answer_label(_, a),
        "review_label": lambda s, v=0: review_label(_, s, v),
        "broadcast_state": lambda s: broadcast_state(_, s),
        "invite_state": lambda s: invite_state_label(_, s),
        "delivery": lambda s: delivery_words(_).get(s, s),
    }
    return aiohttp_jinja2.render_template(
        template, request, {**words, **context}, status=status_code
    )


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


# ------------------------------------------------------------------ the matrix


async def pick_round(request: web.Request) -> web.StreamResponse:
    """The round picker's answer (a GET form, so it works without JavaScript)."""
    member_of(request)
    return see_other(f"{PREFIX}/r/{_int(request.query.get('round'))}")


async def matrix_page(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    session = request[DB]
    round_id = int(request.match_info["round"])
    found = await status.round_status(session, member, round_id, now=request[NOW])
    rounds = await status.rounds_to_pick(session, member, limit=20)
    groups = found.groups()
    kind = request.query.get("kind", "")
    if kind not in groups:
        kind = ""
    units = [u for u in found.units if not kind or u.group == kind]
    column_totals = {}
    for task in found.tasks:
        cells = [found.cells.get((u.unit_id, task.task_id)) for u in units]
        assigned = [c for c in cells if c is not None]
        column_totals[task.task_id] = (sum(1 for c in assigned if c.answered), len(assigned))
    counts = found.counts()
    return render(
        request,
        "matrix.html",
        {
            "section": "status",
            "r": found,
            "rounds": rounds,
            "groups": groups,
            "kind": kind,
            "units": units,
            "column_totals": column_totals,
            "counts": counts,
            "states": status.STATES,
            "as_of": local(request[NOW], found.timezone),
            "is_admin": member.is_admin,
            "can_nudge": _can_nudge(request, member),
            "changed_units": [u for u in found.units if u.pending_changes],
        },
    )


# ------------------------------------------------------------------ a unit


async def _unit_context(request: web.Request) -> dict:
    member = member_of(request)
    session = request[DB]
    round_id, unit_id = int(request.match_info["round"]), int(request.match_info["unit"])
    try:
        detail = await status.unit_detail(session, member, round_id, unit_id)
    except StatusError:
        raise Refused(404, "not_found") from None
    decided = await review.unit_review(session, member, round_id, unit_id)
    shown_version = _int(request.query.get("version"))
    version_answers = None
    if shown_version:
        versions = await submitted_service.versions_of(session, round_id, unit_id)
        chosen = next((v for v in versions if v.version == shown_version), None)
        if chosen is None:
            raise Refused(404, "not_found")
        version_answers = await submitted_service.answers_of(session, chosen.id)
    trail = await audit.trail(session, round_id=round_id, unit_id=unit_id, limit=20)
    return {
        "section": "status",
        "d": detail,
        "rv": decided,
        "shown_version": shown_version,
        "version_answers": version_answers,
        "trail": trail,
        "is_admin": member.is_admin,
        "can_nudge": _can_nudge(request, member),
        "can_decide": member.is_admin and request.config_dict[CONFIG].office is not None,
        "local": lambda m: local(m, detail.timezone),
        "notice": "",
        "notice_kind": "",
        "comment": "",
        "comment_task": 0,
    }


async def unit_page(request: web.Request) -> web.StreamResponse:
    context = await _unit_context(request)
    _ = request[GETTEXT]
    done = request.query.get("done", "")
    if done == "accepted":
        context.update(notice=_("Accepted. The unit's contacts are told."), notice_kind="ok")
    elif done == "returned":
        context.update(
            notice=_("Returned with your comment. The unit's contacts are told."),
            notice_kind="ok",
        )
    elif done == "already":
        context.update(notice=_("That decision stood already: nothing new was sent."))
        context["notice_kind"] = "ok"
    return render(request, "unit.html", context)


def _can_nudge(request: web.Request, member) -> bool:
    actions = request.config_dict[CONFIG].office
    return member.is_admin and actions is not None and actions.nudge is not None


def _actions(request: web.Request):
    actions = request.config_dict[CONFIG].office
    if actions is None:
        raise Refused(503, "no_actions")
    return actions


async def accept(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    form = await request.post()
    round_id, unit_id = int(request.match_info["round"]), int(request.match_info["unit"])
    actions = _actions(request)
    config = request.config_dict[CONFIG]
    try:
        told = await actions.accept(
            request[DB],
            member,
            round_id,
            unit_id,
            version=_int(form.get("version")) or None,
            now=request[NOW],
            default_language=config.default_locale,
        )
    except ReviewError as error:
        return await _review_refused(request, error)
    done = "already" if told.decided.already else "accepted"
    return see_other(f"{PREFIX}/r/{round_id}/u/{unit_id}?done={done}")


async def return_report(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    form = await request.post()
    round_id, unit_id = int(request.match_info["round"]), int(request.match_info["unit"])
    actions = _actions(request)
    config = request.config_dict[CONFIG]
    comment = str(form.get("comment") or "")
    task_id = _int(form.get("task")) or None
    try:
        told = await actions.return_report(
            request[DB],
            member,
            round_id,
            unit_id,
            comment,
            version=_int(form.get("version")) or None,
            task_id=task_id,
            now=request[NOW],
            default_language=config.default_locale,
        )
    except ReviewError as error:
        return await _review_refused(request, error, comment=comment, task_id=task_id or 0)
    done = "already" if told.decided.already else "returned"
    return see_other(f"{PREFIX}/r/{round_id}/u/{unit_id}?done={done}#review")


async def _review_refused(
    request: web.Request, error: ReviewError, *, comment: str = "", task_id: int = 0
) -> web.StreamResponse:
    await request[DB].rollback()
    context = await _unit_context(request)
    context.update(
        notice=refusal_text(request[GETTEXT], error),
        notice_kind="error",
        comment=comment,
        comment_task=task_id,
    )
    return render(request, "unit.html", context, 409 if error.code == "stale" else 422)


# ------------------------------------------------------------------ nudges


async def nudge(request: web.Request) -> web.StreamResponse:
    """🔔 a reminder to every unit not yet submitted (or to the unit of the URL), through the
    outbox; each unit at most once a day (scheduler.nudges)."""
    member = member_of(request)
    actions = _actions(request)
    if actions.nudge is None:
        raise Refused(503, "no_actions")
    round_id = int(request.match_info["round"])
    unit_id = _int(request.match_info.get("unit")) or None
    config = request.config_dict[CONFIG]
    try:
        result = await actions.nudge(
            request[DB],
            member,
            round_id,
            now=request[NOW],
            unit_id=unit_id,
            default_language=config.default_locale,
        )
    except StatusError as error:
        _ = request[GETTEXT]
        text = _("The round is closed: there is nobody to remind.")
        return _message(request, 422, text if error.code == "round_closed" else str(error))
    _ = request[GETTEXT]
    lines = [_("Reminders queued: {count}.").format(count=result.queued)]
    if result.nudged:
        lines.append(_("Reminded now: {names}").format(names="、".join(result.nudged)))
    if result.already:
        lines.append(_("Reminded earlier today: {names}").format(names="、".join(result.already)))
    if result.unreachable:
        names = "、".join(result.unreachable)
        lines.append(_("Nobody can be reached at: {names}").format(names=names))
    if result.already_submitted:
        lines.append(_("It has submitted already."))
    back = f"{PREFIX}/r/{round_id}" + (f"/u/{unit_id}" if unit_id else "")
    context = {"title": _("Reminders"), "message": " ".join(lines), "code": "ok", "back": back}
    return render(request, "message.html", context)


# ------------------------------------------------------------------ exports and the notice


async def exports_page(request: web.Request) -> web.StreamResponse:
    from ledger.pdf import office_available

    member = member_of(request)
    session = request[DB]
    round_id = int(request.match_info["round"])
    choice = await export_files.export_round_choice(session, member, round_id)
    units = await export_files.export_units(session, member, round_id)
    return render(
        request,
        "exports.html",
        {
            "section": "exports",
            "choice": choice,
            "units": units,
            "pdf": office_available(),
            "round_id": round_id,
            "rounds": await export_files.export_rounds(session, member),
        },
    )


async def export_file(request: web.Request) -> web.StreamResponse:
    """The file, built by export_files.export_round into a folder of its own, streamed and
    removed."""
    member = member_of(request)
    round_id = int(request.match_info["round"])
    what = request.match_info["what"]
    if what not in {w.value for w in What}:
        raise Refused(404, "not_found")
    folder = Path(tempfile.mkdtemp(prefix="taizhang-console-"))
    try:
        try:
            exported = await export_files.export_round(
                request[DB],
                member,
                round_id,
                what,
                folder,
                unit_id=_int(request.query.get("unit")),
                now=request[NOW],
            )
        except ExportError as error:
            return _message(request, 422, refusal_text(request[GETTEXT], error))
        path = exported.files[0]
        kind = "docx" if exported.what is What.UNIT else exported.what.value
        response = attachment(path.read_bytes(), path.name, CONTENT_TYPES[kind])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return response


async def notice_file(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    round_id = int(request.match_info["round"])
    try:
        made = await notice.late_notice(request[DB], member, round_id, now=request[NOW])
    except NoticeError as error:
        return _message(request, 422, refusal_text(request[GETTEXT], error))
    return attachment(made.payload, made.name, DOCX)


def _message(request: web.Request, status_code: int, message: str, kind: str = "warn"):
    _ = request[GETTEXT]
    title = _("That did not work.") if kind != "ok" else _("Done")
    context = {"title": title, "message": message, "code": kind}
    return render(request, "message.html", context, status_code)


# ------------------------------------------------------------------ invites


async def invites_page(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    session = request[DB]
    kinds = await staff_invites.unit_kinds(session, member)
    kind = request.query.get("kind") or (kinds[0][0] if kinds else "")
    units = await staff_invites.units_of_kind(session, member, kind) if kind else []
    return render(
        request,
        "invites.html",
        {"section": "invites", "kinds": kinds, "kind": kind, "units": units},
    )


async def _desk_context(request: web.Request, unit_id: int) -> dict:
    member = member_of(request)
    desk = await staff_invites.unit_desk(request[DB], member, unit_id, now=request[NOW])
    config = request.config_dict[CONFIG]
    return {
        "section": "invites",
        "desk": desk,
        "is_admin": member.is_admin,
        "telegram": bool(config.bot_username),
        "web_links": bool(config.base_url),
        "local": lambda m: local(m, desk.timezone),
        "created": None,
    }


async def desk_page(request: web.Request) -> web.StreamResponse:
    context = await _desk_context(request, int(request.match_info["unit"]))
    _ = request[GETTEXT]
    if request.query.get("done") == "revoked":
        context["notice"] = _("Revoked: the link binds no one any more.")
    return render(request, "desk.html", context)


async def create_invite(request: web.Request) -> web.StreamResponse:
    """A new link, shown once with its QR code (a data: image made in memory, never a file)."""
    from ledger.qr import qr_png
    from storage.services.invites import deep_link
    from storage.services.web_access import web_link

    member = member_of(request)
    form = await request.post()
    unit_id = int(request.match_info["unit"])
    config = request.config_dict[CONFIG]
    web_channel = form.get("channel") != "telegram"
    if (web_channel and not config.base_url) or (not web_channel and not config.bot_username):
        raise Refused(422, "no_channel")
    created = await staff_invites.create_unit_invite(
        request[DB], member, unit_id, now=request[NOW], web=web_channel
    )
    if web_channel:
        link = web_link(config.base_url, created.token)
    else:
        link = deep_link(config.bot_username, created.token)
    image = base64.b64encode(qr_png(link)).decode()
    context = await _desk_context(request, unit_id)
    context["created"] = {
        "link": link,
        "qr": f"data:image/png;base64,{image}",
        "web": web_channel,
        "id": created.invite.id,
        "expires": local(created.invite.expires_at, context["desk"].timezone),
        "uses": created.invite.max_uses,
        "file": f"{'web-link' if web_channel else 'invite'}-{created.invite.id}.png",
    }
    return render(request, "desk.html", context)


async def revoke_invite(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    form = await request.post()
    if form.get("sure") != "yes":
        raise Refused(422, "confirm")
    revoked = await staff_invites.revoke_unit_invite(
        request[DB], member, int(request.match_info["invite"]), now=request[NOW]
    )
    return see_other(f"{PREFIX}/invites/u/{revoked.unit_id}?done=revoked")


# ------------------------------------------------------------------ broadcasts

PHOTO_MIMES = ("image/jpeg", "image/png")  # sent as photos; anything else as a document
PHOTO_LIMIT = 10 * MB  # Telegram's sendPhoto takes photos up to 10 MB


def _office_actions(request: web.Request):
    return request.config_dict[CONFIG].office


def _can_schedule(request: web.Request) -> bool:
    actions = _office_actions(request)
    return actions is not None and None not in (actions.broadcast_time, actions.schedule_broadcast)


def _can_upload(request: web.Request) -> bool:
    actions = _office_actions(request)
    return actions is not None and actions.upload_attachment is not None


def _can_remind(request: web.Request, member) -> bool:
    actions = _office_actions(request)
    return member.is_admin and actions is not None and actions.remind_unacknowledged is not None


def file_size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


async def _compose_context(request: web.Request) -> dict:
    member = member_of(request)
    session = request[DB]
    recent = await broadcasts.list_broadcasts(session, member, limit=20)
    choices = await broadcasts.audience_choices(session, member)
    units = await broadcasts.units_to_pick(session, member)
    return {
        "section": "broadcasts",
        "recent": recent,
        "choices": choices,
        "pick_units": units,
        "is_admin": member.is_admin,
        "can_send": member.is_admin and _office_actions(request) is not None,
        "can_schedule": _can_schedule(request),
        "can_upload": _can_upload(request),
        "accept": uploads.ACCEPTED,
        "earliest": local(request[NOW], DEFAULT_ZONE, "%Y-%m-%dT%H:%M"),
        "local": lambda m, tz=DEFAULT_ZONE: local(m, tz),
        "notice": "",
        "form": {"audience": "all", "text": "", "ack": False, "units": [], "send_at": ""},
    }


async def broadcasts_page(request: web.Request) -> web.StreamResponse:
    return render(request, "broadcasts.html", await _compose_context(request))


def _attachment_of(request: web.Request, field: web.FileField) -> Upload:
    """The chosen file, refused (BroadcastError) when it is empty, over 50 MB, or not a photo
    or an office document by its own first bytes (a program, a script, an archive…)."""
    field.file.seek(0, io.SEEK_END)
    size = field.file.tell()
    field.file.seek(0)
    if size > broadcasts.FILE_LIMIT:
        raise BroadcastError("file_too_big", size=size)
    data = field.file.read()
    if not data:
        raise BroadcastError("file_empty")
    found = uploads.sniff(data, field.filename or "")
    if found is None:
        raise BroadcastError("file_type")
    kind = "photo" if found.mime in PHOTO_MIMES and size <= PHOTO_LIMIT else "document"
    fallback = f"{found.kind}-{request[NOW]:%Y%m%d-%H%M%S}"
    return Upload(uploads.safe_name(field.filename or "", found, fallback), data, kind, found.mime)


async def _upload(request: web.Request, member, upload: Upload) -> dict:
    """The file given to Telegram once (into an admin's chat) by the bot's upload action; the
    draft's attachment fields."""
    actions = _office_actions(request)
    if actions is None or actions.upload_attachment is None:
        raise BroadcastError("no_uploads")
    try:
        uploaded = await actions.upload_attachment(request[DB], member, upload)
    except UploadFailed as failed:
        code = "no_admin_chat" if failed.no_chat else "upload_failed"
        raise BroadcastError(code, reason=failed.reason) from None
    return {
        "attachment_kind": uploaded.kind,
        "attachment_file_id": uploaded.file_id,
        "attachment_name": upload.name,
        "attachment_size": len(upload.data),
    }


async def create_broadcast(request: web.Request) -> web.StreamResponse:
    """The compose form: a draft, maybe with a time and a file. Everything that can be refused
    is checked before the file is uploaded (who, the text's limit, the audience, the time,
    the file's size and type), so a refusal never leaves a file in Telegram for nothing."""
    member = member_of(request)
    session = request[DB]
    now = request[NOW]
    form = await request.post()
    audience = str(form.get("audience") or "")
    picked = [str(v) for v in form.getall("units", []) if str(v).isdigit()]
    if audience == "units":
        audience = "units:" + ",".join(picked)
    text = str(form.get("text") or "").replace("\r\n", "\n")
    send_at = str(form.get("send_at") or "").strip()
    field = form.get("file")
    chosen = field if isinstance(field, web.FileField) else None  # none chosen: a plain field
    actions = _office_actions(request)
    try:
        await staff.authorize(session, member, admin=True)
        broadcasts.check_text(text, attachment=chosen is not None)
        spec = (await broadcasts.audience_of(session, audience)).spec
        at = None
        if send_at:
            if not _can_schedule(request):
                raise Refused(503, "no_actions")
            at = await actions.broadcast_time(session, spec, send_at, now=now)
        attachment = {}
        if chosen is not None:
            if not _can_upload(request):
                raise BroadcastError("no_uploads")
            attachment = await _upload(request, member, _attachment_of(request, chosen))
        row = await broadcasts.create_draft(
            session,
            member,
            audience=spec,
            text=text,
            ask_ack=form.get("ack") == "1",
            now=now,
            **attachment,
        )
        if at is not None:
            await actions.schedule_broadcast(session, member, row.id, at, now=now)
    except BroadcastError as error:
        await session.rollback()
        context = await _compose_context(request)
        _ = request[GETTEXT]
        context["notice"] = refusal_text(_, error)
        if chosen is not None:
            context["notice"] += " " + _("Choose the file again: a refused form keeps no file.")
        context["form"] = {
            "audience": str(form.get("audience") or ""),
            "text": text,
            "ack": form.get("ack") == "1",
            "units": [int(v) for v in picked],
            "send_at": send_at.replace(" ", "T"),
        }
        return render(request, "broadcasts.html", context, 422)
    return see_other(f"{PREFIX}/broadcasts/{row.id}")


def _soon(row, now: dt.datetime) -> bool:
    """A scheduled broadcast's page refreshes itself only in the minutes before it goes."""
    return row.status == broadcasts.SCHEDULED and (
        row.scheduled_at is None or row.scheduled_at - now < dt.timedelta(minutes=5)
    )


async def _broadcast_context(request: web.Request) -> dict:
    member = member_of(request)
    session = request[DB]
    broadcast_id = int(request.match_info["id"])
    found = await broadcasts.summary(session, member, broadcast_id, now=request[NOW])
    row = found.broadcast
    context = {
        "section": "broadcasts",
        "b": row,
        "s": found,
        "is_admin": member.is_admin,
        "can_send": member.is_admin and _office_actions(request) is not None,
        "can_schedule": member.is_admin and _can_schedule(request),
        "can_remind": _can_remind(request, member),
        "local": lambda m, fmt="%Y-%m-%d %H:%M": local(m, row.timezone, fmt),
        "size": file_size,
        "earliest": local(request[NOW], row.timezone, "%Y-%m-%dT%H:%M"),
        "reach": None,
        "acks": [],
        "lines": [],
        "waiting": max(0, found.progress.sent - found.progress.acknowledged),
        "notice": "",
        "notice_kind": "ok",
        "refresh": row.status == broadcasts.SENDING or _soon(row, request[NOW]),
    }
    if row.status == broadcasts.DRAFT:
        if member.is_admin:
            context["reach"] = await broadcasts.preview(session, member, broadcast_id)
    else:
        if row.ask_ack:
            context["acks"] = await broadcasts.acks_by_unit(session, member, broadcast_id)
        _row, context["lines"] = await broadcasts.delivery_report(session, member, broadcast_id)
    return context


async def _broadcast_refused(request: web.Request, error: BroadcastError) -> web.Response:
    """The broadcast's page again, saying why (the refusal's values kept, which a redirect
    would lose)."""
    await request[DB].rollback()
    context = await _broadcast_context(request)
    context.update(notice=refusal_text(request[GETTEXT], error), notice_kind="error")
    return render(request, "broadcast.html", context, 422)


async def _broadcast_refused_again(request: web.Request, error: BroadcastError):
    """A confirm or cancel refused: back to the page with the reason in its address, so that
    a reload does not post again (a refusal with values, e.g. office hours, is shown here)."""
    if error.values:
        return await _broadcast_refused(request, error)
    await request[DB].rollback()
    return see_other(f"{PREFIX}/broadcasts/{request.match_info['id']}?error={error.code}")


async def broadcast_page(request: web.Request) -> web.StreamResponse:
    context = await _broadcast_context(request)
    done = request.query.get("done", "")
    _ = request[GETTEXT]
    if done == "confirmed":
        row = context["b"]
        if row.scheduled_at is not None:
            context["notice"] = _("Confirmed: the messages are queued and wait for their time.")
        else:
            context["notice"] = _("Confirmed: the messages are queued and go out now.")
    elif done == "cancelled":
        context["notice"] = _("Cancelled: messages not yet sent were withdrawn.")
    elif done == "timed":
        context["notice"] = _("The time is set: confirm to queue it.")
    elif done == "untimed":
        context["notice"] = _("No time set: it goes as soon as you confirm.")
    elif done == "reminded":
        count = _int(request.query.get("count"))
        if count:
            context["notice"] = _("Reminder queued for {count} people.").format(count=count)
        else:
            context["notice"] = _("Nobody left to remind.")
    elif done == "reminded_before":
        context["notice"] = _(
            "This reminder had gone already (the same button pressed again): nobody was "
            "reminded twice. Press the button below to remind them once more."
        )
        context["notice_kind"] = "warn"
    error = request.query.get("error", "")
    if error:
        context.update(notice=refusal_text(_, BroadcastError(error)), notice_kind="error")
    return render(request, "broadcast.html", context)


async def confirm_broadcast(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    broadcast_id = int(request.match_info["id"])
    actions = _actions(request)
    config = request.config_dict[CONFIG]
    try:
        await actions.confirm_broadcast(
            request[DB],
            member,
            broadcast_id,
            now=request[NOW],
            default_language=config.default_locale,
        )
    except BroadcastError as error:
        return await _broadcast_refused_again(request, error)
    return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done=confirmed")


async def time_broadcast(request: web.Request) -> web.StreamResponse:
    """A draft's time: set (checked as the bot and the command line check it), or dropped."""
    member = member_of(request)
    form = await request.post()
    broadcast_id = int(request.match_info["id"])
    actions = _actions(request)
    if not _can_schedule(request):
        raise Refused(503, "no_actions")
    session, now = request[DB], request[NOW]
    send_at = "" if form.get("clear") else str(form.get("send_at") or "").strip()
    try:
        row = await broadcasts.draft(session, member, broadcast_id)
        at = None
        if send_at:
            at = await actions.broadcast_time(session, row.audience, send_at, now=now)
        await actions.schedule_broadcast(session, member, broadcast_id, at, now=now)
    except BroadcastError as error:
        return await _broadcast_refused(request, error)
    return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done={'timed' if at else 'untimed'}")


async def remind_broadcast(request: web.Request) -> web.StreamResponse:
    """Remind those who got it and have not pressed 收到 (scheduler.broadcasts.
    remind_unacknowledged). Each press the service takes is a new reminder to whoever has
    not pressed it yet; the form carries how many reminders there were when it was shown, so
    the same form posted twice (a double click, a reload) reminds nobody the second time."""
    member = member_of(request)
    form = await request.post()
    broadcast_id = int(request.match_info["id"])
    actions = _actions(request)
    if actions.remind_unacknowledged is None:
        raise Refused(503, "no_actions")
    session = request[DB]
    await staff.authorize(session, member, admin=True)
    found = await broadcasts.summary(session, member, broadcast_id)
    if _int(form.get("seen"), -1) != found.broadcast.reminders:
        return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done=reminded_before")
    config = request.config_dict[CONFIG]
    try:
        count = await actions.remind_unacknowledged(
            session,
            member,
            broadcast_id,
            now=request[NOW],
            default_language=config.default_locale,
        )
    except BroadcastError as error:
        return await _broadcast_refused(request, error)
    return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done=reminded&count={count}#acks")


async def cancel_broadcast(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    broadcast_id = int(request.match_info["id"])
    try:
        await broadcasts.cancel(request[DB], member, broadcast_id, now=request[NOW])
    except BroadcastError as error:
        return await _broadcast_refused_again(request, error)
    return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done=cancelled")


async def broadcast_report(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    _ = request[GETTEXT]
    row, lines = await broadcasts.delivery_report(
        request[DB], member, int(request.match_info["id"])
    )
    columns = ("unit", "contact", "phone", "status", "reason", "error", "sent_at", "acked_at")
    headings = {
        "unit": _("Unit"),
        "contact": _("Contact"),
        "phone": _("Phone"),
        "status": _("Status"),
        "reason": _("Reason"),
        "error": _("Error"),
        "sent_at": _("Sent at"),
        "acked_at": _("收到 at"),
    }
    words = delivery_words(_)
    payload = broadcasts.report_xlsx(row, lines, columns, headings, words)
    return attachment(payload, f"broadcast-{row.id}.xlsx", XLSX)


def delivery_words(_) -> dict[str, str]:
    return {
        "sent": _("sent"),
        "failed": _("failed"),
        "pending": _("pending"),
        "withdrawn": _("withdrawn"),
        "unreachable": _("cannot be reached"),
        "blocked": _("blocked the bot"),
        "deactivated": _("account deleted"),
        "chat_not_found": _("chat not found"),
        "other": _("other"),
    }


__all__ = ["NotFound", "add_routes"]
