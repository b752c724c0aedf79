"""The 通报 service: late units with when they came, partly answered ones as not reported, staff
only (viewers too), audited; nothing to announce when every unit reported on time."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from storage.services import audit, notice
from storage.services.staff import StaffError
from tests.storage.test_status import ADMIN, AFTER, BEFORE, VIEWER, _actor, _mixed_round

NOW = AFTER + dt.timedelta(days=2)


async def test_the_notice_names_late_and_unreported_units_for_staff_and_is_audited(sessions):
    from storage.services.reporting import submit

    async with sessions() as session:
        world = await _mixed_round(session)  # 单位1 on time, 单位4 late, 单位2 partly, 单位3 none
        data = await notice.late_notice_data(session, ADMIN, world.round_id, now=NOW)
        assert [(u.name, u.submitted_at) for u in data.late] == [
            ("单位4", AFTER.astimezone(dt.timezone(dt.timedelta(hours=8))))
        ]
        assert [u.name for u in data.missing] == ["单位2", "单位3"]
        assert data.unit_count == 4 and data.issued_on == dt.date(2023, 10, 13)

        made = await notice.late_notice(
            session, VIEWER, world.round_id, now=NOW, issuer="区政务公开办", number="1号"
        )
        text = "\n".join(p.text for p in Document(io.BytesIO(made.payload)).paragraphs)
        assert "单位4（10月11日10时00分报送，逾期1天）" in text
        assert "单位2、单位3" in text and "区政务公开办" in text and "1号" in text
        assert not made.before_deadline
        [step] = await audit.trail(session, action_prefix="notice.")
        assert (step.action, step.actor_user_id, step.detail["late"]) == (
            "notice.late",
            VIEWER,
            ["单位4"],
        )

        with pytest.raises(StaffError):
            await notice.late_notice(session, 4242, world.round_id, now=NOW)
        with pytest.raises(notice.NoticeError) as bad:
            await notice.late_notice(session, ADMIN, world.round_id, now=NOW, template="正文")
        assert bad.value.code == "bad_template" and "标题" in bad.value.detail

        for index in (1, 2):  # the others submit in time: nobody is late or missing but 单位4
            await submit(session, _actor(world, index, BEFORE), world.round_id)
        made = await notice.late_notice(session, ADMIN, world.round_id, now=NOW)
        assert (made.late, made.missing) == (1, 0)
        await _everyone_on_time(session)
        with pytest.raises(notice.NoticeError) as nothing:
            await notice.late_notice(session, ADMIN, world.round_id, now=NOW)
        assert nothing.value.code == "nothing_to_announce"


async def _everyone_on_time(session) -> None:
    from sqlmodel import select

    from storage.models import Submission

    for row in (await session.exec(select(Submission))).all():
        row.on_time = True
    await session.flush()
