"""The contact's report form through aiohttp's test client: a link, the tasks, a card, saving
(as a form and as the autosave), the version check against the bot, evidence, preview,
submitting and correcting."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Attachment, Contact, OutboxMessage, ProgressEntry, Revision
from storage.services import reporting
from storage.services.invites import find_unit
from storage.services.reporting import Actor
from tests.sandbox.conftest import png
from tests.web.conftest import csrf_of


async def test_a_link_signs_the_browser_in_and_leaves_no_token_in_the_address(world):
    client = await world.client()
    path = await world.link(name="赵敏", phone="13800000000")
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = await client.get("/")
    assert home.status == 200 and str(home.url).endswith(f"/r/{world.round_id}")
    page = await home.text()
    assert "兴庆区医疗保障局" in page and "赵敏" in page
    assert home.headers["Content-Security-Policy"].startswith("default-src 'none'")

    async def contact(session):
        return (await session.exec(select(Contact).where(Contact.name == "赵敏"))).one()

    made = await world.query(contact)
    assert made.telegram_user_id is None and made.chat_id is None and made.phone == "13800000000"
    again = await client.get(path, allow_redirects=False)  # the same browser: no further use
    assert again.status == 303


async def test_a_card_saved_as_a_plain_form_and_as_the_autosave(world):
    client = await world.signed_in()
    first, second = (await world.unit_task_ids())[:2]
    page = await (await client.get(f"/r/{world.round_id}/t/{first}")).text()
    assert "主要内容" in page and "进展落实情况" in page
    token = csrf_of(page)
    form = {
        "_csrf": token,
        "version": "0",
        "status": "done",
        "text": "已完成：发布 12 条",
        "reason": "",
    }
    response = await client.post(
        f"/r/{world.round_id}/t/{first}", data=form, allow_redirects=False
    )
    assert response.status == 303 and "done=saved" in response.headers["Location"]
    saved = await client.post(
        f"/r/{world.round_id}/t/{second}",
        data={"version": "0", "text": "正在推进", "status": "not_started", "reason": ""},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    answer = await saved.json()
    assert saved.status == 200 and answer["version"] >= 1 and answer["status"] == "in_progress"
    overview = await (await client.get(f"/r/{world.round_id}")).text()
    assert "已填 2 /" in overview


async def test_a_stale_save_changes_nothing_and_shows_the_answer_as_it_stands(world):
    client = await world.signed_in()
    task = (await world.unit_task_ids())[0]
    page = await (await client.get(f"/r/{world.round_id}/t/{task}")).text()
    token = csrf_of(page)

    async def bot_writes(session):
        unit = await find_unit(session, "医保局")
        contact = (await session.exec(select(Contact).where(Contact.unit_id == unit.id))).first()
        actor = Actor(unit.id, "周琪", contact.id if contact else None, at=world.clock())
        await reporting.append_text(session, actor, world.round_id, task, "机器人里写的")
        await session.commit()

    await world.query(bot_writes)
    stale = await client.post(
        f"/r/{world.round_id}/t/{task}",
        data={"version": "0", "text": "网页里写的", "status": "in_progress", "reason": ""},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    body = await stale.json()
    assert stale.status == 409 and body["stale"] and body["text"] == "机器人里写的"
    plain = await client.post(
        f"/r/{world.round_id}/t/{task}",
        data={"_csrf": token, "version": "0", "text": "网页里写的", "status": "in_progress"},
    )
    html = await plain.text()
    assert plain.status == 409 and "机器人里写的" in html and "网页里写的" in html

    async def text(session):
        entry = (
            await session.exec(
                select(ProgressEntry).where(
                    ProgressEntry.task_id == task, ProgressEntry.round_id == world.round_id
                )
            )
        ).one()
        return entry.text

    assert await world.query(text) == "机器人里写的"
    same = await client.post(  # an old view that says what is stored: no conflict
        f"/r/{world.round_id}/t/{task}",
        data={"version": "0", "text": "机器人里写的", "status": "in_progress", "reason": ""},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert same.status == 200 and not (await same.json())["stale"]


async def test_not_applicable_needs_a_reason(world):
    client = await world.signed_in()
    task = (await world.unit_task_ids())[0]
    token = csrf_of(await (await client.get(f"/r/{world.round_id}/t/{task}")).text())
    headers = {"Accept": "application/json", "X-CSRF-Token": token}
    url = f"/r/{world.round_id}/t/{task}"
    data = {"version": "0", "status": "not_applicable", "text": "", "reason": ""}
    first = await (await client.post(url, data=data, headers=headers)).json()
    assert first["code"] == "reason_needed" and first["status"] == "not_started"
    data.update(version=str(first["version"]), reason="本单位无此职能")
    second = await (await client.post(url, data=data, headers=headers)).json()
    assert second["status"] == "not_applicable" and second["reason"] == "本单位无此职能"


async def test_evidence_preview_submit_and_a_correction_as_a_new_version(world):
    client = await world.signed_in(name="赵敏")
    task = (await world.unit_task_ids())[0]
    url = f"/r/{world.round_id}/t/{task}"
    token = csrf_of(await (await client.get(url)).text())
    await client.post(url, data={"_csrf": token, "version": "0", "status": "done", "text": "完成"})
    form = {"_csrf": token, "file": (png(40, 30), "现场.png", "image/png")}
    upload = await client.post(url + "/files", data=_multipart(form), allow_redirects=False)
    assert upload.status == 303
    card = await (await client.get(url)).text()
    assert "现场.png" in card

    preview = await client.get(f"/r/{world.round_id}/preview")
    assert preview.status == 200 and (await preview.read()).startswith(b"PK")
    assert "attachment" in preview.headers["Content-Disposition"]

    confirm = await (await client.get(f"/r/{world.round_id}/submit")).text()
    done = await client.post(f"/r/{world.round_id}/submit", data={"_csrf": csrf_of(confirm)})
    receipt = await done.text()
    assert str(done.url).endswith("/receipt") and "TZ" in receipt

    async def told(session):
        return (await session.exec(select(OutboxMessage.kind))).all()

    assert "staff_notice" in await world.query(told)

    version = await _version(world, task)
    await client.post(url, data={"_csrf": token, "version": str(version), "text": "完成，已更正"})
    overview = await (await client.get(f"/r/{world.round_id}")).text()
    assert "未提交" in overview or "not submitted" in overview
    again = await client.post(f"/r/{world.round_id}/submit", data={"_csrf": token})
    assert 'id="version">2' in await again.text()

    async def revisions(session):
        return (await session.exec(select(Revision.source))).all()

    assert set(await world.query(revisions)) >= {"web"}


async def _version(world, task: int) -> int:
    async def work(session):
        entry = (
            await session.exec(
                select(ProgressEntry).where(
                    ProgressEntry.task_id == task, ProgressEntry.round_id == world.round_id
                )
            )
        ).one()
        return entry.version

    return await world.query(work)


def _multipart(fields):
    from aiohttp import FormData

    data = FormData()
    for name, value in fields.items():
        if isinstance(value, tuple):
            content, filename, mime = value
            data.add_field(name, content, filename=filename, content_type=mime)
        else:
            data.add_field(name, value)
    return data


async def _attachments(world):
    async def work(session):
        return (await session.exec(select(Attachment))).all()

    return await world.query(work)


async def test_english_is_one_press_away_and_remembered(world):
    client = await world.signed_in()
    page = await (await client.get(f"/r/{world.round_id}")).text()
    assert "台账填报" in page and 'lang="zh-CN"' in page
    switched = await client.post(
        "/language", data={"_csrf": csrf_of(page), "language": "en", "next": "/"}
    )
    english = await switched.text()
    assert (
        'lang="en"' in english and "Task ledger report" in english and "Answered 0 of" in english
    )

    async def language(session):
        return (await session.exec(select(Contact.language).where(Contact.language == "en"))).all()

    assert await world.query(language) == ["en"]
