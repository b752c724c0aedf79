"""The 通报 from the phone: on /status a staff member picks last year's August round, where
医保局's form was filed after the deadline, and presses 📣 通报; a Word document arrives that
names the unit that reported late, with when, and the units that did not report."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from sqlmodel import select

from ledger.report import load_report
from ledger.samples import sample_path
from storage.models import Round
from storage.services import audit
from storage.services.report_import import import_report
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import press, press_containing, screen, text_of
from tests.e2e.test_staff_export import documents


async def _file_late_in_august(session) -> None:
    in_august = select(Round).where(Round.due_date == dt.date(2023, 8, 10))
    august = (await session.exec(in_august)).one()
    report = load_report(sample_path("xingqing-2023-yibao-report.yaml"))
    late = dt.datetime(2023, 8, 14, 2, 0, tzinfo=dt.UTC)  # four days after the deadline
    await import_report(session, august.id, report, source="late.yaml", at=late)
    await session.commit()


async def test_staff_press_the_notice_button_and_get_the_word_document(taizhang):
    await taizhang.query(_file_late_in_august)
    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans"
    )
    office.looks_past = lambda message: text_of(message).startswith(("📨", "⚠️"))
    await office.start()
    await office.wait_for_reply()
    await office.send("/status")
    await screen(office, "本轮共 28 个单位报送")
    await press(office, "🗓 其他轮次")
    await screen(office, "请选择轮次")
    await press_containing(office, "2023-08-10")
    await screen(office, "2023年8月10日报送")

    assert await press(office, "📣 通报") == "正在生成通报…"
    view = await office.wait_until(lambda v: len(documents(v)) >= 1, timeout=20)
    [sent] = documents(view)
    assert sent["document"]["file_name"] == "通报-2023年8月10日报送.docx"
    assert "逾期报送 1 个单位，未报送 27 个单位" in sent["caption"]
    paragraphs = [p.text for p in Document(io.BytesIO(await office.download(sent))).paragraphs]
    assert paragraphs[0] == "银川市兴庆区人民政府办公室"  # the masthead: the plan's issuer
    late = paragraphs.index(next(p for p in paragraphs if p.startswith("二、逾期报送单位")))
    assert paragraphs[late + 1].startswith("政府部门（1个）：兴庆区医疗保障局（")
    assert "逾期" in paragraphs[late + 1]
    missing = "\n".join(paragraphs[:late])
    assert "兴庆区民政局" in missing and "掌政镇人民政府" in missing
    assert "兴庆区医疗保障局" not in missing
    [step] = await taizhang.query(lambda s: audit.trail(s, action_prefix="notice."))
    assert (step.action, step.actor_user_id) == ("notice.late", STAFF_ID)
