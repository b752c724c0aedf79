"""What a careless, unlucky or hostile phone can do, and what the bot answers."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from handlers.callbacks import SubmitAct, TaskAct
from storage.models import Contact, ProgressEntry, Revision, Task, Unit
from tests.e2e.phone import message_with, press, press_containing, screen, text_of


async def open_task(user, number: int) -> None:
    await user.send("/report")
    await screen(user, "已填 ", "截止日期")
    await press_containing(user, f"{number}. ")
    await screen(user, f"序号 {number}")


async def task_id(taizhang, number: int) -> int:
    async def work(session):
        return (await session.exec(select(Task.id).where(Task.number == number))).one()

    return await taizhang.query(work)


async def unit_id(taizhang, short: str) -> int:
    async def work(session):
        return (await session.exec(select(Unit.id).where(Unit.short_name == short))).one()

    return await taizhang.query(work)


async def entry_text(taizhang, number: int, short: str = "医保局") -> str | None:
    async def work(session):
        entry = (
            await session.exec(
                select(ProgressEntry)
                .join(Task, Task.id == ProgressEntry.task_id)
                .join(Unit, Unit.id == ProgressEntry.unit_id)
                .where(
                    Task.number == number,
                    Unit.short_name == short,
                    ProgressEntry.round_id == taizhang.round_id,
                )
            )
        ).first()
        return entry.text if entry else None

    return await taizhang.query(work)


async def test_expired_and_forged_invites_explain_how_to_get_one(taizhang):
    stale = await taizhang.invite(
        "医保局",
        expires_in=dt.timedelta(days=1),
        now=taizhang.clock() - dt.timedelta(days=3),
    )
    user = await taizhang.sandbox.client.create_user("访客", language_code="zh-hans")
    await user.start(stale)
    assert "已过期" in text_of(await user.wait_for_reply())
    await user.start("A" * 32)
    reply = text_of(await user.wait_for_reply())
    assert "无效" in reply and "邀请链接" in reply

    async def contacts(session):
        return (await session.exec(select(Contact))).all()

    assert await taizhang.query(contacts) == []


async def test_repeated_bad_tokens_are_slowed_down(taizhang):
    user = await taizhang.sandbox.client.create_user("猜测者", language_code="zh-hans")
    for attempt in range(5):
        await user.start(f"guess{attempt:027d}")
        await user.wait_for_reply()
    good = await taizhang.invite("医保局")
    await user.start(good)
    assert "请 " in text_of(await user.wait_for_reply())  # 次数过多，请 N 分钟后再试


async def test_used_up_invite_and_second_contact_of_the_same_unit(taizhang):
    token = await taizhang.invite("医保局", uses=1)
    first = await taizhang.sandbox.client.create_user("甲", language_code="zh-hans")
    await first.start(token)
    assert "兴庆区医疗保障局" in text_of(await first.wait_for_reply())
    second = await taizhang.sandbox.client.create_user("乙", language_code="zh-hans")
    await second.start(token)
    assert "已被使用" in text_of(await second.wait_for_reply())


async def test_forged_callback_for_another_units_task_changes_nothing(taizhang):
    zhou = await taizhang.contact("周琪")  # 医保局
    minzheng = await unit_id(taizhang, "民政局")
    task4 = await task_id(taizhang, 4)  # 民政局 and 红十字会 answer for it, not 医保局
    forged = TaskAct(act="s", unit=minzheng, round=taizhang.round_id, task=task4, arg="d")
    await zhou.send("/report")
    await screen(zhou, "已填 ")
    pressed = await zhou.forge_press(forged.pack())
    assert "不属于您" in pressed.text
    own_unit = await unit_id(taizhang, "医保局")
    sneaky = TaskAct(act="s", unit=own_unit, round=taizhang.round_id, task=task4, arg="d")
    pressed = await zhou.forge_press(sneaky.pack())
    assert "不属于本单位" in pressed.text
    submit = SubmitAct(act="ok", unit=minzheng, round=taizhang.round_id)
    assert "不属于您" in (await zhou.forge_press(submit.pack())).text
    assert "已失效" in (await zhou.forge_press("tk:zz:1")).text  # not even well-formed
    assert await entry_text(taizhang, 4, "民政局") is None
    assert await entry_text(taizhang, 4, "医保局") is None


async def test_a_redelivered_update_is_handled_once(taizhang):
    zhou = await taizhang.contact("周琪")
    await open_task(zhou, 1)
    await press(zhou, "✍️ 填写进展")
    await zhou.wait_for_reply()
    await taizhang.sandbox.client.inject_fault("duplicate_updates", count=1)
    await zhou.send("只说一次。")
    assert "已保存" in text_of(await zhou.wait_for_reply())
    await asyncio.sleep(1.5)  # the copy arrives in the next poll; give it time to do harm
    assert await entry_text(taizhang, 1) == "只说一次。"
    replies = [t for t in (await zhou.read_chat()).texts() if t.startswith("已保存")]
    assert len(replies) == 1


async def test_markup_in_answers_is_shown_as_written(taizhang):
    zhou = await taizhang.contact("周琪")
    await open_task(zhou, 1)
    await press(zhou, "✍️ 填写进展")
    await zhou.wait_for_reply()
    await zhou.send("发布<b>政策</b> & 解读 <i>未闭合")
    assert "已保存" in text_of(await zhou.wait_for_reply())
    await press(zhou, "✅ 完成")
    card = await screen(zhou, "序号 1", "发布<b>政策</b> & 解读 <i>未闭合")
    assert "<b>政策</b>" in text_of(card)  # shown as text, not swallowed as markup
    assert await entry_text(taizhang, 1) == "发布<b>政策</b> & 解读 <i>未闭合"


async def test_oversized_answer_is_refused_whole_and_nothing_saved_is_lost(taizhang):
    zhou = await taizhang.contact("周琪")
    await open_task(zhou, 1)
    await press(zhou, "✍️ 填写进展")
    await zhou.wait_for_reply()
    await zhou.send("第一段已保存。")
    await zhou.wait_for_reply()
    for _ in range(2):
        await zhou.send("很" * 4000)
        await zhou.wait_for_reply()
    await zhou.send("长" * 3000)
    refusal = text_of(await zhou.wait_for_reply())
    assert "未保存" in refusal and "10000" in refusal
    text = await entry_text(taizhang, 1)
    assert text.startswith("第一段已保存。") and len(text) == 7 + 2 * 4001
    await press(zhou, "✅ 完成")
    card = await message_with(zhou, "序号 1", "查看全文")
    assert len(text_of(card)) <= 4096
    await press(zhou, "查看全文")
    await zhou.wait_until(
        lambda v: sum(len(m.get("text", "")) for m in v.bot_messages[-4:]) >= len(text) - 10
    )


async def test_stickers_and_locations_get_a_hint_and_change_nothing(taizhang):
    zhou = await taizhang.contact("周琪")
    await open_task(zhou, 1)
    await zhou.send_sticker()
    assert "只能保存文字、图片和文件" in text_of(await zhou.wait_for_reply())
    await zhou.send_location(38.47, 106.27)
    assert "只能保存文字、图片和文件" in text_of(await zhou.wait_for_reply())
    assert await entry_text(taizhang, 1) is None


async def test_two_contacts_of_one_unit_see_each_others_changes(taizhang):
    zhou = await taizhang.contact("周琪")
    deputy = await taizhang.contact("副联系人")
    await open_task(zhou, 1)
    await open_task(deputy, 1)
    await press(deputy, "✍️ 填写进展")
    await deputy.wait_for_reply()
    await deputy.send("副联系人写的内容。")
    await deputy.wait_for_reply()
    # 周琪's card is stale: pressing "done" on it shows the current text and says so.
    await press(zhou, "已完成")
    card = await screen(zhou, "其他联系人刚刚修改", "副联系人写的内容。")
    assert "🟡 推进中" in text_of(card)  # the press did not apply to what 周琪 had not seen
    await press(zhou, "已完成")
    await screen(zhou, "✅ 已完成", "副联系人写的内容。")
    # Writing on top of the other's text appends, and says so.
    await press(zhou, "✍️ 填写进展")
    await zhou.wait_for_reply()
    await deputy.send("副联系人补充。")
    await deputy.wait_for_reply()
    await zhou.send("周琪补充。")
    reply = text_of(await zhou.wait_for_reply())
    assert "其他联系人刚刚修改" in reply
    assert await entry_text(taizhang, 1) == "副联系人写的内容。\n副联系人补充。\n周琪补充。"

    async def authors(session):
        rows = await session.exec(
            select(Revision.by_label)
            .join(ProgressEntry, ProgressEntry.id == Revision.entry_id)
            .where(ProgressEntry.round_id == taizhang.round_id)
            .order_by(Revision.id)
        )
        return list(rows.all())

    assert await taizhang.query(authors) == ["副联系人", "周琪", "副联系人", "周琪"]


async def test_the_whole_journey_in_english(taizhang):
    tom = await taizhang.contact("Tom", language_code="en")
    greeting = text_of((await tom.read_chat()).bot_messages[0])
    assert "You now report for" in greeting and "兴庆区医疗保障局" in greeting
    await tom.send("/report")
    await screen(tom, "Answered 0 of")
    await press_containing(tom, "First unanswered")
    await screen(tom, "Task 1", "Content")
    await press(tom, "✍️ Write progress")
    assert "send the progress" in text_of(await tom.wait_for_reply())
    await tom.send("Published 13 items.")
    assert "Saved: 19 characters" in text_of(await tom.wait_for_reply())
    await press(tom, "✅ Done")
    await screen(tom, "Task 1", "Published 13 items.")
    await press_containing(tom, "📋")
    await message_with(tom, "Answered 1 of")
    await press(tom, "📨 Submit")
    await message_with(tom, "Submit the report of", "Not answered yet")
    await press(tom, "✅ Yes, submit")
    await message_with(tom, "📨 Receipt", "on time", "version 1")
    await tom.send("/language")
    await message_with(tom, "Choose the language")
    await press(tom, "中文")
    await screen(tom, "语言已设置为中文")
    await tom.send("/report")
    await screen(tom, "已填 1 /")


async def test_buttons_of_a_closed_round_are_refused_politely(taizhang):
    from storage.services.rounds import set_round_status

    zhou = await taizhang.contact("周琪")
    await open_task(zhou, 1)

    async def close(session):
        await set_round_status(session, taizhang.round_id, "closed")
        await session.commit()

    await taizhang.query(close)
    assert "已结束" in await press(zhou, "已完成")
    assert "已结束" in await press(zhou, "✍️ 填写进展")
    await zhou.send("结束后还想写。")  # the card was open: text is refused too
    assert "已结束" in text_of(await zhou.wait_for_reply())
    assert await entry_text(taizhang, 1) is None


async def test_a_photo_whose_caption_is_only_control_characters_is_kept_as_evidence(taizhang):
    from tests.e2e.phone import writing_task_1
    from tests.sandbox.conftest import png

    zhou = await writing_task_1(taizhang)
    await zhou.send_photo(png(), caption="\u202e\x00\x07")
    reply = text_of(await zhou.wait_for_reply())
    assert "已保存为佐证材料" in reply and "图片说明已加入" not in reply
