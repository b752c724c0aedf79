"""The status screens stay one Telegram message each, in valid HTML, with buttons of at most
64 bytes, for a directory of 500 units and answers of thousands of characters, in both
languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.i18n import CatalogI18n
from handlers import render_status as rs
from sandbox.formatting import parse_html
from scheduler.nudges import NudgeResult
from storage.services import status as st
from storage.services.staff import StaffMember

ADMIN = StaffMember(1, "张主任", "admin")
VIEWER = StaffMember(2, "钱科员", "viewer")
NOW = dt.datetime(2026, 3, 17, 2, 0, tzinfo=dt.UTC)
KINDS = ("department", "township", "street", "section")


def _big_round() -> st.RoundStatus:
    units = [
        st.UnitStatus(
            unit_id=1_000_000 + n,
            name=f"兴庆区第{n}号<单位> & 附属机构名称很长很长",
            short_name=f"单位{n}<&>" if n % 3 else "",
            kind=KINDS[n % 4],
            state=st.STATES[n % 4],
            answered=n % 33,
            total=33,
            reachable_contacts=n % 2,
            version=n % 3,
            pending_changes=[1, 2, 3] if n % 7 == 0 else [],
        )
        for n in range(500)
    ]
    tasks = [st.TaskCount(n, n, "很长的任务名称" * 3, n % 20, 500) for n in range(1, 61)]
    return st.RoundStatus(
        round_id=1_000_000,
        round_name="2026年3月报送<>&",
        plan_key="xingqing-2023",
        plan_title="银川市兴庆区人民政府办公室2023年政务公开工作要点任务落实台账 & <附件>",
        due_date=dt.date(2026, 3, 16),
        deadline_at=dt.datetime(2026, 3, 16, 16, 0, tzinfo=dt.UTC),
        timezone="Asia/Shanghai",
        open=True,
        units=units,
        tasks=tasks,
        overdue=True,
        as_of=NOW,
    )


def _big_unit() -> st.UnitDetail:
    at = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    return st.UnitDetail(
        round_id=1_000_000,
        round_name="2026年3月报送",
        due_date=dt.date(2026, 3, 16),
        timezone="Asia/Shanghai",
        open=True,
        unit=_big_round().units[1],
        answers=[
            st.AnswerLine(
                task_id=n,
                number=n,
                title="任务<名称>" * 4,
                role="responsible",
                status="done" if n % 2 else "not_applicable",
                text=("进展<b>&amp;" * 2000) if n % 2 else "",
                reason="" if n % 2 else "本单位不涉及 & <理由>" * 100,
                evidence=n % 3,
                answered=True,
                changed=n % 5 == 0,
            )
            for n in range(1, 34)
        ],
        versions=[st.VersionLine(v, at, "周琪<&>", "bot") for v in range(1, 12)],
        contacts=[
            st.ContactLine(n, f"联系人<{n}>", "138", n % 2 == 0, "blocked") for n in range(8)
        ],
    )


def _check(text: str, markup=None) -> None:
    plain, _ = parse_html(text)  # raises as Telegram would on broken HTML
    assert 0 < len(plain) <= 4096 and len(text) <= 4096
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            assert len(button.callback_data.encode()) <= 64, button.callback_data


@pytest.fixture(params=["zh_CN", "en"])
def language(request):
    i18n = CatalogI18n()
    with i18n.context(), i18n.use_locale(request.param):
        yield request.param


def test_every_status_screen_fits_one_message(language):
    result = _big_round()
    _check(rs.status_text(result), rs.status_keyboard(result, ADMIN))
    for page in range(0, 40, 7):
        _check(rs.units_text(result, page), rs.units_keyboard(result, page))
    for page in (0, 1, 5):
        _check(rs.tasks_text(result, page), rs.tasks_keyboard(result, page))
    detail = _big_unit()
    for page in range(7):
        _check(rs.unit_text(detail, page), rs.unit_keyboard(detail, page, ADMIN))
    names = [u.label for u in result.units]
    told = NudgeResult(1, "轮次", NOW.date(), 3, names[:200], names[200:300], names[300:])
    _check(rs.nudge_text(told))


def test_the_summary_cuts_long_lists_of_names(language):
    text = rs.status_text(_big_round())
    more = "等" if language == "zh_CN" else "more"
    assert more in text and "&lt;&amp;&gt;" in text and "<&>" not in text


def test_a_viewer_has_no_nudge_button(language):
    result = _big_round()
    datas = [b.callback_data for row in rs.status_keyboard(result, VIEWER).inline_keyboard
             for b in row]  # fmt: skip
    assert not any(d.startswith("sn:") for d in datas)
    assert any(
        b.callback_data.startswith("sn:")
        for row in rs.status_keyboard(result, ADMIN).inline_keyboard
        for b in row
    )
