"""/review as the office and the unit see it: staff return one task with a comment, the contact
is told, reads the comment on the task's card, corrects it and submits again; staff see it
resubmitted and accept it; a contact's forged review buttons change nothing."""

from __future__ import annotations

from sqlmodel import select

from handlers.staff_callbacks import ReviewAct
from storage.models import ReviewDecision
from storage.services.invites import find_unit
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import (
    message_with,
    press,
    press_containing,
    screen,
    text_of,
    writing_task_1,
)

COMMENT = "请补充发布时间和专栏链接。"


async def _submit(contact, receipt_words: tuple[str, ...]) -> None:
    await press_containing(contact, "📋")
    await screen(contact, "已填")
    await press_containing(contact, "📨")
    await message_with(contact, "确认提交")
    await press(contact, "✅ 确认提交")
    await message_with(contact, "📨 回执", *receipt_words)


async def _decisions(taizhang) -> list[tuple[str, int]]:
    async def rows(session):
        found = (await session.exec(select(ReviewDecision).order_by(ReviewDecision.id))).all()
        return [(row.decision, row.version) for row in found]

    return await taizhang.query(rows)


async def test_a_returned_task_reaches_the_contact_who_corrects_it_and_staff_accept(taizhang):
    zhou = await writing_task_1(taizhang)
    await zhou.send("已在政务公开专栏发布稳岗政策。")
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1")
    await _submit(zhou, ("第 1 版",))

    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    office.looks_past = lambda message: text_of(message).startswith(("📨", "⚠️"))
    await office.send("/review")
    listed = text_of(await screen(office, "待审核：1 个单位"))
    assert "医保局 · 第 1 版" in listed
    await press(office, "🆕 医保局")
    await screen(office, "兴庆区医疗保障局", "第 1 版", "待审核")
    await press(office, "↩️ 退回某项")
    await screen(office, "退回医保局的哪一项")
    await press_containing(office, "✅ 1.")
    await screen(office, "退回医保局第 1 版中的第 1 项", "请直接发送退回意见")
    await office.send(COMMENT)
    confirm = text_of(await screen(office, "确认退回医保局第 1 版中的第 1 项"))
    assert COMMENT in confirm
    await press(office, "✅ 确认退回")
    done = text_of(await screen(office, "已退回第 1 版中的第 1 项"))
    assert "已通过机器人通知该单位 1 位联系人" in done

    notice = await message_with(zhou, "办公室退回了贵单位报送（第 1 版）中的第 1 项")
    assert COMMENT in text_of(notice) and "报送 · 兴庆区医疗保障局" in text_of(notice)
    await press(zhou, "✏️ 打开第 1 项")
    card = text_of(await screen(zhou, "序号 1", "办公室退回："))
    assert COMMENT in card
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "请发送进展落实情况")
    await zhou.send("发布时间：3月1日，链接见政务公开专栏。")
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "发布时间")
    await press_containing(zhou, "📋")
    overview = text_of(await screen(zhou, "已填", "办公室退回：第 1 项"))
    assert "↩️" in overview
    await _submit(zhou, ("第 2 版",))

    await office.send("/status")
    await screen(office, "本轮共")
    await press(office, "🏢 单位明细")
    units = text_of(await screen(office, "点击单位查看"))
    assert "已重新提交，待审核" in units
    await press(office, "✅ 医保局")
    unit = text_of(await screen(office, "兴庆区医疗保障局", "第 2 版"))
    assert "已重新提交，待审核" in unit
    await press(office, "📝 审核")
    review = text_of(await screen(office, "🔄 已重新提交，待审核"))
    assert "退回第 1 版第 1 项" in review
    await press(office, "✅ 通过第 2 版")
    done = text_of(await screen(office, "第 2 版已通过"))
    assert "通知该单位 1 位联系人" in done
    accepted = await message_with(zhou, "办公室已审核通过贵单位的报送（第 2 版）")
    assert "打开报送" in str(accepted.get("reply_markup"))
    assert await _decisions(taizhang) == [("returned", 1), ("accepted", 2)]

    # A contact's forged review buttons are refused and change nothing.
    unit = await taizhang.query(lambda session: find_unit(session, "医保局"))
    for act in ("return", "confirm", "accept"):
        forged = ReviewAct(act=act, round=taizhang.round_id, unit=unit.id, version=2, task=0)
        pressed = await zhou.forge_press(forged.pack())
        assert "仅限办公室工作人员" in pressed.text
    assert await _decisions(taizhang) == [("returned", 1), ("accepted", 2)]
