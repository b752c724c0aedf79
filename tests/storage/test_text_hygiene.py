"""What a person sends is cleaned where it enters storage, on SQLite and PostgreSQL alike.

PostgreSQL refuses a NUL byte in a text column; before cleaning, such an answer crashed the
handler and was lost.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from storage.models import Attachment, Contact, Revision, Unit
from storage.services import invites, people, reporting
from storage.services.reporting import Actor, ReportError
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def _world(session):
    world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[601]])
    contact = world.contact(0)
    actor = Actor(unit_id=world.unit_ids[0], label=contact.name, contact_id=contact.id, at=AT)
    return world, actor


async def test_a_nul_byte_in_an_answer_is_dropped_and_the_answer_saved(sessions) -> None:
    async with sessions() as session:
        world, actor = await _world(session)
        task = world.task_ids[0]
        await reporting.append_text(session, actor, world.round_id, task, "已完成\x00第一阶段\r\n")
        await reporting.append_text(
            session, actor, world.round_id, task, "\u202e附件\u2066见\u2069下\x1b"
        )
        await session.commit()
    async with sessions() as session:
        card = await reporting.card(session, world.round_id, world.unit_ids[0], task)
        (revision, second) = (await session.exec(select(Revision).order_by(Revision.id))).all()
    assert card.text == "已完成第一阶段\n附件见下"
    assert revision.new_text == "已完成第一阶段"
    assert second.old_text == "已完成第一阶段" and second.new_text == card.text


async def test_a_text_of_nothing_but_control_characters_is_refused(sessions) -> None:
    async with sessions() as session:
        world, actor = await _world(session)
        task = world.task_ids[0]
        for text in ("\x00", "\u202e \x07 \r\n"):
            with pytest.raises(ReportError) as refused:
                await reporting.append_text(session, actor, world.round_id, task, text)
            assert refused.value.code == "empty_text"
        await reporting.append_text(session, actor, world.round_id, task, "原文")
        with pytest.raises(ReportError) as refused:
            await reporting.replace_text(session, actor, world.round_id, task, "\x00\x00")
        assert refused.value.code == "empty_text"
        with pytest.raises(ReportError) as refused:
            await reporting.set_status(
                session, actor, world.round_id, task, "not_applicable", "\x00\u2067"
            )
        assert refused.value.code == "reason_needed"
        cleared = await reporting.replace_text(session, actor, world.round_id, task, "")
        assert cleared.entry.text == ""  # clearing on purpose still works


async def test_reasons_and_file_names_are_cleaned(sessions) -> None:
    async with sessions() as session:
        world, actor = await _world(session)
        task = world.task_ids[0]
        change = await reporting.set_status(
            session, actor, world.round_id, task, "not_applicable", "本单位\x00无此\u202d职责"
        )
        assert change.entry.reason == "本单位无此职责"
        attachment = await reporting.add_evidence(
            session,
            actor,
            world.round_id,
            task,
            kind="document",
            file_name="报告\u202excod.exe\x00\n",
            data=b"%PDF-1.4",
        )
        await session.commit()
    async with sessions() as session:
        (stored,) = (await session.exec(select(Attachment))).all()
    assert attachment.file_name == stored.file_name == "报告xcod.exe"


async def test_contact_names_and_phones_are_cleaned(sessions) -> None:
    async with sessions() as session:
        world, _ = await _world(session)
        unit = await session.get(Unit, world.unit_ids[0])
        created = await invites.create_invite(session, unit, now=AT)
        _contact, _, new = await invites.redeem_invite(
            session,
            created.token,
            telegram_user_id=777,
            chat_id=777,
            name="周\x00琪\u202e\n 科员",
            now=AT,
        )
        assert new
        await people.set_phone(session, 777, "+86\x00 138\u2066 0000 0000\r\n")
        await session.commit()
    async with sessions() as session:
        stored = (await session.exec(select(Contact).where(Contact.telegram_user_id == 777))).one()
    assert (stored.name, stored.phone) == ("周琪 科员", "+86 138 0000 0000")
