"""The web form refuses what it must: forged links, tampered cookies, another unit's rounds and
tasks (in the URL and in form fields), POSTs without their CSRF token or from another site,
uploads too big or of the wrong type; link exchanges are rate-limited; sessions end."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from storage.models import Attachment, ProgressEntry
from storage.services import reporting
from storage.services.invites import find_unit, revoke_invite
from tests.sandbox.conftest import png
from tests.web.conftest import SECRET, csrf_of
from tests.web.test_form import _multipart
from tests.web.test_uploads import zipped
from web import security
from web.uploads import DOCX

DOCX_MIME = DOCX.mime


async def _entries(world, unit: str) -> list[ProgressEntry]:
    async def work(session):
        found = await find_unit(session, unit)
        query = select(ProgressEntry).where(
            ProgressEntry.unit_id == found.id, ProgressEntry.round_id == world.round_id
        )
        return list((await session.exec(query)).all())

    return await world.query(work)


async def test_a_forged_or_withdrawn_link_opens_nothing(world):
    client = await world.client()
    forged = await client.get("/l/" + "A" * 43, allow_redirects=False)
    assert forged.status == 404 and "tz_session" not in forged.headers.get("Set-Cookie", "")
    assert "该链接无效" in await forged.text()

    path = await world.link(uses=1)
    assert (await client.get(path, allow_redirects=False)).status == 303
    other = await world.client()
    used_up = await other.get(path, allow_redirects=False)
    assert used_up.status == 410 and "使用次数已满" in await used_up.text()

    expiring = await world.link(expires_in=dt.timedelta(hours=1))
    world.clock.advance(hours=2)
    assert (await other.get(expiring, allow_redirects=False)).status == 410


async def test_revoking_the_link_signs_its_browser_out(world):
    from storage.models import Invite

    client = await world.signed_in()
    assert (await client.get(f"/r/{world.round_id}")).status == 200

    async def revoke(session):
        invite = (await session.exec(select(Invite).order_by(Invite.id.desc()))).first()
        await revoke_invite(session, invite.id, now=world.clock())
        await session.commit()

    await world.query(revoke)
    assert (await client.get(f"/r/{world.round_id}")).status == 401


async def test_a_tampered_or_foreign_cookie_is_nobody(world):
    client = await world.signed_in()
    jar = {c.key: c.value for c in client.session.cookie_jar}
    token, signature = jar[security.SESSION_COOKIE].split(".")
    for value in (
        f"{token[:-1]}{'B' if token[-1] != 'B' else 'C'}.{signature}",  # token changed
        f"{token}.{signature[:-2]}xx",  # signature changed
        security.sign_session("another-secret-of-enough-length", token),
        token,  # no signature
        security.sign_session(SECRET, "made-up-session-token"),  # well signed, unknown
    ):
        stranger = await world.client()
        stranger.session.cookie_jar.update_cookies({security.SESSION_COOKIE: value})
        response = await stranger.get(f"/r/{world.round_id}")
        assert response.status == 401, value
        assert "专属链接" in await response.text()


async def test_another_units_round_and_task_are_not_found_and_cannot_be_changed(world):
    client = await world.signed_in("掌政镇")
    mine = await world.unit_task_ids("掌政镇")
    theirs = [t for t in await world.unit_task_ids("医保局") if t not in mine]
    page = await (await client.get(f"/r/{world.round_id}/t/{mine[0]}")).text()
    token = csrf_of(page)
    assert (await client.get(f"/r/{world.round_id}/t/{theirs[0]}")).status == 404
    assert (await client.get(f"/r/{world.previous_round_id + 999}")).status == 404
    form = {"_csrf": token, "version": "0", "status": "done", "text": "伪造"}
    changed = await client.post(f"/r/{world.round_id}/t/{theirs[0]}", data=form)
    assert changed.status == 404
    upload = _multipart({"_csrf": token, "file": (png(4, 4), "x.png", "image/png")})
    files = await client.post(f"/r/{world.round_id}/t/{theirs[0]}/files", data=upload)
    assert files.status == 404
    # A unit id in the form is not read at all: the unit is the session's.
    forged = {**form, "unit": "1", "unit_id": "1", "contact_id": "1"}
    await client.post(f"/r/{world.round_id}/t/{mine[0]}", data=forged)
    assert await _entries(world, "医保局") == []
    assert [e.text for e in await _entries(world, "掌政镇") if e.task_id == mine[0]] == ["伪造"]


async def test_posts_need_their_csrf_token_and_our_own_origin(world):
    client = await world.signed_in()
    task = (await world.unit_task_ids())[0]
    url = f"/r/{world.round_id}/t/{task}"
    token = csrf_of(await (await client.get(url)).text())
    data = {"version": "0", "status": "done", "text": "无令牌"}
    assert (await client.post(url, data=data)).status == 403
    assert (await client.post(url, data={**data, "_csrf": "forged"})).status == 403
    wrong_header = await client.post(url, data=data, headers={"X-CSRF-Token": "forged"})
    assert wrong_header.status == 403
    other_site = await client.post(
        url, data={**data, "_csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    assert (await client.post(f"/r/{world.round_id}/submit", data={})).status == 403
    assert await _entries(world, "医保局") == []
    ok = await client.post(url, data={**data, "_csrf": token}, allow_redirects=False)
    assert ok.status == 303


async def test_uploads_too_big_or_of_the_wrong_type_are_refused(world):
    from aiohttp.test_utils import TestServer

    from tests.web.conftest import web_config
    from web.app import build_web_app

    world.server = TestServer(
        build_web_app(web_config(world.sessions, world.clock, max_upload_bytes=64 * 1024))
    )
    await world.server.start_server()
    client = await world.signed_in()
    task = (await world.unit_task_ids())[0]
    url = f"/r/{world.round_id}/t/{task}/files"
    token = csrf_of(await (await client.get(f"/r/{world.round_id}/t/{task}")).text())
    cases = [
        (
            b"\xff\xd8\xff" + b"0" * 80_000,
            "大.jpg",
            "image/jpeg",
            413,
            "64 KB" if False else "超过",
        ),
        (b"\xff\xd8\xff" + b"0" * 2_000_000, "很大.jpg", "image/jpeg", 413, "超过"),
        (b"<script>alert(1)</script>", "x.png", "image/png", 415, "只接受"),
        (b"MZ\x90\x00 not a photo", "setup.exe", "application/octet-stream", 415, "只接受"),
        (b"<html><script>alert(1)</script></html>", "page.html", "text/html", 415, "只接受"),
        (zipped("a.jpg", "b.jpg"), "照片.zip", "application/zip", 415, "压缩包"),
        (zipped("[Content_Types].xml", "word/vbaProject.bin"), "宏.docx", DOCX_MIME, 415, "带宏"),
    ]
    for content, name, mime, status, said in cases:
        data = _multipart({"_csrf": token, "file": (content, name, mime)})
        response = await client.post(url, data=data)
        assert response.status == status, name
        assert said in await response.text(), name

    async def files(session):
        return (await session.exec(select(Attachment))).all()

    assert await world.query(files) == []
    fine = _multipart({"_csrf": token, "file": (png(10, 10), "../../etc/现场.PNG", "text/html")})
    assert (await client.post(url, data=fine, allow_redirects=False)).status == 303
    [kept] = await world.query(files)
    assert (kept.file_name, kept.mime_type, kept.kind) == ("现场.PNG", "image/png", "photo")
    ofd = zipped("OFD.xml", "Doc_0/Document.xml")  # a sealed document, as government offices send
    signed = _multipart({"_csrf": token, "file": (ofd, "盖章件", "application/octet-stream")})
    assert (await client.post(url, data=signed, allow_redirects=False)).status == 303
    kept = [a for a in await world.query(files) if a.mime_type == "application/ofd"]
    assert [(a.file_name, a.kind, a.content) for a in kept] == [("盖章件.ofd", "document", ofd)]


async def test_link_exchanges_are_rate_limited_per_address(world):
    client = await world.client()
    for _ in range(10):
        assert (await client.get("/l/" + "x" * 43)).status == 404
    limited = await client.get(await world.link())  # even a good link, for a while
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
    world.clock.advance(minutes=11)
    assert (await client.get(await world.link(), allow_redirects=False)).status == 303


async def test_sessions_end_when_idle_or_old_and_on_signing_out(world):
    client = await world.signed_in()
    world.clock.advance(days=6)
    assert (await client.get(f"/r/{world.round_id}")).status == 200  # in use: kept alive
    world.clock.advance(days=8)
    assert (await client.get(f"/r/{world.round_id}")).status == 401  # idle too long

    client = await world.signed_in()
    for _ in range(5):  # used every few days, still ended 30 days after signing in
        world.clock.advance(days=5)
        assert (await client.get(f"/r/{world.round_id}")).status == 200
    world.clock.advance(days=5)
    assert (await client.get(f"/r/{world.round_id}")).status == 401

    client = await world.signed_in()
    page = await (await client.get(f"/r/{world.round_id}")).text()
    await client.post("/signout", data={"_csrf": csrf_of(page)})
    assert (await client.get(f"/r/{world.round_id}")).status == 401


async def test_pages_carry_the_security_headers(world):
    client = await world.signed_in()
    response = await client.get(f"/r/{world.round_id}")
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in (await response.text()).replace("<script src=", "")
    assert security.redact("/l/secret-token-here?x=1") == "/l/…?x=1"


async def test_a_closed_round_is_read_only(world):
    client = await world.signed_in()
    task = (await world.unit_task_ids())[0]
    token = csrf_of(await (await client.get(f"/r/{world.round_id}/t/{task}")).text())

    async def close(session):
        from storage.models import Round

        (await session.get(Round, world.round_id)).status = "closed"
        await session.commit()

    await world.query(close)
    page = await client.get(f"/r/{world.round_id}/t/{task}")
    assert "<fieldset disabled>" in await page.text()
    data = {"_csrf": token, "version": "0", "text": "关闭后"}
    refused = await client.post(f"/r/{world.round_id}/t/{task}", data=data)
    assert refused.status == 422 and "不能再修改" in await refused.text()
    assert reporting  # the service refuses it, not only the page
