"""The office's web console through aiohttp's test client: signing in with a one-time link,
the round's matrix changing when a unit submits, review from a unit's page (the contact's
notice queued), exports that open and carry the answer, invites with their QR code,
broadcasts previewed and confirmed once; and the refusals (a viewer's POST, a contact's
cookie, a forged cookie, missing CSRF, a used or expired link, too many sign-ins)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from tests.web.conftest import Clock, csrf_of, web_config

ADMIN_ID = 90001  # 张主任 of the sample ledger
VIEWER_ID = 90077
CONTACT_ID = 10001  # 周琪, 兴庆区医疗保障局's contact
ANSWER = "已完成：在区政府网站发布医保政策解读 4 篇，答复群众咨询 57 件。"


class Console:
    def __init__(self, sessions, round_id: int, clock: Clock, server: TestServer):
        self.sessions, self.round_id, self.clock, self.server = sessions, round_id, clock, server
        self.clients: list[TestClient] = []

    async def query(self, work):
        async with self.sessions() as session:
            result = await work(session)
            await session.commit()
            return result

    async def browser(self) -> TestClient:
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def login_path(self, telegram_id: int = ADMIN_ID) -> str:
        from storage.services import staff_web

        made = await self.query(
            lambda s: staff_web.create_login_link(s, telegram_id, now=self.clock())
        )
        return staff_web.login_path(made.token)

    async def sign_in(self, client: TestClient, path: str):
        page = await client.get(path)
        assert page.status == 200
        html = await page.text()
        token = re.search(r'name="token" value="([^"]+)"', html)[1]
        return await client.post(
            "/office/login",
            data={"_csrf": csrf_of(html), "token": token},
            allow_redirects=False,
        )

    async def signed_in(self, telegram_id: int = ADMIN_ID) -> TestClient:
        client = await self.browser()
        response = await self.sign_in(client, await self.login_path(telegram_id))
        assert response.status == 303, await response.text()
        return client

    async def unit_id(self, name: str = "医保局") -> int:
        from storage.services.invites import find_unit

        return (await self.query(lambda s: find_unit(s, name))).id

    async def submit(self, name: str = "医保局", text: str = ANSWER) -> None:
        """The unit's contact answers its first task and submits, as in the bot."""
        from scheduler.notices import submit_and_tell_staff
        from storage.models import Contact
        from storage.services import reporting
        from storage.services.people import Membership

        unit_id = await self.unit_id(name)

        async def work(session):
            contact = (
                await session.exec(select(Contact).where(Contact.unit_id == unit_id))
            ).first()
            summary = await reporting.overview(session, self.round_id, unit_id)
            actor = reporting.Actor(unit_id, contact.name, contact.id, "bot", self.clock())
            task_id = summary.lines[0].task_id
            await reporting.set_status(session, actor, self.round_id, task_id, "done")
            await reporting.append_text(session, actor, self.round_id, task_id, text)
            membership = Membership(contact.id, unit_id, summary.unit_name, name, contact.name)
            await submit_and_tell_staff(
                session, actor, self.round_id, membership, [ADMIN_ID], now=self.clock()
            )

        await self.query(work)


@pytest.fixture
async def console(prepared) -> AsyncIterator[Console]:
    from scheduler.broadcasts import confirm_and_queue
    from scheduler.nudges import nudge
    from scheduler.review_notices import accept_and_tell, return_and_tell
    from storage.services import staff
    from storage.services.samples import bind_sample_people
    from web.app import OfficeActions, build_web_app

    sessions, round_id, _previous, clock = prepared
    async with sessions() as session:
        await bind_sample_people(session)  # 张主任 (admin) and three units' contacts
        await staff.add_staff(session, VIEWER_ID, "钱科员", staff.VIEWER)
        await session.commit()
    actions = OfficeActions(accept_and_tell, return_and_tell, confirm_and_queue, nudge)
    app = build_web_app(web_config(sessions, clock, office=actions))
    server = TestServer(app)
    await server.start_server()
    found = Console(sessions, round_id, clock, server)
    try:
        yield found
    finally:
        for client in found.clients:
            await client.close()
        await server.close()


async def _all(session, query):
    return list((await session.exec(query)).all())


# ------------------------------------------------------------------ signing in


