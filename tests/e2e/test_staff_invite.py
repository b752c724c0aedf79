"""/invite as office staff see it: pick a unit, create a link (and its QR code) that binds a new
person to the unit, revoke one so that it binds no one; viewers may look but not create, and a
contact's forged invite buttons change nothing."""

from __future__ import annotations

import re

from sqlmodel import func, select

from handlers.staff_callbacks import InviteAct
from storage.models import Invite
from storage.services import audit
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import message_with, press, press_containing
from tests.test_cli_invite import assert_qr_of

LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


async def open_unit(user, kind: str, unit: str) -> dict:
    await user.send("/invite")
    await message_with(user, "请选择单位类别")
    await press_containing(user, kind)
    await message_with(user, "请选择单位")
    await press_containing(user, unit)
    return await message_with(user, f"🏢 {unit}", "联系人", "邀请")


async def new_invite(user) -> tuple[dict, str]:
    """Press ➕ 新建邀请链接; the photo that came and the token in its link."""
    before = len([m for m in (await user.read_chat()).bot_messages if m.get("photo")])
    await press(user, "➕ 新建邀请链接")
    view = await user.wait_until(
        lambda v: len([m for m in v.bot_messages if m.get("photo")]) > before, timeout=10
    )
    photo = [m for m in view.bot_messages if m.get("photo")][-1]
    found = LINK.search(photo["caption"])
    assert found, photo["caption"]
    return photo, found[2]


async def invite_count(taizhang) -> int:
    return await taizhang.query(lambda s: _scalar(s, select(func.count()).select_from(Invite)))


async def _scalar(session, query):
    return (await session.exec(query)).one()


async def test_staff_create_an_invite_that_binds_and_revoke_one_that_then_does_not(
    taizhang, tmp_path
):
    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    desk = await open_unit(office, "部门", "兴庆区民政局")
    assert "该单位还没有绑定联系人" in desk["text"] and "还没有邀请" in desk["text"]

    photo, token = await new_invite(office)
    assert "兴庆区民政局的邀请" in photo["caption"] and "有效期至" in photo["caption"]
    link = LINK.search(photo["caption"])[0]
    png = tmp_path / "invite.png"
    png.write_bytes(await office.download(photo))
    assert_qr_of(png, link)
    await message_with(office, "🏢 兴庆区民政局", "🟢 有效", "已用 0 / 1 次")

    li = await taizhang.sandbox.client.create_user("李明", language_code="zh-hans")
    await li.start(token)
    assert "兴庆区民政局" in (await li.wait_for_reply())["text"]

    await press(office, "↩ 返回单位列表")
    await press_containing(office, "兴庆区民政局 · 👤1")
    desk = await message_with(office, "🏢 兴庆区民政局", "李明 · ✅ 可联系")
    assert "☑️ 已用完" in desk["text"]

    _, second = await new_invite(office)
    await message_with(office, "🏢 兴庆区民政局", "🟢 有效")
    await press_containing(office, "🚫 撤销 #")
    await message_with(office, "撤销兴庆区民政局的邀请", "不受影响")
    answer = await press(office, "🚫 确认撤销")
    assert "已撤销" in answer
    desk = await message_with(office, "🏢 兴庆区民政局", "⛔ 已撤销")
    assert "🟢" not in desk["text"]

    late = await taizhang.sandbox.client.create_user("王伟", language_code="zh-hans")
    await late.start(second)
    assert "兴庆区民政局" not in (await late.wait_for_reply())["text"]

    steps = await taizhang.query(lambda s: audit.trail(s, action_prefix="invite."))
    assert [(s.action, s.actor_user_id) for s in steps] == [
        ("invite.create", STAFF_ID),
        ("invite.create", STAFF_ID),
        ("invite.revoke", STAFF_ID),
    ]


async def test_a_viewer_may_look_but_not_create_and_a_contact_changes_nothing(taizhang):
    from storage.services.invites import find_unit
    from storage.services.staff import add_staff

    async def add_viewer(session):
        await add_staff(session, 900002, "李查看", role="viewer")
        await session.commit()

    await taizhang.query(add_viewer)
    zhou = await taizhang.contact("周琪")  # of 医保局, through an invite of the harness
    before = await invite_count(taizhang)

    viewer = await taizhang.sandbox.client.create_user(
        "李查看", user_id=900002, language_code="zh-hans", started=True
    )
    desk = await open_unit(viewer, "部门", "兴庆区医疗保障局")
    assert "周琪 · ✅ 可联系" in desk["text"] and "您的角色只能查看" in desk["text"]
    labels = [b["text"] for row in desk["reply_markup"]["inline_keyboard"] for b in row]
    assert not any("新建" in label or "撤销" in label for label in labels)

    unit = (await taizhang.query(lambda s: find_unit(s, "医保局"))).id
    forged = await viewer.forge_press(InviteAct(act="new", unit=unit).pack())
    assert "只有办公室管理员" in forged.text

    for act in (InviteAct(act="new", unit=unit), InviteAct(act="revoke_ok", invite=1)):
        pressed = await zhou.forge_press(act.pack())
        assert "仅限办公室工作人员" in pressed.text
    assert await invite_count(taizhang) == before
    assert not await taizhang.query(lambda s: audit.trail(s, action_prefix="invite."))
