"""Staff have their own menu and commands; everyone else is refused them, buttons included."""

from __future__ import annotations

from handlers.staff_callbacks import NudgeAct, StatusView
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import message_with


async def test_a_staff_chat_gets_the_staff_menu_and_help(taizhang):
    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans"
    )
    await office.start()
    await message_with(office, "办公室工作人员", "/status")
    menu = [c["command"] for c in (await office.read_chat()).commands]
    assert {"status", "export", "review", "invite", "report", "help"} <= set(menu)
    await office.send("/help")
    assert "/export" in (await message_with(office, "/export"))["text"]
    await office.send("/report")
    await message_with(office, "不代表任何单位填报")


async def test_a_contact_is_refused_staff_commands_and_forged_staff_buttons(taizhang):
    zhou = await taizhang.contact("周琪")
    assert "status" not in [c["command"] for c in (await zhou.read_chat()).commands]
    await zhou.send("/status")
    await message_with(zhou, "仅限办公室工作人员")
    for forged in (StatusView(act="show", round=taizhang.round_id), NudgeAct(act="all", round=1)):
        pressed = await zhou.forge_press(forged.pack())
        assert "仅限办公室工作人员" in pressed.text
