"""The bot answers through the stand-in as a phone would see it."""

from __future__ import annotations


async def test_start_without_invite_explains_how_to_get_one(taizhang):
    user = await taizhang.sandbox.client.create_user("王伟", language_code="zh-hans")
    await user.start()
    reply = await user.wait_for_reply()
    assert "邀请链接" in reply["text"]


async def test_invite_binds_and_greets_with_unit_name(taizhang):
    user = await taizhang.sandbox.client.create_user("周琪", language_code="zh-hans")
    await user.start(await taizhang.invite("医保局"))
    reply = await user.wait_for_reply()
    assert "兴庆区医疗保障局" in reply["text"]


async def test_staff_are_greeted_as_staff(taizhang):
    from tests.e2e.conftest import STAFF_ID

    staff = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans"
    )
    await staff.start()
    assert "办公室工作人员" in (await staff.wait_for_reply())["text"]


async def test_staff_hear_of_a_submission_through_the_outbox(taizhang):
    from tests.e2e.conftest import STAFF_ID
    from tests.e2e.phone import message_with, press

    staff = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    zhou = await taizhang.contact("周琪")
    await zhou.send("/report")
    await message_with(zhou, "已填 0 /")
    await press(zhou, "📨 提交")
    await message_with(zhou, "确认提交")
    await press(zhou, "✅ 确认提交")
    await message_with(zhou, "📨 回执")
    notice = await message_with(staff, "兴庆区医疗保障局", "已提交", timeout=15)
    assert "周琪" in notice["text"] and "0 / 19" in notice["text"]
