"""A unit's contact reports from a phone: the whole journey, as they would live it."""

from __future__ import annotations

import datetime as dt
import io

from sqlmodel import select

from storage.models import OutboxMessage, ProgressEntry, Revision, Submission, Task
from tests.e2e.phone import message_with, press, press_containing, screen, text_of
from tests.sandbox.conftest import png

SEED_TASK6 = "在医疗保障局网站公开2023年度10条预决算信息。"


async def to_list(user) -> None:
    await press_containing(user, "📋")
    await message_with(user, "截止日期：", "已填 ")


async def entry_for(taizhang, number: int) -> ProgressEntry | None:
    async def work(session):
        return (
            await session.exec(
                select(ProgressEntry)
                .join(Task, Task.id == ProgressEntry.task_id)
                .where(ProgressEntry.round_id == taizhang.round_id, Task.number == number)
            )
        ).first()

    return await taizhang.query(work)


async def test_contact_reports_three_tasks_survives_a_restart_previews_and_submits(taizhang):
    zhou = await taizhang.contact("周琪")
    greeting = text_of((await zhou.read_chat()).bot_messages[0])
    assert "兴庆区医疗保障局" in greeting and "下一个截止日期" in greeting

    await zhou.send("/report")
    await screen(zhou, "兴庆区医疗保障局", "已填 0 /")
    await press_containing(zhou, "第一个未填")
    await screen(zhou, "序号 1", "主要内容")

    # Task 1: two messages and a photo.
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "序号 1：请发送进展落实情况")
    await zhou.send("转载黄河流域生态保护信息3条。")
    assert "已保存，共 15 字" in text_of(await zhou.wait_for_reply())
    await zhou.send("发布幸福兴庆等信息10条。")
    assert "已保存，共 29 字" in text_of(await zhou.wait_for_reply())
    await zhou.send_photo(png(), caption=None)
    assert "已保存为佐证材料" in text_of(await zhou.wait_for_reply())
    await press(zhou, "✅ 完成")
    card = await screen(zhou, "序号 1", "发布幸福兴庆等信息10条")
    assert "转载黄河流域生态保护信息3条。\n发布幸福兴庆等信息10条。" in text_of(card)
    assert "📎" in text_of(card)

    # Task 3: not applicable, with a reason.
    await press_containing(zhou, "▶")  # the next task
    await screen(zhou, "序号 3")
    await press(zhou, "不涉及")
    await message_with(zhou, "为什么不涉及")
    await zhou.send("本单位不负责养老托育政策")
    await screen(zhou, "已标记为不涉及", "本单位不负责养老托育政策")

    # Task 6: last round's answer.
    await to_list(zhou)
    await press_containing(zhou, "6. ")
    await screen(zhou, "序号 6")
    await press(zhou, "↩️ 沿用上一轮填报")
    await screen(zhou, "已填入上一轮", SEED_TASK6)

    # Task 12: start writing, the bot restarts, the contact carries on.
    await to_list(zhou)
    await press_containing(zhou, "12. ")
    await screen(zhou, "序号 12")
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "序号 12：请发送进展落实情况")
    await taizhang.restart()
    await zhou.send("以区政府办名义发布实施方案。")
    assert "已保存" in text_of(await zhou.wait_for_reply())
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 12", "以区政府办名义发布实施方案。")

    entries = {n: await entry_for(taizhang, n) for n in (1, 3, 6, 12)}
    assert entries[1].status == "in_progress" and entries[1].text.count("\n") == 1
    assert (entries[3].status, entries[3].reason) == ("not_applicable", "本单位不负责养老托育政策")
    assert entries[6].text == SEED_TASK6
    assert entries[12].text == "以区政府办名义发布实施方案。"

    # Preview: the filled form comes as a document holding the answers.
    await to_list(zhou)
    await press(zhou, "📄 预览台账")
    document_message = await zhou.wait_until(
        lambda v: any(m.get("document") for m in v.bot_messages), timeout=15
    )
    document = next(m for m in document_message.bot_messages if m.get("document"))
    assert document["document"]["file_name"].endswith(".docx")
    from docx import Document

    form = Document(io.BytesIO(await zhou.download(document)))
    form_text = "\n".join(
        cell.text for table in form.tables for row in table.rows for cell in row.cells
    )
    for words in (
        "发布幸福兴庆等信息10条。",
        "本单位不负责养老托育政策",
        SEED_TASK6,
        "以区政府办名义发布实施方案。",
    ):
        assert words in form_text

    # Submit after the deadline: the receipt says late.
    taizhang.now = taizhang.clock() + dt.timedelta(days=30)
    await press(zhou, "📨 提交")  # on the list, above the document
    confirm = await message_with(zhou, "确认提交", "尚未填写")
    assert "兴庆区医疗保障局" in text_of(confirm)
    await press(zhou, "✅ 确认提交")
    receipt = await message_with(zhou, "📨 回执", "逾期", "第 1 版")

    async def submission(session):
        return (
            await session.exec(select(Submission).where(Submission.round_id == taizhang.round_id))
        ).one()

    stored = await taizhang.query(submission)
    assert stored.receipt_no in text_of(receipt) and stored.on_time is False

    # Correct an answer after submitting: a revision is kept and the version goes up.
    taizhang.now += dt.timedelta(minutes=10)
    await to_list(zhou)
    await press_containing(zhou, "12. ")
    await message_with(zhou, "序号 12", "第 6/", live=True)
    await press(zhou, "✍️ 填写进展")
    await zhou.wait_for_reply()
    await zhou.send("补充：已完成政策解读。")
    assert "已保存" in text_of(await zhou.wait_for_reply())
    await press(zhou, "✅ 完成")
    await to_list(zhou)
    await message_with(zhou, "修改未提交（第 12 项）")
    await press(zhou, "📨 提交修改")
    await press(zhou, "✅ 确认提交")
    await message_with(zhou, "第 2 版", "已报送修改")

    async def revisions(session):
        entry = (
            await session.exec(
                select(ProgressEntry)
                .join(Task)
                .where(Task.number == 12, ProgressEntry.round_id == taizhang.round_id)
            )
        ).one()
        return (await session.exec(select(Revision).where(Revision.entry_id == entry.id))).all()

    history = await taizhang.query(revisions)
    assert [r.new_text for r in history][-1].endswith("补充：已完成政策解读。")
    assert history[-1].old_text == "以区政府办名义发布实施方案。"
    assert history[-1].by_label == "周琪"

    async def staff_notices(session):
        return (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff_notice"))
        ).all()

    notices = await taizhang.query(staff_notices)
    assert len(notices) == 2 and "兴庆区医疗保障局" in notices[0].payload["text"]
