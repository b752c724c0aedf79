"""Re-importing a plan never silently drops who answers for its tasks (issue 13, part 4)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from sqlmodel import select

from ledger.docx_forms import blank_form_bytes
from ledger.form_import import read_plan_docx
from ledger.plan_yaml import load_plan
from ledger.samples import sample_path
from storage.models import Assignment, Plan, Task, Unit
from storage.services.plans import (
    AssignmentsWouldBeRemoved,
    import_plan,
    load_ledger_plan,
)
from tests.storage.test_import import import_samples, snapshot


async def assignments(session) -> set[tuple[int, str, str]]:
    rows = (
        await session.exec(
            select(Task.number, Unit.name, Assignment.role)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Unit, Unit.id == Assignment.unit_id)
        )
    ).all()
    return set(rows)


async def test_the_plans_own_word_form_reimports_without_its_directory_and_keeps_units(sessions):
    """The form names no units directory: the plan keeps its own, every assignment stays."""
    async with sessions() as session:
        await import_samples(session)
        before = await assignments(session)
        assert len(before) > 400
        form = blank_form_bytes(await load_ledger_plan(session, "xingqing-2023"))
    word = read_plan_docx(io.BytesIO(form), key="xingqing-2023", source="xingqing-2023.docx").plan
    assert word.directory == ""  # a Word form never says which directory its units are in
    async with sessions() as session:
        result = await import_plan(session, word)
        await session.commit()
        assert result.assignments_changed == 0 and result.assignments_removed == []
        assert await assignments(session) == before
        plan = (await session.exec(select(Plan))).one()
        assert plan.directory_key == "xingqing" and plan.directory_id is not None


def _task3_only(responsibility: str):
    plan = load_plan(sample_path("xingqing-2023.yaml"))
    item = plan.item_of(3)
    index = next(i for i, t in enumerate(item.tasks) if t.number == 3)
    item.tasks[index] = dataclasses.replace(item.tasks[index], responsibility=responsibility)
    return plan


async def test_same_units_written_otherwise_keep_their_assignments(sessions):
    async with sessions() as session:
        await import_samples(session)
        before = await assignments(session)
    # 民政局、卫健局、医保局 by full names and another label: the same three units.
    plan = _task3_only("责任单位：兴庆区民政局，兴庆区卫生健康局，兴庆区医疗保障局")
    async with sessions() as session:
        result = await import_plan(session, plan)
        await session.commit()
        assert result.tasks_updated == [3]
        assert result.assignments_changed == 0 and not result.assignments_removed
        assert await assignments(session) == before


async def test_an_import_that_would_remove_assignments_lists_them_and_saves_nothing(sessions):
    async with sessions() as session:
        await import_samples(session)
        before = await snapshot(session)
    plan = _task3_only("责任部门：医保局")
    async with sessions() as session:
        with pytest.raises(AssignmentsWouldBeRemoved) as caught:
            await import_plan(session, plan)
        await session.rollback()
        removed = caught.value.result.assignments_removed
        assert [(r.task, r.unit, r.role) for r in removed] == [
            (3, "兴庆区民政局", "responsible"),
            (3, "兴庆区卫生健康局", "responsible"),
        ]
        assert removed[0].responsibility == "责任部门：医保局"
        assert "task 3: 兴庆区民政局 (responsible)" in str(caught.value)
        assert "--replace-assignments" in str(caught.value)
        assert await snapshot(session) == before

    async with sessions() as session:
        result = await import_plan(session, plan, replace_assignments=True)
        await session.commit()
        assert len(result.assignments_removed) == 2
        task3 = {(n, u) for n, u, _ in await assignments(session) if n == 3}
        assert task3 == {(3, "兴庆区医疗保障局")}


async def test_a_directory_that_is_not_loaded_never_empties_the_plan(sessions):
    async with sessions() as session:
        await import_samples(session)
        before = await snapshot(session)
    plan = load_plan(sample_path("xingqing-2023.yaml"))
    plan.directory = "not-loaded-units"
    async with sessions() as session:
        with pytest.raises(AssignmentsWouldBeRemoved) as caught:
            await import_plan(session, plan)
        await session.rollback()
        removed = caught.value.result.assignments_removed
        assert len(removed) > 400 and {r.why for r in removed} == {"no_directory"}
        assert "directory is not loaded" in str(removed[0])
        assert await snapshot(session) == before
