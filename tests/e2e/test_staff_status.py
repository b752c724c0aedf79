"""The office's /status in the bot: who has reported before and after a unit submits, a unit's
answers and versions, the chart, and nudges that reach exactly the units not yet submitted,
once a day; a viewer cannot nudge."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from handlers.staff_callbacks import NudgeAct
from ledger.report import load_report
from ledger.samples import sample_path
from storage.models import OutboxMessage
from storage.services import staff
from storage.services.report_import import import_report
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import buttons, message_with, press, press_containing, screen, text_of

VIEWER_ID = 900002


async def _office(taizhang, user_id: int = STAFF_ID, name: str = "张主任"):
    office = await taizhang.sandbox.client.create_user(
        name, user_id=user_id, language_code="zh-hans"
    )
    # What the bot tells the office on its own (a unit submitted, a contact unreachable) may
    # arrive between a press and the screen it changes.
    office.looks_past = lambda message: text_of(message).startswith(("📨", "⚠️"))
    await office.start()
    await office.wait_for_reply()
    return office


async def _nudges(taizhang) -> list[OutboxMessage]:
    async def rows(session):
        query = select(OutboxMessage).where(OutboxMessage.kind == "nudge")
        return list((await session.exec(query)).all())

    return await taizhang.query(rows)


async def test_status_before_and_after_a_unit_submits_with_its_answers_and_the_chart(taizhang):
    office = await _office(taizhang)
    await office.send("/status")
    before = text_of(await screen(office, "本轮共 28 个单位报送"))
    assert "⬜ 未开始：28" in before and "✅ 按时报送：0" in before
    assert "政府部门（13）" in before and "医保局" in before and "乡镇和街道（15）" in before

    zhou = await taizhang.contact("周琪")
    await zhou.send("/report")
    await screen(zhou, "已填 0 /")
    await press_containing(zhou, "第一个未填")
    await screen(zhou, "序号 1")
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "请发送进展落实情况")
    await zhou.send("已在政务公开专栏发布稳岗政策。")
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "稳岗政策")
    await press_containing(zhou, "📋")
    await screen(zhou, "已填 1 /")
    await press(zhou, "📨 提交")
    await message_with(zhou, "确认提交")
    await press(zhou, "✅ 确认提交")
    await message_with(zhou, "📨 回执")

    await press(office, "🔄 刷新")
    after = text_of(await screen(office, "✅ 按时报送：1"))
    assert "⬜ 未开始：27" in after and "政府部门（12）" in after
    assert "医保局" not in after.split("尚未报送")[1]

    await press(office, "🏢 单位明细")
    await screen(office, "点击单位查看")
    await press(office, "✅ 医保局")
    unit = text_of(await screen(office, "兴庆区医疗保障局", "第 1 版"))
    assert "已在政务公开专栏发布稳岗政策。" in unit and "✅ 周琪" in unit
    assert "📝 审核" in await buttons(office)
    assert "🔔 提醒该单位" not in await buttons(office)  # it has submitted

    await press(office, "📋 报送情况")
    await screen(office, "✅ 按时报送：1")
    await press(office, "📊 图表")
    view = await office.wait_until(
        lambda v: any(m.get("photo") for m in v.bot_messages), timeout=30
    )
    photo = next(m for m in view.bot_messages if m.get("photo"))
    assert "28 个单位中已报送 1 个" in text_of(photo)
    image = Image.open(io.BytesIO(await office.download(photo)))
    assert image.format == "PNG" and image.width == 1080


async def test_a_nudge_reaches_exactly_the_units_not_submitted_and_only_once_a_day(taizhang):
    zhou, li, wang = [
        await taizhang.contact(name, unit)
        for name, unit in (("周琪", "医保局"), ("李明", "民政局"), ("王芳", "掌政镇"))
    ]

    async def the_office_imports_yibao(session):  # 医保局's form, filed by the office
        report = load_report(sample_path("xingqing-2023-yibao-report.yaml"))
        await import_report(
            session, taizhang.round_id, report, source="yibao.yaml", at=taizhang.clock()
        )
        await staff.add_staff(session, VIEWER_ID, "钱科员", staff.VIEWER)
        await session.commit()

    await taizhang.query(the_office_imports_yibao)
    office = await _office(taizhang)
    await office.send("/status")
    await screen(office, "✅ 按时报送：1", "无可联系的联系人：25")
    await press(office, "🔔 提醒未报送单位")
    told = text_of(await message_with(office, "已加入发送队列"))
    assert "2 个单位，共 2 条提醒" in told and "民政局、掌政镇" in told
    assert "无法联系" in told and "医保局" not in told

    for contact in (li, wang):
        nudge = await message_with(contact, "办公室请贵单位", timeout=15)
        assert "立即填报" in str(nudge.get("reply_markup"))
    first = await _nudges(taizhang)
    assert sorted(row.chat_id for row in first) == sorted([li.id, wang.id])
    assert zhou.id not in {row.chat_id for row in first}

    await press(office, "🔔 提醒未报送单位")
    again = text_of(await message_with(office, "没有发送新的提醒"))
    assert "今天已提醒过" in again
    assert len(await _nudges(taizhang)) == 2

    # A viewer sees the status without the button, and a forged press changes nothing.
    viewer = await _office(taizhang, VIEWER_ID, "钱科员")
    await viewer.send("/status")
    await screen(viewer, "✅ 按时报送：1")
    assert not any("提醒" in b for b in await buttons(viewer))
    pressed = await viewer.forge_press(NudgeAct(act="all", round=taizhang.round_id).pack())
    assert "只有办公室管理员" in pressed.text
    assert len(await _nudges(taizhang)) == 2
