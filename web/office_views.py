"""The office console's pages: the round's matrix, a unit's answers, versions and review, the
exports and the 通报, invites with their QR codes, broadcasts composed and followed.

Thin, as handlers/staff_*.py are: every read and every change is a call into the staff
services (status, review, export_files, notice, staff_invites, broadcasts, audit), which check
who may do it; what tells someone (a review notice, a broadcast) goes through the functions
the composition root passed in (`WebConfig.office`), which queue it in the outbox in the same
transaction. Every form works without JavaScript.
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from storage.services import audit, broadcasts, export_files, notice, review, staff_invites, status
from storage.services import submitted as submitted_service
from storage.services.broadcasts import BroadcastError
from storage.services.errors import NotFound, ServiceError
from storage.services.export_files import ExportError, What
from storage.services.notice import NoticeError
from storage.services.review import ReviewError
from storage.services.status import StatusError
from web.app import CONFIG, DB, GETTEXT, NOW
from web.office import PREFIX, Refused, attachment, member_of, see_other

KIND_GROUPS = status.KIND_GROUPS
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
        "time_past": _("That time has passed."),
    }
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
        "can_send": member.is_admin and request.config_dict[CONFIG].office is not None,
        "local": lambda m, tz="Asia/Shanghai": local(m, tz),
        "notice": "",
        "form": {"audience": "all", "text": "", "ack": False, "units": []},
    }


async def broadcasts_page(request: web.Request) -> web.StreamResponse:
    return render(request, "broadcasts.html", await _compose_context(request))


async def create_broadcast(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    form = await request.post()
    audience = str(form.get("audience") or "")
    picked = [str(v) for v in form.getall("units", []) if str(v).isdigit()]
    if audience == "units":
        audience = "units:" + ",".join(picked)
    text = str(form.get("text") or "").replace("\r\n", "\n")
    try:
        row = await broadcasts.create_draft(
            request[DB],
            member,
            audience=audience,
            text=text,
            ask_ack=form.get("ack") == "1",
            now=request[NOW],
        )
    except BroadcastError as error:
        await request[DB].rollback()
        context = await _compose_context(request)
        context["notice"] = refusal_text(request[GETTEXT], error)
        context["form"] = {
            "audience": str(form.get("audience") or ""),
            "text": text,
            "ack": form.get("ack") == "1",
            "units": [int(v) for v in picked],
        }
        return render(request, "broadcasts.html", context, 422)
    return see_other(f"{PREFIX}/broadcasts/{row.id}")


async def broadcast_page(request: web.Request) -> web.StreamResponse:
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
        "can_send": member.is_admin and request.config_dict[CONFIG].office is not None,
        "local": lambda m: local(m, row.timezone),
        "reach": None,
        "acks": [],
        "lines": [],
        "notice": "",
        "refresh": row.status in (broadcasts.SENDING, broadcasts.SCHEDULED),
    }
    if row.status == broadcasts.DRAFT:
        if member.is_admin:
            context["reach"] = await broadcasts.preview(session, member, broadcast_id)
    else:
        if row.ask_ack:
            context["acks"] = await broadcasts.acks_by_unit(session, member, broadcast_id)
        _row, context["lines"] = await broadcasts.delivery_report(session, member, broadcast_id)
    done = request.query.get("done", "")
    _ = request[GETTEXT]
    if done == "confirmed":
        context["notice"] = _("Confirmed: the messages are queued and go out now.")
    elif done == "cancelled":
        context["notice"] = _("Cancelled: messages not yet sent were withdrawn.")
    error = request.query.get("error", "")
    if error:
        context["notice"] = refusal_text(_, BroadcastError(error))
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
        await request[DB].rollback()
        return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?error={error.code}")
    return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?done=confirmed")


async def cancel_broadcast(request: web.Request) -> web.StreamResponse:
    member = member_of(request)
    broadcast_id = int(request.match_info["id"])
    try:
        await broadcasts.cancel(request[DB], member, broadcast_id, now=request[NOW])
    except BroadcastError as error:
        await request[DB].rollback()
        return see_other(f"{PREFIX}/broadcasts/{broadcast_id}?error={error.code}")
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
