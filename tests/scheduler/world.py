"""A small ledger in the database for scheduler tests: units, contacts, tasks and one round."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Assignment,
    Contact,
    Directory,
    Item,
    Plan,
    ProgressEntry,
    Round,
    Section,
    Staff,
    Submission,
    Task,
    Unit,
)
from storage.services.plans import round_deadline


@dataclass
class World:
    plan_id: int
    round_id: int
    unit_ids: list[int]
    task_ids: list[int]
    contacts: dict[int, list[Contact]] = field(default_factory=dict)  # unit → its contacts

    def contact(self, unit_index: int, n: int = 0) -> Contact:
        return self.contacts[self.unit_ids[unit_index]][n]


async def build_world(
    session: AsyncSession,
    *,
    due: dt.date,
    chat_ids: list[list[int]],
    tasks: int = 3,
    task_dues: dict[int, dt.date] | None = None,
    staff_chat_ids: list[int] = (),
    plan_policy: dict | None = None,
    round_policy: dict | None = None,
    key: str = "test-plan",
) -> World:
    """One unit per entry of `chat_ids`, each with a contact per chat id; all tasks each."""
    directory = Directory(key=f"{key}-units")
    session.add(directory)
    await session.flush()
    plan = Plan(
        key=key,
        title="测试台账",
        layout="division",
        directory_id=directory.id,
        reminder_policy=plan_policy,
    )
    session.add(plan)
    await session.flush()
    section = Section(plan_id=plan.id, position=0)
    session.add(section)
    await session.flush()
    item = Item(plan_id=plan.id, section_id=section.id, position=0, title="重点工作")
    session.add(item)
    await session.flush()
    task_rows = []
    for number in range(1, tasks + 1):
        own_due = (task_dues or {}).get(number)
        task_rows.append(
            Task(
                plan_id=plan.id,
                item_id=item.id,
                number=number,
                position=number,
                content=f"{number}.任务内容{number}",
                due_date=own_due or due,
                due_kind="date",
            )
        )
    session.add_all(task_rows)
    round_ = Round(
        plan_id=plan.id,
        name="2023年报送",
        due_date=due,
        deadline_at=round_deadline(due, "Asia/Shanghai"),
        reminder_policy=round_policy,
    )
    session.add(round_)
    await session.flush()
    world = World(plan.id, round_.id, [], [t.id for t in task_rows])
    for index, chats in enumerate(chat_ids):
        unit = Unit(directory_id=directory.id, name=f"单位{index + 1}", kind="section")
        session.add(unit)
        await session.flush()
        world.unit_ids.append(unit.id)
        session.add_all(Assignment(task_id=t.id, unit_id=unit.id, role="responsible")
                        for t in task_rows)  # fmt: skip
        contacts = [
            Contact(unit_id=unit.id, telegram_user_id=chat, chat_id=chat, name=f"联系人{chat}")
            for chat in chats
        ]
        session.add_all(contacts)
        world.contacts[unit.id] = contacts
    for chat in staff_chat_ids:
        session.add(Staff(telegram_user_id=chat, chat_id=chat, name=f"staff {chat}"))
    await session.flush()
    return world


async def answer(session: AsyncSession, world: World, unit_index: int, task_index: int) -> None:
    session.add(
        ProgressEntry(
            round_id=world.round_id,
            unit_id=world.unit_ids[unit_index],
            task_id=world.task_ids[task_index],
            status="done",
            text="已完成",
            version=1,
        )
    )
    await session.flush()


async def submit(session: AsyncSession, world: World, unit_index: int, at: dt.datetime) -> None:
    unit_id = world.unit_ids[unit_index]
    session.add(
        Submission(
            round_id=world.round_id,
            unit_id=unit_id,
            receipt_no=f"TZ{world.round_id}-{unit_id}",
            submitted_at=at,
            on_time=True,
        )
    )
    await session.flush()