async def test_a_login_link_signs_in_once_and_the_session_ends(console):
    client = await console.browser()
    path = await console.login_path()
    # Opening the link (a preview, a scanner) uses nothing: only the button's POST does.
    assert (await client.get(path)).status == 200
    response = await console.sign_in(client, path)
    assert response.status == 303 and response.headers["Location"] == "/office/"
    cookie = response.cookies["tz_office"]
    assert cookie["httponly"] and cookie["path"] == "/office"
    home = await client.get("/office/", allow_redirects=False)
    assert home.headers["Location"] == f"/office/r/{console.round_id}"
    page = await client.get(f"/office/r/{console.round_id}")
    assert page.status == 200 and "张主任" in await page.text()
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    again = await console.sign_in(await console.browser(), path)  # the same link, used
    assert again.status == 410

    late = await console.login_path()
    console.clock.advance(minutes=11)
    assert (await console.sign_in(await console.browser(), late)).status == 410

    html = await (await client.get(f"/office/r/{console.round_id}")).text()
    out = await client.post("/office/signout", data={"_csrf": csrf_of(html)})
    assert out.status == 401 and "/console" in await out.text()  # the sign-in page
    gone = await client.get(f"/office/r/{console.round_id}", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/office/signin"


async def test_chinese_by_default_and_english_from_the_button(console):
    client = await console.signed_in()
    url = f"/office/r/{console.round_id}"
    chinese = await (await client.get(url)).text()
    assert "办公室控制台" in chinese and "未开始" in chinese
    switched = await client.post(
        "/office/language",
        data={"_csrf": csrf_of(chinese), "language": "en", "next": url},
        allow_redirects=False,
    )
    assert switched.headers["Location"] == url
    english = await (await client.get(url)).text()
    assert "Office console" in english and "Not started" in english
    assert "Not assigned" in english and "Changed since submitting" in english
    unit_page = await (await client.get(f"{url}/u/{await console.unit_id()}")).text()
    assert "Submitted versions" in unit_page and "Answers as they stand" in unit_page
    assert "已提交的版本" not in unit_page


async def test_sessions_expire_when_idle(console):
    client = await console.signed_in()
    url = f"/office/r/{console.round_id}"
    console.clock.advance(hours=7)
    assert (await client.get(url, allow_redirects=False)).status == 200  # kept alive
    console.clock.advance(hours=8, minutes=1)
    assert (await client.get(url, allow_redirects=False)).status == 303


async def test_no_console_without_a_staff_session(console):
    url = f"/office/r/{console.round_id}"
    unit_id = await console.unit_id()
    accept = f"/office/r/{console.round_id}/u/{unit_id}/accept"

    # A contact signed in to the report form: its cookie does not open the console.
    from storage.services.invites import find_unit
    from storage.services.web_access import create_web_invite, link_path

    async def web_link(session):
        unit = await find_unit(session, "医保局")
        return link_path((await create_web_invite(session, unit, now=console.clock())).token)

    contact = await console.browser()
    assert (await contact.get(await console.query(web_link), allow_redirects=False)).status == 303
    assert "tz_session" in {c.key for c in contact.session.cookie_jar}
    response = await contact.get(url, allow_redirects=False)
    assert response.headers["Location"] == "/office/signin"
    assert (await contact.post(accept, data={"_csrf": "x"})).status == 401

    # The contact's signed cookie moved to the console's name; a forged one; none.
    signed = next(c.value for c in contact.session.cookie_jar if c.key == "tz_session")
    for value in (signed, "forged.cookie", "a" * 43 + ".b"):
        forger = await console.browser()
        forger.session.cookie_jar.update_cookies({"tz_office": value})
        assert (await forger.get(url, allow_redirects=False)).status == 303
        assert (await forger.post(accept, data={})).status == 401

    # Signed in, but a POST without its CSRF token, or from another site.
    admin = await console.signed_in()
    assert (await admin.post(accept, data={})).status == 403
    html = await (await admin.get(url)).text()
    foreign = await admin.post(
        accept, data={"_csrf": csrf_of(html)}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status == 403

    # A staff member taken off staff loses the console at the next request.
    from storage.services import staff

    viewer = await console.signed_in(VIEWER_ID)
    await console.query(lambda s: staff.remove_staff(s, VIEWER_ID))
    assert (await viewer.get(url, allow_redirects=False)).status == 303


async def test_sign_ins_are_rate_limited(console):
    client = await console.browser()
    page = await client.get("/office/login/" + "x" * 43)
    html = await page.text()
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/office/login", data={"_csrf": csrf_of(html), "token": "y" * 43}
        )
        statuses.append(response.status)
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429 and "Retry-After" in response.headers


# ------------------------------------------------------------------ the matrix and review


async def test_a_submission_changes_its_row_and_review_tells_the_unit(console):
    from storage.models import OutboxMessage, ReviewDecision

    client = await console.signed_in()
    unit_id = await console.unit_id()
    url = f"/office/r/{console.round_id}"
    before = await (await client.get(url)).text()
    row = re.compile(rf'<tr id="u-{unit_id}"[^>]*data-state="(\w+)"')
    assert row.search(before)[1] == "not_started"

    await console.submit()
    after = await (await client.get(url)).text()
    assert row.search(after)[1] == "on_time"
    unit_row = after[after.index(f'id="u-{unit_id}"') :].split("</tr>")[0]
    assert 'data-cell="done"' in unit_row and 'data-total="1/' in unit_row
    towns = await (await client.get(url + "?kind=town")).text()
    assert f'id="u-{unit_id}"' not in towns and "掌政镇" in towns

    page = await client.get(f"{url}/u/{unit_id}")
    html = await page.text()
    assert ANSWER in html and "第 1 版" in html  # answers and versions, in Chinese

    # Return task 1 with a comment: the contact's notice is queued in the outbox.
    task_id = re.search(
        r'<select name="task" id="return-task">\s*<option value="0">[^<]*</option>'
        r'\s*<option value="(\d+)"',
        html,
    )[1]
    empty = await client.post(
        f"{url}/u/{unit_id}/return",
        data={"_csrf": csrf_of(html), "version": "1", "task": task_id, "comment": "  "},
    )
    assert empty.status == 422 and "请填写意见" in await empty.text()
    returned = await client.post(
        f"{url}/u/{unit_id}/return",
        data={
            "_csrf": csrf_of(html),
            "version": "1",
            "task": task_id,
            "comment": "请补充数据来源",
        },
        allow_redirects=False,
    )
    assert returned.status == 303
    notices = await console.query(
        lambda s: _all(s, select(OutboxMessage).where(OutboxMessage.kind == "review"))
    )
    assert [m.chat_id for m in notices] == [CONTACT_ID]
    assert "请补充数据来源" in notices[0].payload["text"]

    html = await (await client.get(f"{url}/u/{unit_id}")).text()
    assert "请补充数据来源" in html
    accepted = await client.post(
        f"{url}/u/{unit_id}/accept", data={"_csrf": csrf_of(html), "version": "1"}
    )
    assert accepted.status == 200 and "已通过" in await accepted.text()
    decisions = await console.query(lambda s: _all(s, select(ReviewDecision)))
    assert [d.decision for d in decisions] == ["returned", "accepted"]
    assert len(await console.query(
        lambda s: _all(s, select(OutboxMessage).where(OutboxMessage.kind == "review"))
    )) == 2  # fmt: skip


async def test_a_nudge_reminds_the_units_not_yet_submitted_once_a_day(console):
    from storage.models import OutboxMessage

    await console.submit()
    client = await console.signed_in()
    url = f"/office/r/{console.round_id}"
    html = await (await client.get(url)).text()
    first = await client.post(f"{url}/nudge", data={"_csrf": csrf_of(html)})
    text = await first.text()
    assert first.status == 200 and "民政局" in text and "掌政镇" in text
    nudges = await console.query(
        lambda s: _all(s, select(OutboxMessage).where(OutboxMessage.kind == "nudge"))
    )
    assert sorted(m.chat_id for m in nudges) == [10002, 10003]  # not 医保局: it submitted
    again = await client.post(f"{url}/nudge", data={"_csrf": csrf_of(html)})
    assert "今天已提醒过：民政局、掌政镇" in await again.text()
    viewer = await console.signed_in(VIEWER_ID)
    page = await (await viewer.get(url)).text()
    assert 'id="nudge"' not in page
    assert (await viewer.post(f"{url}/nudge", data={"_csrf": csrf_of(page)})).status == 403


async def test_exports_download_and_carry_the_submitted_answer(console):
    from docx import Document
    from openpyxl import load_workbook

    await console.submit()
    client = await console.signed_in(VIEWER_ID)  # viewers export too
    base = f"/office/r/{console.round_id}/export"
    assert (await client.get(base)).status == 200
    docx = await client.get(f"{base}/docx")
    assert docx.status == 200 and "attachment" in docx.headers["Content-Disposition"]
    document = Document(io.BytesIO(await docx.read()))
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert ANSWER in cells
    xlsx = await client.get(f"{base}/xlsx")
    book = load_workbook(io.BytesIO(await xlsx.read()))
    assert ANSWER in "\n".join(str(c.value) for s in book for r in s.iter_rows() for c in r)
    unit = await client.get(f"{base}/unit?unit={await console.unit_id()}")
    assert unit.status == 200 and (await unit.read())[:2] == b"PK"
    assert (await client.get(f"{base}/unit?unit=999999")).status == 422
    notice = await client.get(f"/office/r/{console.round_id}/notice")
    assert notice.status == 200 and (await notice.read())[:2] == b"PK"


async def test_a_viewer_looks_and_is_refused_every_change(console):
    from storage.models import Broadcast, Invite, ReviewDecision

    await console.submit()
    client = await console.signed_in(VIEWER_ID)
    unit_id = await console.unit_id()
    url = f"/office/r/{console.round_id}/u/{unit_id}"
    html = await (await client.get(url)).text()
    assert ANSWER in html and 'id="accept"' not in html  # no admin's buttons
    csrf = csrf_of(html)
    for path, data in (
        (f"{url}/accept", {"version": "1"}),
        (f"{url}/return", {"version": "1", "comment": "退回"}),
        (f"/office/invites/u/{unit_id}", {"channel": "web"}),
        ("/office/broadcasts", {"audience": "all", "text": "通知"}),
    ):
        response = await client.post(path, data={"_csrf": csrf, **data})
        assert response.status == 403, path
        assert "管理员" in await response.text()
    assert await console.query(lambda s: _all(s, select(ReviewDecision))) == []
    assert await console.query(lambda s: _all(s, select(Broadcast))) == []
    invites = await console.query(
        lambda s: _all(s, select(Invite).where(Invite.unit_id == unit_id))
    )
    assert all(i.channel != "web" for i in invites)


# ------------------------------------------------------------------ invites and broadcasts


async def test_invites_with_qr_and_a_broadcast_confirmed_once(console):
    from storage.models import OutboxMessage

    client = await console.signed_in()
    unit_id = await console.unit_id()
    desk = await (await client.get(f"/office/invites/u/{unit_id}")).text()
    created = await client.post(
        f"/office/invites/u/{unit_id}", data={"_csrf": csrf_of(desk), "channel": "web"}
    )
    html = await created.text()
    assert created.status == 200
    assert 'src="data:image/png;base64,' in html  # the QR code, from memory
    link = re.search(r'id="new-link">([^<]+)<', html)[1]
    assert link.startswith("http://127.0.0.1/l/")

    page = await (await client.get("/office/broadcasts")).text()
    draft = await client.post(
        "/office/broadcasts",
        data={"_csrf": csrf_of(page), "audience": "all", "text": "请于周五前报送。", "ack": "1"},
        allow_redirects=False,
    )
    assert draft.status == 303
    preview_url = draft.headers["Location"]
    preview = await (await client.get(preview_url)).text()
    assert "请于周五前报送。" in preview and "收到" in preview
    confirm = f"{preview_url}/confirm"
    first = await client.post(confirm, data={"_csrf": csrf_of(preview)})
    text = await first.text()
    assert first.status == 200 and 'id="n-pending"' in text
    second = await client.post(confirm, data={"_csrf": csrf_of(preview)})
    assert second.status == 200 and "只发送一次" in await second.text()
    queued = await console.query(
        lambda s: _all(s, select(OutboxMessage).where(OutboxMessage.kind == "broadcast"))
    )
    assert len(queued) == 3  # the sample's three contacts, once each
    report = await client.get(f"{preview_url}/report.xlsx")
    assert report.status == 200 and (await report.read())[:2] == b"PK"


# ------------------------------------------------------------------ the command line


def test_the_command_line_sends_a_login_link_through_the_outbox(
    database_url, monkeypatch, tmp_path
):
    import datetime as dt

    from storage.models import OutboxMessage
    from storage.services import staff_web
    from tests.cli_helpers import in_database, make_cli

    cli = make_cli(database_url, monkeypatch, tmp_path)
    monkeypatch.setenv("WEB__BASE_URL", "https://tz.example.gov.cn")
    cli("staff", "add", "90005", "--name", "孙科员", "--role", "viewer")
    assert "queued" in cli("staff", "login-link", "90005").stdout
    rows = in_database(database_url, lambda s: _all(s, select(OutboxMessage)))
    assert [(r.kind, r.chat_id) for r in rows] == [("staff_notice", 90005)]
    payload = rows[0].payload
    assert payload["link_preview_options"] == {"is_disabled": True}
    link = re.search(r"https://tz\.example\.gov\.cn/office/login/([\w-]{43})", payload["text"])
    assert link and payload["reply_markup"]["inline_keyboard"][0][0]["url"] == link[0]

    now = dt.datetime.now(dt.UTC)
    signed = in_database(database_url, lambda s: staff_web.exchange_login(s, link[1], now=now))
    assert signed.identity.member.role == "viewer"
    printed = cli("staff", "login-link", "90005", "--print").stdout
    assert "https://tz.example.gov.cn/office/login/" in printed
    assert len(in_database(database_url, lambda s: _all(s, select(OutboxMessage)))) == 1
    refused = cli("staff", "login-link", "12345", ok=False)
    assert refused.exit_code == 1 and "not office staff" in refused.output
