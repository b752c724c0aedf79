"""The archive holds what was submitted: every version is kept, exports print the last one,
drafts are printed only when asked for and then marked; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document

from ledger.docx_forms import consolidated_cell_text
from storage.services import exports, reporting, submitted
from storage.services.reporting import Actor
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def _world(session):
    world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[701], [702]])
    actors = []
    for index in range(2):
        contact = world.contact(index)
        actors.append(
            Actor(unit_id=world.unit_ids[index], label=contact.name, contact_id=contact.id, at=AT)
        )
    return world, actors


def _later(actor: Actor, minutes: int) -> Actor:
    return Actor(
        actor.unit_id, actor.label, actor.contact_id, at=AT + dt.timedelta(minutes=minutes)
    )


async def test_an_edit_after_submitting_is_not_in_the_export_until_submitted(sessions):
    async with sessions() as session:
        world, (first, _) = await _world(session)
        task = world.task_ids[0]
        await reporting.append_text(session, first, world.round_id, task, "已提交的进展")
        await reporting.submit(session, first, world.round_id)
        later = _later(first, 5)
        await reporting.append_text(session, later, world.round_id, task, "未提交的修改")
        await session.commit()

    async with sessions() as session:
        archived = await exports.round_data(session, world.round_id)
        drafts = await exports.round_data(session, world.round_id, drafts=True)
        summary = await reporting.overview(session, world.round_id, first.unit_id)
    assert archived.answer("单位1", 1).text == "已提交的进展" and not archived.draft
    assert drafts.answer("单位1", 1).text == "已提交的进展\n未提交的修改" and drafts.draft
    assert summary.pending_changes == [1]

    async with sessions() as session:
        receipt = await reporting.submit(session, _later(first, 10), world.round_id)
        await session.commit()
    assert (receipt.version, receipt.changes) == (2, [1])
    async with sessions() as session:
        archived = await exports.round_data(session, world.round_id)
        versions = await submitted.versions_of(session, world.round_id, first.unit_id)
        kept = [await submitted.answers_of(session, v.id) for v in versions]
        summary = await reporting.overview(session, world.round_id, first.unit_id)
    assert archived.answer("单位1", 1).text == "已提交的进展\n未提交的修改"
    assert [(v.version, v.source, v.by_label) for v in versions] == [
        (1, "bot", first.label),
        (2, "bot", first.label),
    ]
    assert [k[task].text for k in kept] == ["已提交的进展", "已提交的进展\n未提交的修改"]
    assert summary.pending_changes == []


async def test_a_unit_that_never_submitted_prints_blank_and_is_listed_as_not_reported(sessions):
    async with sessions() as session:
        world, (first, second) = await _world(session)
        task = world.task_ids[0]
        await reporting.append_text(session, first, world.round_id, task, "单位1的进展")
        await reporting.submit(session, first, world.round_id)
        await reporting.append_text(session, second, world.round_id, task, "单位2的草稿")
        await session.commit()
    async with sessions() as session:
        archived = await exports.round_data(session, world.round_id)
        drafts = await exports.round_data(session, world.round_id, drafts=True)
        summary = await reporting.overview(session, world.round_id, second.unit_id)
    assert archived.answer("单位2", 1) is None
    cell = consolidated_cell_text(archived, 1)
    assert "单位1的进展" in cell and "未报送：单位2" in cell and "单位2的草稿" not in cell
    assert drafts.answer("单位2", 1).text == "单位2的草稿"
    assert summary.submission is None and summary.pending_changes == []


async def test_evidence_in_the_archive_is_what_was_submitted(sessions):
    async with sessions() as session:
        world, (first, _) = await _world(session)
        task = world.task_ids[0]

        async def attach(name: str, data: bytes, actor: Actor = first):
            await reporting.add_evidence(
                session, actor, world.round_id, task, kind="document", file_name=name, data=data
            )

        await reporting.append_text(session, first, world.round_id, task, "见附件")
        await attach("submitted.pdf", b"one")
        await reporting.submit(session, first, world.round_id)
        await attach("later.pdf", b"two", _later(first, 5))
        await session.commit()
    async with sessions() as session:
        archived = await exports.round_data(session, world.round_id, with_evidence=True)
        drafts = await exports.round_data(session, world.round_id, with_evidence=True, drafts=True)
        summary = await reporting.overview(session, world.round_id, first.unit_id)
    assert [e.filename for e in archived.evidence] == ["submitted.pdf"]
    assert [e.filename for e in drafts.evidence] == ["submitted.pdf", "later.pdf"]
    assert summary.pending_changes == [1]  # a new file is a change to submit


async def test_a_change_undone_is_nothing_to_submit(sessions):
    async with sessions() as session:
        world, (first, _) = await _world(session)
        task = world.task_ids[0]
        await reporting.append_text(session, first, world.round_id, task, "原文")
        await reporting.submit(session, first, world.round_id)
        await reporting.replace_text(session, _later(first, 1), world.round_id, task, "改过")
        assert (await reporting.overview(session, world.round_id, first.unit_id)).pending_changes
        await reporting.replace_text(session, _later(first, 2), world.round_id, task, "原文")
        summary = await reporting.overview(session, world.round_id, first.unit_id)
        receipt = await reporting.submit(session, _later(first, 3), world.round_id)
    assert summary.pending_changes == []
    assert (receipt.version, receipt.changes) == (1, [])


async def test_the_contacts_preview_is_marked_unless_it_is_the_submitted_version(sessions):
    async with sessions() as session:
        world, (first, _) = await _world(session)
        task = world.task_ids[0]
        await reporting.append_text(session, first, world.round_id, task, "进展")
        never = await exports.preview_form(session, world.round_id, first.unit_id)
        await reporting.submit(session, first, world.round_id)
        same = await exports.preview_form(session, world.round_id, first.unit_id)
        await reporting.append_text(session, _later(first, 1), world.round_id, task, "再补充")
        changed = await exports.preview_form(session, world.round_id, first.unit_id)

    def marks(payload: bytes) -> list[str]:
        form = Document(io.BytesIO(payload))
        return [section.header.paragraphs[0].text for section in form.sections]

    assert never.draft and all("草稿，未提交" in m for m in marks(never.data))
    assert not same.draft and same.version == 1 and not any(marks(same.data))
    assert changed.draft and all("草稿，未提交" in m for m in marks(changed.data))
