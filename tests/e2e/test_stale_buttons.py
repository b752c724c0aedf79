"""Buttons never act on a stale view: clearing asks first, old buttons change nothing, and
the chat holds one live card — as the person holding the phone sees it."""

from __future__ import annotations

from sqlmodel import select

from sandbox.client import inline_buttons
from storage.models import ProgressEntry, Task
from tests.e2e.phone import message_with, press, press_containing, screen, text_of


async def entry_text(taizhang, number: int) -> str | None:
    async def work(session):
        entry = (
            await session.exec(
                select(ProgressEntry)
                .join(Task, Task.id == ProgressEntry.task_id)
                .where(Task.number == number, ProgressEntry.round_id == taizhang.round_id)
            )
        ).first()
        return entry.text if entry else None

    return await taizhang.query(work)


async def start_writing(user, number: int = 1) -> None:
    await user.send("/report")
    await screen(user, "已填 ", "截止日期")
    await press_containing(user, f"{number}. ")
    await screen(user, f"序号 {number}")
    await press(user, "✍️ 填写进展")
    await screen(user, f"序号 {number}：请发送进展落实情况")


def live_messages(view) -> list[int]:
    """The messages with buttons that act on a task (the greeting's button is no card)."""
    return [
        m["message_id"]
        for m in view.bot_messages
        if any(b.get("callback_data", "").startswith("tk:") for b in inline_buttons(m))
    ]


async def live_are(user, *messages: dict) -> None:
    """Wait until exactly these messages carry buttons (the older ones are taken off after
    the reply is sent)."""
    wanted = [m["message_id"] for m in messages]
    try:
        await user.wait_until(lambda view: live_messages(view) == wanted)
    except TimeoutError:
        found = live_messages(await user.read_chat())
        raise AssertionError(f"live buttons on {found}, expected {wanted}") from None


async def say(user, text: str, *, settle: bool = True) -> dict:
    await user.send(text)
    reply = await user.wait_for_reply()
    assert "已保存" in text_of(reply)
    if settle:
        await live_are(user, reply)
    return reply


def clear_button(message: dict) -> dict:
    return next(b for b in inline_buttons(message) if b["text"] == "🗑 清空重写")


async def test_an_old_clear_button_pressed_later_clears_nothing_and_shows_the_card(taizhang):
    zhou = await taizhang.contact("周琪")
    await start_writing(zhou)
    first = await say(zhou, "第一段。")
    old = clear_button(first)
    # Taking the old buttons off fails once (as for a message Telegram no longer lets the
    # bot edit): the answer is saved all the same, and the old button stays on the phone.
    await taizhang.sandbox.client.inject_fault(
        "error", count=1, method="editMessageReplyMarkup", status=500
    )
    await say(zhou, "第二段。", settle=False)
    third = await say(zhou, "第三段。", settle=False)
    await live_are(zhou, first, third)  # the failed edit left the first one's buttons there
    assert await entry_text(taizhang, 1) == "第一段。\n第二段。\n第三段。"

    pressed = await zhou.press(data=old["callback_data"], message_id=first["message_id"])
    assert "未做更改" in pressed.text
    card = await screen(zhou, "较早的卡片", "序号 1", "第三段。")
    assert "第一段。\n第二段。\n第三段。" in text_of(card)
    assert await entry_text(taizhang, 1) == "第一段。\n第二段。\n第三段。"
    await live_are(zhou, card)  # the pressed old message lost its buttons, and so did the third


async def test_a_forged_clear_without_a_version_clears_nothing(taizhang):
    from handlers.callbacks import TaskAct

    zhou = await taizhang.contact("周琪")
    await start_writing(zhou)
    saved = await say(zhou, "不能被旧按钮清空。")
    old_style = TaskAct.unpack(clear_button(saved)["callback_data"])
    for act in ("c", "y"):  # a button drawn before versions, and the confirmation itself
        forged = old_style.model_copy(update={"act": act, "version": -1})
        pressed = await zhou.forge_press(forged.pack(), message_id=saved["message_id"])
        assert "未做更改" in pressed.text
    await message_with(zhou, "较早的卡片", "不能被旧按钮清空。")
    assert await entry_text(taizhang, 1) == "不能被旧按钮清空。"


async def test_clear_asks_first_cancel_keeps_the_text_and_confirm_clears(taizhang):
    zhou = await taizhang.contact("周琪")
    await start_writing(zhou)
    saved = await say(zhou, "要保留的内容。")
    await press(zhou, "🗑 清空重写")
    question = await screen(zhou, "清空第 1 项的进展，重新填写？", "要保留的内容。")
    assert question["message_id"] == saved["message_id"]  # asked in place
    assert [b["text"] for b in inline_buttons(question)] == ["🗑 确认清空", "取消"]
    assert await entry_text(taizhang, 1) == "要保留的内容。"

    await press(zhou, "取消")
    card = await screen(zhou, "未清空", "序号 1", "要保留的内容。")
    assert card["message_id"] == saved["message_id"]
    assert await entry_text(taizhang, 1) == "要保留的内容。"

    await press(zhou, "✍️ 填写进展")
    await screen(zhou, "请发送进展落实情况")
    await press(zhou, "🗑 清空重写")
    await screen(zhou, "清空第 1 项的进展")
    await press(zhou, "🗑 确认清空")
    await screen(zhou, "已清空", "序号 1：请发送进展落实情况")
    assert await entry_text(taizhang, 1) == ""
    await say(zhou, "重新填写的内容。")
    assert await entry_text(taizhang, 1) == "重新填写的内容。"


async def test_after_each_saved_message_only_the_newest_carries_live_buttons(taizhang):
    from tests.sandbox.conftest import png

    zhou = await taizhang.contact("周琪")
    await start_writing(zhou)
    await say(zhou, "第一条。")
    await zhou.send_photo(png(), caption=None)
    assert "佐证材料" in text_of(await zhou.wait_for_reply())
    await live_are(zhou, (await zhou.read_chat()).last_bot_message)
    await say(zhou, "第三条。")  # waits until only this reply carries buttons
    # The reason for "not applicable" is a saved message too.
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "第三条。")
    await press(zhou, "不涉及")
    await message_with(zhou, "为什么不涉及")
    await zhou.send("本单位不负责")
    card = await screen(zhou, "已标记为不涉及")
    await live_are(zhou, card)
    # The list opened anew is the live screen: the card above it loses its buttons.
    await zhou.send("/report")
    await live_are(zhou, await screen(zhou, "已填 ", "截止日期"))
