"""The lead unit of a task reads what its co-units answered, from the task's card."""

from __future__ import annotations

from tests.e2e.phone import message_with, press, press_containing, screen, writing_task_1


async def test_the_lead_reads_a_co_units_draft_from_the_card(taizhang):
    zhou = await writing_task_1(taizhang)  # 医保局, responsible for task 1
    await zhou.send("医保局已在网站公开稳岗就业政策")
    await message_with(zhou, "已保存")

    office = await taizhang.contact("刘洋", unit="政府办")  # 政府办 leads task 1
    await office.send("/report")
    await screen(office, "已填 0 /")
    await press_containing(office, "第一个未填")
    await screen(office, "序号 1", "牵头")
    await press(office, "👥 协办单位填报情况")
    answers = await message_with(office, "医保局", "各责任单位填报情况")
    assert "医保局已在网站公开稳岗就业政策" in answers["text"]
    assert "草稿，未提交" in answers["text"]
