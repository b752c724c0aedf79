"""Broadcasts: each audience reaches exactly its recipients (one message per person); confirmed
once; 收到 recorded once; a cancel withdraws what is not yet on its way; progress is edited
only when it changed and not too often; bad input is refused with its reason."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlmodel import select

from scheduler import broadcasts as sb
from storage.models import Contact, OutboxMessage, Unit
from storage.services import broadcasts as bc
from storage.services import staff
from storage.services.broadcasts import BroadcastError
from storage.services.staff import OPERATOR, StaffError
from tests.scheduler.world import build_world, submit

DUE = dt.date(2023, 10, 10)
AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Shanghai
ADMIN, VIEWER, STRANGER = 801, 802, 803


async def _world(session):
    """单位1: 711 and 712 (unreachable); 单位2 (submitted): 721; 单位3 (a street office): 731,
    and 711 again (one person for two units); 单位4, in no task of the plan: 741; 单位5: nobody."""
    world = await build_world(session, due=DUE, chat_ids=[[711, 712], [721], [731, 711]])
    world.contact(0, 1).reachable = False
    third = await session.get(Unit, world.unit_ids[2])
    third.kind = "street"
    directory_id = third.directory_id
    for n, chats in ((4, [741]), (5, [])):
        unit = Unit(directory_id=directory_id, name=f"单位{n}", kind="township", position=n)
        session.add(unit)
        await session.flush()
        world.unit_ids.append(unit.id)
        session.add_all(
            Contact(unit_id=unit.id, telegram_user_id=c, chat_id=c, name=f"联系人{c}")
            for c in chats
        )
    await submit(session, world, 1, AT)
    await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
    await staff.add_staff(session, VIEWER, "钱科员", staff.VIEWER)
    await session.flush()
    return world


async def _draft(session, audience="all", **kwargs):
    values = {"text": "请于周五前报送。", "entities": [{"type": "bold", "offset": 0, "length": 2}]}
    values.update(kwargs)
    return await bc.create_draft(session, ADMIN, audience=audience, now=AT, **values)


async def _outbox(session):
    rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.chat_id))).all()
    return [row for row in rows if row.kind == "broadcast"]


async def test_each_audience_reaches_exactly_its_recipients(sessions):
    async with sessions() as session:
        world = await _world(session)
        u = world.unit_ids
        expected = {
            "all": ({711, 721, 731, 741}, ["单位5"]),
            "kind:street": ({711, 731}, []),
            "kind:township": ({741}, ["单位5"]),
            f"plan:{world.plan_id}": ({711, 721, 731}, []),
            f"late:{world.round_id}": ({711, 731}, []),
            f"units:{u[1]},{u[4]}": ({721}, ["单位5"]),
        }
        for spec, (chats, unreachable) in expected.items():
            found = await bc.reach(session, VIEWER, spec)
            assert {c.chat_id for c in found.contacts} == chats, spec
            assert found.people == len(chats) and found.unreachable_units == unreachable, spec
        assert await bc.parse_audience(session, "units:单位2,单位5") == f"units:{u[1]},{u[4]}"
        assert await bc.parse_audience(session, "plan:test-plan") == f"plan:{world.plan_id}"
        assert await bc.parse_audience(session, "kind:street") == "kind:street"
        with pytest.raises(BroadcastError):
            await bc.parse_audience(session, "kind:moon")

        # Confirmed: one message per person, with the text and its entities, not HTML.
        row = await _draft(session, "kind:street", ask_ack=True)
        await sb.confirm_and_queue(session, ADMIN, row.id, now=AT)
        messages = await _outbox(session)
        assert [m.chat_id for m in messages] == [711, 731]
        payload = messages[0].payload
        assert payload["text"] == "请于周五前报送。" and payload["parse_mode"] is None
        assert payload["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
        assert payload["reply_markup"]["inline_keyboard"][0][0]["text"] == "收到"
        recipients = await bc.acks_by_unit(session, VIEWER, row.id)
        assert [(r.label, len(r.not_delivered)) for r in recipients] == [("单位3", 2)]


async def test_confirm_once_and_only_by_an_admin(sessions):
    async with sessions() as session:
        await _world(session)
        row = await _draft(session)
        for who, code in ((VIEWER, "admin_only"), (STRANGER, "not_staff")):
            with pytest.raises(StaffError) as refused:
                await sb.confirm_and_queue(session, who, row.id, now=AT)
            assert refused.value.code == code
        await sb.confirm_and_queue(session, ADMIN, row.id, now=AT)
        assert len(await _outbox(session)) == 4
        with pytest.raises(BroadcastError) as twice:
            await sb.confirm_and_queue(session, ADMIN, row.id, now=AT)
        assert twice.value.code == "not_draft"
        with pytest.raises(BroadcastError) as again:
            await bc.confirm(session, ADMIN, row.id, now=AT)
        assert again.value.code == "already_confirmed"
        assert len(await _outbox(session)) == 4


async def test_acknowledged_once_and_reminders_only_to_those_who_have_not(sessions):
    async with sessions() as session:
        await _world(session)
        row = await _draft(session, ask_ack=True)
        await sb.confirm_and_queue(session, ADMIN, row.id, now=AT)
        await session.exec(update(OutboxMessage).values(status="sent", telegram_message_id=5))
        later = AT + dt.timedelta(minutes=5)
        first = await bc.acknowledge(session, 711, row.id, now=later)
        again = await bc.acknowledge(session, 711, row.id, now=later + dt.timedelta(hours=1))
        stranger = await bc.acknowledge(session, 999, row.id, now=later)
        assert (first.outcome, again.outcome, stranger.outcome) == (
            "recorded", "already", "not_recipient",
        )  # fmt: skip
        assert again.at == later
        found = await bc.progress(session, VIEWER, row.id)
        assert (found.recipients, found.sent, found.acknowledged) == (4, 4, 1)
        units = {u.label: u for u in await bc.acks_by_unit(session, VIEWER, row.id)}
        assert units["单位1"].acknowledged == ["联系人711"]  # 711 reads for 单位1 and 单位3
        assert units["单位3"].acknowledged == ["联系人711"]
        assert units["单位3"].waiting == ["联系人731"]
        queued = await sb.remind_unacknowledged(session, ADMIN, row.id, now=later)
        reminders = [m for m in await _outbox(session) if "remind" in m.dedupe_key]
        assert queued == 3 and sorted(m.chat_id for m in reminders) == [721, 731, 741]
        assert reminders[0].payload["reply_parameters"]["message_id"] == 5
        with pytest.raises(StaffError):
            await sb.remind_unacknowledged(session, VIEWER, row.id, now=later)


async def test_cancel_withdraws_what_has_not_gone_and_progress_is_paced(sessions):
    async with sessions() as session:
        await _world(session)
        row = await _draft(session)
        await sb.confirm_and_queue(session, OPERATOR, row.id, now=AT, progress_chat_id=1,
                                   progress_message_id=2)  # fmt: skip
        key = bc.outbox_key
        outbox = OutboxMessage.__table__
        marks = {711: ("sent", ""), 721: ("sending", "w1!"), 731: ("sending", "w1")}
        for chat, (status, claimed) in marks.items():
            await session.exec(
                update(OutboxMessage)
                .where(outbox.c.dedupe_key == key(row.id, chat))
                .values(status=status, claimed_by=claimed)
            )
        soon = AT + dt.timedelta(seconds=1)
        assert await sb.progress_job(session, now=soon, rate=25) == 0  # the last edit is new
        edits = await sb.progress_job(session, now=AT + dt.timedelta(seconds=3), rate=25)
        assert edits == 1
        edit = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "broadcast_progress"))).one()  # fmt: skip
        assert edit.method == "editMessageText" and edit.payload["message_id"] == 2
        assert (
            "1 sent · 0 failed · 3 pending" in edit.payload["text"]
            or "已发送 1" in (edit.payload["text"])
        )
        assert await sb.progress_job(session, now=AT + dt.timedelta(seconds=9), rate=25) == 0

        cancelled = await bc.cancel(session, ADMIN, row.id, now=AT + dt.timedelta(seconds=10))
        assert cancelled.withdrawn == 2  # 731 (claimed, not started) and 741 (queued)
        statuses = {m.chat_id: m.status for m in await _outbox(session)}
        assert statuses == {711: "sent", 721: "sending", 731: "withdrawn", 741: "withdrawn"}
        found = await bc.progress(session, VIEWER, row.id)
        assert (found.sent, found.pending, found.withdrawn) == (1, 1, 2)
        assert (await bc.cancel(session, ADMIN, row.id, now=AT)).already
        _, lines = await bc.delivery_report(session, VIEWER, row.id)
        assert {(line.contact, line.status) for line in lines} >= {
            ("联系人711", "sent"), ("联系人731", "withdrawn"), ("联系人712", "unreachable"),
        }  # fmt: skip


async def test_bad_input_is_refused_with_its_reason(sessions):
    async with sessions() as session:
        world = await _world(session)
        cases = {
            "empty_text": {"text": "  \n"},
            "too_long": {"text": "字" * 4097},
            "file_too_big": {
                "attachment_kind": "document",
                "attachment_file_id": "F",
                "attachment_size": 51 * 1024 * 1024,
            },
        }
        for code, values in cases.items():
            with pytest.raises(BroadcastError) as refused:
                await _draft(session, **values)
            assert refused.value.code == code
        with pytest.raises(BroadcastError) as caption:
            await _draft(
                session, text="字" * 1025, attachment_kind="photo", attachment_file_id="P"
            )
        assert caption.value.values == {"count": 1025, "limit": 1024}
        nobody = await _draft(session, f"units:{world.unit_ids[4]}")
        with pytest.raises(BroadcastError) as unreachable:
            await sb.confirm_and_queue(session, ADMIN, nobody.id, now=AT)
        assert unreachable.value.code == "nobody_reachable"
        assert (await bc.draft(session, ADMIN, nobody.id)).status == "draft"

        row = await _draft(session)
        times = {
            "time_past": "2023-09-25 09:00",
            "outside_hours": "2023-09-25 19:30",
            "not_workday": "2023-10-01 10:00",  # 国庆节
        }
        for code, local in times.items():
            with pytest.raises(BroadcastError) as refused:
                moment = sb.parse_time(local, "Asia/Shanghai", AT)
                await sb.schedule(session, ADMIN, row.id, moment, now=AT)
            assert refused.value.code == code
        at = sb.parse_time("15:30", "Asia/Shanghai", AT)
        await sb.schedule(session, ADMIN, row.id, at, now=AT)
        await sb.confirm_and_queue(session, ADMIN, row.id, now=AT)
        messages = await _outbox(session)
        assert {m.next_attempt_at for m in messages} == {at}
        assert (await bc.progress(session, VIEWER, row.id)).status == "scheduled"


async def test_the_end_is_estimated_at_the_senders_pace_until_a_slower_one_is_seen(sessions):
    async with sessions() as session:
        await build_world(session, due=DUE, chat_ids=[list(range(900, 1000))])
        await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
        row = await _draft(session)
        await sb.confirm_and_queue(session, OPERATOR, row.id, now=AT)

        async def send(count: int) -> None:
            queued = [m.id for m in await _outbox(session) if m.status == "queued"][:count]
            await session.exec(
                update(OutboxMessage).where(OutboxMessage.id.in_(queued)).values(status="sent")
            )

        def seconds_left(found, now) -> float:
            return (found.finishes_at - now).total_seconds()

        await send(2)  # the first round trips: two messages in two seconds
        now = AT + dt.timedelta(seconds=2)
        found = await bc.progress(session, ADMIN, row.id, now=now, rate=25)
        assert found.pending == 98 and seconds_left(found, now) == pytest.approx(98 / 25)
        await send(48)  # 50 in 20 s: half the pace set; the rest at that pace
        now = AT + dt.timedelta(seconds=20)
        found = await bc.progress(session, ADMIN, row.id, now=now, rate=5)
        assert seconds_left(found, now) == pytest.approx(50 / 2.5)
        faster = await bc.progress(session, ADMIN, row.id, now=now, rate=2)
        assert seconds_left(faster, now) == pytest.approx(50 / 2)  # never above the pace set


async def test_edits_of_the_progress_message_go_every_few_seconds_of_delivery(sessions):
    """An edit that still waits in the outbox is not followed by another; the next one waits
    `every` seconds from when the last one went, not from when it was queued."""
    async with sessions() as session:
        await _world(session)
        row = await _draft(session)
        await sb.confirm_and_queue(session, OPERATOR, row.id, now=AT, progress_chat_id=1,
                                   progress_message_id=2)  # fmt: skip

        async def mark(chat: int, status: str, at: dt.datetime | None = None) -> None:
            values = {"status": status, **({"sent_at": at} if at else {})}
            key = bc.outbox_key(row.id, chat) if chat else bc.progress_key(row.id, 1)
            await session.exec(
                update(OutboxMessage).where(OutboxMessage.dedupe_key == key).values(**values)
            )

        def at(seconds: float) -> dt.datetime:
            return AT + dt.timedelta(seconds=seconds)

        await mark(711, "sent")
        assert await sb.progress_job(session, now=at(3), every=3, rate=25) == 1
        await mark(721, "sent")
        assert await sb.progress_job(session, now=at(7), every=3, rate=25) == 0  # 1 waits
        await mark(0, "sent", at(8))  # the first edit went at 8 s
        assert await sb.progress_job(session, now=at(10), every=3, rate=25) == 0
        assert await sb.progress_job(session, now=at(11), every=3, rate=25) == 1
