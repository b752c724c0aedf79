"""/broadcast as the office and the units see it: staff choose the audience, write the notice
(its links kept, nothing read as HTML), ask for 收到, see the preview as recipients will and
confirm; the recipients get it with 收到, one presses it (twice: counted once), staff see who
has and remind the other; a second confirm and a contact's forged buttons change nothing; the
delivery report downloads as XLSX. Then, slowed down: a restart mid-way loses nothing, and a
cancel mid-way withdraws what had not gone."""

from __future__ import annotations

import asyncio
import io

from openpyxl import load_workbook
from sqlmodel import select

from scheduler.buttons import BroadcastButton
from storage.models import Broadcast, Contact, OutboxMessage
from storage.services.invites import find_unit
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import message_with, press, press_containing, screen, text_of

NOTICE = "请于3月13日前报送本季度台账。<b>这不是HTML</b> 详见 https://zwgk.example.cn/tz"


async def _office(taizhang):
    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    office.looks_past = lambda message: text_of(message).startswith(("📨", "⚠️", "📵"))
    return office


async def _broadcasts(taizhang) -> list[Broadcast]:
    return await taizhang.query(
        lambda session: _all(session, select(Broadcast).order_by(Broadcast.id))
    )


async def _all(session, query):
    return list((await session.exec(query)).all())


