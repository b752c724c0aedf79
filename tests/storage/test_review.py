"""Review: the office accepts a unit's submitted version or returns it (whole, or one task)
with a comment; the unit's contacts are told; a newer version awaits review again; viewers and
people who are not staff change nothing; every decision is in the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from scheduler import review_notices
from scheduler.notices import submit_and_tell_staff
from storage.models import OutboxMessage, ReviewDecision, Round
from storage.services import audit, review, staff, status
from storage.services.people import Membership
from storage.services.reporting import Actor, append_text, submit
from storage.services.review import ReviewError
from storage.services.staff import StaffError
from tests.scheduler.world import build_world

DUE = dt.date(2023, 10, 10)
AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
ADMIN, VIEWER, STRANGER = 801, 802, 803


async def _world(session):
    """单位1 (two contacts, one unreachable) submitted version 1; 单位2 submitted nothing."""
    world = await build_world(session, due=DUE, chat_ids=[[711, 712], [721]])
    world.contact(0, 1).reachable = False
    await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
    await staff.add_staff(session, VIEWER, "钱科员", staff.VIEWER)
    await _write(session, world, "已完成")
    await submit(session, _actor(world), world.round_id)
    await session.flush()
    return world


def _actor(world, at=AT) -> Actor:
    contact = world.contact(0)
    return Actor(world.unit_ids[0], contact.name, contact.id, at=at)


async def _write(session, world, text, task=0, at=AT):
    await append_text(session, _actor(world, at), world.round_id, world.task_ids[task], text)


async def test_return_a_task_then_resubmit_then_accept_with_notices_and_audit(sessions):
    async with sessions() as session:
        world = await _world(session)
        rid, uid, task = world.round_id, world.unit_ids[0], world.task_ids[1]
        told = await review_notices.return_and_tell(
            session, ADMIN, rid, uid, " 请补充\x00数据\u202e ", version=1, task_id=task, now=AT
        )
        assert told.decided.decision.comment == "请补充数据"
        assert (told.queued, told.notified, told.decided.unreachable) == (1, 1, 1)
        state = await review.unit_state(session, VIEWER, rid, uid)
        assert state.state == review.RETURNED and state.returned_task_numbers == [2]
        assert [d.comment for d in state.task_returns(task)] == ["请补充数据"]
        assert (await status.round_status(session, VIEWER, rid)).units[0].review == "returned"
        queue = (await session.exec(select(OutboxMessage))).all()
        assert [m.chat_id for m in queue if m.kind == "review"] == [711]
        notice = next(m for m in queue if m.kind == "review").payload
        assert "请补充数据" in notice["text"] and "rv:" in str(notice["reply_markup"])
        # The same return twice keeps nothing new and tells nobody again.
        again = await review_notices.return_and_tell(
            session, ADMIN, rid, uid, "请补充数据", version=1, task_id=task, now=AT
        )
        assert again.decided.already and again.queued == 0

        # The unit corrects task 2 and submits version 2: it awaits review again.
        later = AT + dt.timedelta(hours=1)
        await _write(session, world, "已补充数据", task=1, at=later)
        await submit(session, _actor(world, later), rid)
        state = await review.unit_state(session, ADMIN, rid, uid)
        assert (state.state, state.version, state.awaiting) == (review.RESUBMITTED, 2, True)
        assert state.returns == []
        detail = await status.unit_detail(session, ADMIN, rid, uid)
        assert detail.unit.review == "resubmitted"
        listed = await review.round_review(session, ADMIN, rid)
        assert [u.unit_id for u in listed.awaiting] == [uid] and listed.not_submitted == 1

        # Version 1 is no longer the latest: deciding on it is refused.
        with pytest.raises(ReviewError) as stale:
            await review.accept(session, ADMIN, rid, uid, version=1, now=later)
        assert stale.value.code == "stale" and stale.value.params == {"current": 2}
        told = await review_notices.accept_and_tell(session, ADMIN, rid, uid, version=2, now=later)
        assert told.notified == 1 and not told.decided.already
        assert (await review.unit_state(session, ADMIN, rid, uid)).state == review.ACCEPTED
        assert (await review.accept(session, ADMIN, rid, uid, now=later)).already
        await session.commit()

        steps = await audit.trail(session, round_id=rid, action_prefix="review.")
        assert [(e.action, e.actor_label, e.detail.get("version")) for e in steps] == [
            ("review.return", "张主任", 1),
            ("review.accept", "张主任", 2),
        ]
        assert steps[0].task_id == task and steps[0].detail["comment"] == "请补充数据"
        rows = (await session.exec(select(ReviewDecision).order_by(ReviewDecision.id))).all()
        assert [(r.decision, r.version, r.by_user_id) for r in rows] == [
            ("returned", 1, ADMIN),
            ("accepted", 2, ADMIN),
        ]


async def test_refusals_change_nothing(sessions):
    async with sessions() as session:
        world = await _world(session)
        rid, uid, other = world.round_id, world.unit_ids[0], world.unit_ids[1]
        with pytest.raises(StaffError) as viewer:
            await review.accept(session, VIEWER, rid, uid, version=1)
        assert viewer.value.code == "admin_only"
        with pytest.raises(StaffError) as stranger:
            await review.return_report(session, STRANGER, rid, uid, "不行", version=1)
        assert stranger.value.code == "not_staff"
        for call, code in (
            (review.accept(session, ADMIN, rid, other), "not_submitted"),
            (
                review.return_report(session, ADMIN, rid, uid, " \x01 ", version=1),
                "comment_needed",
            ),
            (review.return_report(session, ADMIN, rid, uid, "长" * 501), "comment_too_long"),
            (
                review.return_report(session, ADMIN, rid, uid, "意见", task_id=10**6),
                "not_assigned",
            ),
        ):
            with pytest.raises(ReviewError) as refused:
                await call
            assert refused.value.code == code
        (await session.get(Round, rid)).status = "closed"
        with pytest.raises(ReviewError) as closed:
            await review.return_report(session, ADMIN, rid, uid, "请修改")
        assert closed.value.code == "round_closed"
        assert (await session.exec(select(ReviewDecision))).all() == []
        assert await audit.trail(session, action_prefix="review.") == []


async def test_after_a_whole_return_submitting_unchanged_is_a_new_version_the_office_hears_of(
    sessions,
):
    async with sessions() as session:
        world = await _world(session)
        rid, uid = world.round_id, world.unit_ids[0]
        await review_notices.return_and_tell(session, ADMIN, rid, uid, "请核实", version=1, now=AT)
        contact = world.contact(0)
        membership = Membership(contact.id, uid, "单位1", "单位1", contact.name)
        later = AT + dt.timedelta(hours=2)
        receipt, _ = await submit_and_tell_staff(
            session, _actor(world, later), rid, membership, [ADMIN], now=later
        )
        assert (receipt.version, receipt.changes, receipt.answers_return) == (2, [], True)
        assert (await review.unit_state(session, ADMIN, rid, uid)).state == review.RESUBMITTED
        [notice] = [
            m for m in (await session.exec(select(OutboxMessage))).all() if m.chat_id == ADMIN
        ]
        assert "第 2 版" in notice.payload["text"] and "退回" in notice.payload["text"]
        # Without a return in force, submitting unchanged again makes no version.
        again, _ = await submit_and_tell_staff(
            session, _actor(world, later), rid, membership, [ADMIN], now=later
        )
        assert (again.version, again.answers_return) == (2, False)
