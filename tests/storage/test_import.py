"""Importing plans and units is safe to repeat and keeps answers already entered."""

from __future__ import annotations

import dataclasses

from sqlmodel import SQLModel, select

from ledger.plan_yaml import load_plan
from ledger.samples import sample_path
from ledger.units import load_units
from storage.models import Assignment, ProgressEntry, Round, Task, Unit
from storage.services.directories import import_directory
from storage.services.plans import (
    add_round,
    import_plan,
    load_ledger_plan,
    override_assignment,
    plan_overview,
)


async def import_samples(session, plan_name: str = "xingqing-2023", units: str = "xingqing-units"):
    await import_directory(session, load_units(sample_path(f"{units}.yaml")))
    result = await import_plan(session, load_plan(sample_path(f"{plan_name}.yaml")))
    await session.commit()
    return result


async def snapshot(session) -> dict[str, list[tuple]]:
    """Every row of every table, as plain tuples."""
    tables = {}
    connection = await session.connection()
    for name, table in SQLModel.metadata.tables.items():
        rows = (await connection.execute(select(table))).all()
        tables[name] = sorted(tuple(map(repr, row)) for row in rows)
    return tables


async def test_importing_twice_changes_nothing(sessions):
    async with sessions() as session:
        first = await import_samples(session)
        assert first.created and first.changed
        before = await snapshot(session)
    async with sessions() as session:
        second = await import_samples(session)
        assert not second.changed
        assert await snapshot(session) == before


async def test_sample_plan_counts_and_assignments(sessions):
    async with sessions() as session:
        await import_samples(session)
        overview = await plan_overview(session, "xingqing-2023")
    assert (overview["sections"], overview["items"], overview["tasks"]) == (4, 16, 33)
    task1 = overview["task_list"][0]
    assert task1["lead"] == ["兴庆区人民政府办公室"]
    assert "兴庆区医疗保障局" in task1["responsible"]
    task3 = next(t for t in overview["task_list"] if t["number"] == 3)
    assert task3["lead"] == []
    assert task3["responsible"] == ["兴庆区民政局", "兴庆区卫生健康局", "兴庆区医疗保障局"]
    task17 = next(t for t in overview["task_list"] if t["number"] == 17)
    assert task17["pending_groups"] == ["各决策单位"]
    assert task17["responsible"] == []
    assert "各决策单位" in overview["pending_groups"]
    assert [r["due"] for r in overview["rounds"]] == ["2023-08-10", "2023-12-01"]


async def test_division_sample_expands_all_sections(sessions):
    async with sessions() as session:
        await import_samples(session, "yibao-2023", "yibao-units")
        overview = await plan_overview(session, "yibao-2023")
    assert (overview["sections"], overview["items"], overview["tasks"]) == (0, 15, 30)
    measure1 = overview["task_list"][0]
    assert sorted(measure1["responsible"]) == sorted(
        ["办公室", "综合科", "医保基金监管科", "稽核监控科", "医疗保障科"]
    )
    assert overview["unresolved"] == []


async def test_corrected_plan_updates_in_place_and_keeps_progress(sessions):
    async with sessions() as session:
        await import_samples(session)
        round_ = (await session.exec(select(Round).where(Round.due_date.is_not(None)))).first()
        task3 = (await session.exec(select(Task).where(Task.number == 3))).one()
        unit = (await session.exec(select(Unit).where(Unit.short_name == "医保局"))).one()
        session.add(
            ProgressEntry(
                round_id=round_.id,
                unit_id=unit.id,
                task_id=task3.id,
                status="done",
                text="发布重点民生政策300条",
            )
        )
        await session.commit()
        task3_id = task3.id

    corrected = load_plan(sample_path("xingqing-2023.yaml"))
    item = corrected.item_of(3)
    index = next(i for i, t in enumerate(item.tasks) if t.number == 3)
    item.tasks[index] = dataclasses.replace(
        item.tasks[index],
        content="加大重点民生政策推送力度（修订）",
        responsibility="责任部门：医保局",
    )
    async with sessions() as session:
        result = await import_plan(session, corrected, replace_assignments=True)
        await session.commit()
        assert result.tasks_updated == [3]
        assert result.assignments_changed > 0
        task3 = (await session.exec(select(Task).where(Task.number == 3))).one()
        assert task3.id == task3_id and task3.content.endswith("（修订）")
        entry = (await session.exec(select(ProgressEntry))).one()
        assert (entry.task_id, entry.text) == (task3_id, "发布重点民生政策300条")
        units = (
            await session.exec(
                select(Unit.name).join(Assignment).where(Assignment.task_id == task3_id)
            )
        ).all()
        assert units == ["兴庆区医疗保障局"]


async def test_plan_round_trips_through_the_database(sessions):
    for name, units in (("xingqing-2023", "xingqing-units"), ("yibao-2023", "yibao-units")):
        async with sessions() as session:
            await import_samples(session, name, units)
            assert await load_ledger_plan(session, name) == load_plan(sample_path(f"{name}.yaml"))


async def test_staff_override_replaces_printed_assignment(sessions):
    async with sessions() as session:
        await import_samples(session)
        unresolved = await override_assignment(
            session, "xingqing-2023", 17, lead=["政府办"], responsible=["发改局", "不存在局"]
        )
        overview = await plan_overview(session, "xingqing-2023")
        task17 = next(t for t in overview["task_list"] if t["number"] == 17)
        assert task17["overridden"]
        assert task17["lead"] == ["兴庆区人民政府办公室"]
        assert task17["responsible"] == ["兴庆区发展和改革局"]
        assert [u.name for u in unresolved] == ["不存在局"]
        await override_assignment(session, "xingqing-2023", 17, [], [])
        overview = await plan_overview(session, "xingqing-2023")
        assert next(t for t in overview["task_list"] if t["number"] == 17)["pending_groups"]


async def test_round_add_is_idempotent_and_closes_at_local_midnight(sessions):
    async with sessions() as session:
        await import_samples(session)
        import datetime as dt

        first = await add_round(session, "xingqing-2023", dt.date(2024, 3, 15), "一季度")
        again = await add_round(session, "xingqing-2023", dt.date(2024, 3, 15))
        assert first.id == again.id
        # Asia/Shanghai is UTC+8: the 15th ends at 16:00 UTC that day.
        assert first.deadline_at == dt.datetime(2024, 3, 15, 16, 0, tzinfo=dt.UTC)