async def _messages(taizhang, broadcast_id: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(
        OutboxMessage.dedupe_key.startswith(f"broadcast:{broadcast_id}:")
    )
    return await taizhang.query(lambda session: _all(session, query))


async def test_compose_preview_confirm_acknowledge_remind_and_report(taizhang):
    zhou = await taizhang.contact("周琪", "医保局")
    li = await taizhang.contact("李明", "民政局")
    office = await _office(taizhang)

    await office.send("/broadcast")
    await screen(office, "发送通知", "发送给谁？")
    await press_containing(office, "某类单位")
    await screen(office, "请选择单位类别")
    await press_containing(office, "部门 (")
    asked = text_of(await screen(office, "发送给：部门", "请直接发送通知内容"))
    assert "将送达 2 个单位的 2 人" in asked and "无可联系的联系人" in asked
    await office.send(NOTICE)
    await screen(office, "是否请接收人点击“收到”确认")
    await press(office, "✅ 是，要求确认收到")
    summary = text_of(await screen(office, "以上就是接收人将看到的样子"))
    assert "将送达 2 个单位的 2 人" in summary and "接收人需点击“收到”确认" in summary
    view = await office.read_chat()
    preview = view.bot_messages[-2]
    assert text_of(preview) == NOTICE  # as typed: the <b> stays text, the link stays a link
    assert any(e["type"] == "url" for e in preview.get("entities", []))
    assert "收到" in str(preview["reply_markup"])
    await press(office, "✅ 立即发送给 2 人")

    got = await message_with(zhou, "请于3月13日前报送")
    assert text_of(got) == NOTICE and any(e["type"] == "url" for e in got["entities"])
    pressed = await zhou.press("收到")
    assert "办公室已知道您收到了" in pressed.text
    marked = await message_with(zhou, "请于3月13日前报送")
    assert "✅ 已收到" in str(marked["reply_markup"])
    again = await zhou.press(data=marked["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert "您已于" in again.text
    await message_with(li, "请于3月13日前报送")

    progress = text_of(await message_with(office, "通知 #", "已发完"))
    assert "已发送 2" in progress and "失败 0" in progress
    (row,) = await _broadcasts(taizhang)
    assert row.status == "done" and row.progress_edits >= 1

    # A second confirm, and a contact's forged staff buttons, change nothing.
    twice = await office.forge_press(BroadcastButton(act="send", b=row.id).pack())
    assert "只会发送一次" in twice.text
    for act in ("send", "cancel", "remind", "report"):
        forged = await li.forge_press(BroadcastButton(act=act, b=row.id).pack())
        assert "仅限办公室工作人员" in forged.text
    assert len(await _messages(taizhang, row.id)) == 2

    await press_containing(office, "各单位确认情况")
    acks = text_of(await screen(office, "已确认单位：1 / 2"))
    assert "医保局：周琪" in acks and "民政局" in acks
    await press_containing(office, "提醒未确认的人（1）")
    await screen(office, "已安排提醒 1 人")
    reminder = await message_with(li, "请确认您已收到办公室的这条通知")
    assert "收到" in str(reminder["reply_markup"])
    await li.press("收到")
    await press_containing(office, "🔄")
    await screen(office, "已确认单位：2 / 2")

    await press_containing(office, "📄 送达报告")
    report = await message_with(office, "送达报告", "未送达")
    book = load_workbook(io.BytesIO(await office.download(report)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位", "联系人", "电话", "状态")
    assert {(r[1], r[3]) for r in rows[1:]} == {("周琪", "已发送"), ("李明", "已发送")}


async def _bind(taizhang, unit: str, names: list[str]):
    """People the office bound to a unit (as invites would), each with a chat of their own."""
    users = []
    for name in names:
        users.append(
            await taizhang.sandbox.client.create_user(name, language_code="zh-hans", started=True)
        )

    async def add(session):
        found = await find_unit(session, unit)
        for user in users:
            session.add(
                Contact(unit_id=found.id, telegram_user_id=user.id, chat_id=user.id,
                        name=user.info["first_name"])
            )  # fmt: skip
        await session.commit()

    await taizhang.query(add)
    return users


def _cut(message: OutboxMessage) -> bool:
    """A call in flight when the bot stopped (the sender marks those with "!")."""
    return message.status == "sending" and message.claimed_by.endswith("!")


async def _settled(taizhang, broadcast_id: int, *, but_cut: bool = False) -> None:
    """Until none of the broadcast's messages waits (`but_cut`: but calls cut by a stop)."""
    for _ in range(200):
        rows = await _messages(taizhang, broadcast_id)
        waiting = [m for m in rows if m.status in ("queued", "sending")]
        if not [m for m in waiting if not (but_cut and _cut(m))]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the broadcast's messages never settled")


async def _send_to_townships(office, text: str, client, retry_after: int) -> None:
    """Compose and confirm; Telegram will answer the first of its messages with 429."""
    await office.send("/broadcast")
    await screen(office, "发送给谁？")
    await press_containing(office, "某类单位")
    await screen(office, "请选择单位类别")
    await press_containing(office, "乡镇 (")
    await screen(office, "请直接发送通知内容")
    await office.send(text)
    await screen(office, "是否请接收人点击")
    await press(office, "否")
    await screen(office, "以上就是接收人将看到的样子")
    await client.inject_fault("flood", count=1, method="sendMessage", retry_after=retry_after)
    await press_containing(office, "✅ 立即发送给 6 人")


async def _held_back(taizhang) -> None:
    """Until the stand-in has answered a broadcast message with 429: the sender then waits
    out retry_after with the rest of the broadcast queued."""
    for _ in range(200):
        calls = await taizhang.sandbox.client.calls("sendMessage")
        if any(call["status"] == 429 for call in calls):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no 429 was answered")


async def test_a_restart_loses_nothing_and_a_cancel_withdraws_the_rest(taizhang):
    people = await _bind(taizhang, "掌政镇", [f"镇干部{n}" for n in range(6)])
    office = await _office(taizhang)
    client = taizhang.sandbox.client

    # Telegram says "too many requests" for the first message: the sender holds the rest
    # back for 2 s, and the bot restarts meanwhile. A graceful restart lets the calls in
    # flight finish and gives the rest back: everyone gets it exactly once.
    await _send_to_townships(office, "第一份通知", client, 2)
    await _held_back(taizhang)
    await taizhang.stop()  # between the two processes: the stopped one left no call cut
    assert not [m for m in await _messages(taizhang, 1) if _cut(m)]
    await taizhang.start()
    for person in people:
        await message_with(person, "第一份通知", timeout=10)
    await message_with(office, "通知 #1", "已发完", timeout=10)
    await _settled(taizhang, 1)
    counts = [(await person.read_chat()).texts().count("第一份通知") for person in people]
    assert counts == [1] * len(people)

    # Cancelled while held back: what had not gone is withdrawn, and never arrives.
    await client.clear_calls()
    await _send_to_townships(office, "第二份通知", client, 5)
    await _held_back(taizhang)
    await press(office, "✖ 取消发送")
    cancelled = text_of(await message_with(office, "通知 #2", "已取消"))
    await _settled(taizhang, 2)
    rows = await _messages(taizhang, 2)
    withdrawn = [m for m in rows if m.status == "withdrawn"]
    sent = [m for m in rows if m.status == "sent"]
    assert withdrawn and f"已撤回 {len(withdrawn)}" in cancelled
    assert len(sent) + len(withdrawn) == 6
    got = [p for p in people if "第二份通知" in (await p.read_chat()).texts()]
    assert len(got) == len(sent)
