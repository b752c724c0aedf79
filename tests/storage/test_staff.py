"""Who is staff is the database's answer: roles, STAFF_IDS written in, the audit trail."""

from __future__ import annotations

import pytest

from storage.services import audit, staff
from storage.services.staff import StaffError


async def test_a_viewer_may_look_but_not_change(sessions):
    async with sessions() as session:
        await staff.add_staff(session, 501, "钱科员", staff.VIEWER)
        member = await staff.authorize(session, 501)
        assert member.role == staff.VIEWER and member.name == "钱科员"
        with pytest.raises(StaffError) as refused:
            await staff.authorize(session, 501, admin=True)
        assert refused.value.code == "admin_only"


async def test_someone_not_staff_is_refused_even_with_a_made_up_member(sessions):
    async with sessions() as session:
        with pytest.raises(StaffError) as refused:
            await staff.authorize(session, 777)
        assert refused.value.code == "not_staff"
        forged = staff.StaffMember(777, "冒充", staff.ADMIN)
        with pytest.raises(StaffError):
            await staff.authorize(session, forged, admin=True)


async def test_staff_ids_become_admins_and_leave_when_taken_out(sessions):
    async with sessions() as session:
        await staff.add_staff(session, 602, "孙主任", staff.VIEWER)
        await staff.sync_configured(session, [601, 602])
        assert (await staff.authorize(session, 601, admin=True)).is_admin
        # One added at the command line keeps the role it was given there.
        assert (await staff.authorize(session, 602)).role == staff.VIEWER
        await staff.sync_configured(session, [])
        assert await staff.find(session, 601) is None
        assert await staff.find(session, 602) is not None


async def test_a_configured_member_is_named_after_telegram_once_and_a_given_name_kept(sessions):
    async with sessions() as session:
        await staff.sync_configured(session, [603])
        await staff.add_staff(session, 604, "孙主任", staff.VIEWER)
        configured = await staff.authorize(session, 603)
        named = await staff.remember_name(session, configured, "张\x00 伟")
        assert named.name == "张 伟" and named.label == "张 伟"
        await staff.sync_configured(session, [603])  # a restart keeps it
        assert (await staff.authorize(session, 603)).name == "张 伟"
        kept = await staff.remember_name(session, await staff.authorize(session, 604), "Sun")
        assert kept.name == "孙主任"


async def test_removing_a_member_takes_the_rights_away(sessions):
    async with sessions() as session:
        await staff.add_staff(session, 503, "赵", staff.ADMIN)
        await staff.remove_staff(session, 503)
        with pytest.raises(StaffError):
            await staff.authorize(session, 503)


async def test_the_audit_trail_keeps_who_did_what_in_order(sessions):
    async with sessions() as session:
        member, _ = await staff.add_staff(session, 504, "周科长", staff.ADMIN)
        await audit.record(session, member, "nudge.round", detail={"queued": 3})
        await audit.record(session, staff.OPERATOR, "staff.remove", detail={"user": 9})
        await session.commit()
        events = await audit.trail(session)
        assert [(e.actor_label, e.action) for e in events] == [
            ("周科长", "nudge.round"),
            ("command line", "staff.remove"),
        ]
        assert events[0].actor_user_id == 504 and events[0].detail == {"queued": 3}
