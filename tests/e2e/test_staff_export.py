"""/export as office staff see it: pick what, watch the progress, get a document that opens and
prints what the unit submitted; an archive over the upload limit comes in parts, a file that
cannot be cut is refused with the command line; no PDF without LibreOffice; a contact's forged
export button makes nothing."""

from __future__ import annotations

import io
import zipfile

from docx import Document
from openpyxl import load_workbook

from handlers.staff_callbacks import ExportAct
from storage.services import audit
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import message_with, press, press_containing, screen, writing_task_1

ANSWER = "已在政府网站公开稳岗就业政策解读12篇。"


async def submits(taizhang, text: str = ANSWER):
    """周琪 of 医保局 writes task 1 and submits the report."""
    zhou = await writing_task_1(taizhang)
    await zhou.send(text)
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", text)
    await press_containing(zhou, "📋")
    await screen(zhou, "已填 1 /")
    await press(zhou, "📨 提交")
    await message_with(zhou, "确认提交")
    await press(zhou, "✅ 确认提交")
    await message_with(zhou, "📨 回执")
    return zhou


def documents(view) -> list[dict]:
    return [m for m in view.bot_messages if m.get("document")]


async def export(user, button: str, count: int = 1) -> list[dict]:
    """Press an export button; the documents that came of it."""
    before = len(documents(await user.read_chat()))
    await press(user, button)
    view = await user.wait_until(lambda v: len(documents(v)) >= before + count, timeout=20)
    return documents(view)[before:]


def docx_text(payload: bytes) -> str:
    form = Document(io.BytesIO(payload))
    cells = [c.text for t in form.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in form.paragraphs] + cells)


async def test_staff_export_the_ledger_a_unit_form_and_the_archive(taizhang):
    zhou = await submits(taizhang)
    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    await office.send("/export")
    menu = await message_with(office, "导出", "已提交：1 / 28 个单位")
    assert "报送中" in menu["text"]

    [word] = await export(office, "📄 汇总台账 · Word")
    assert word["document"]["file_name"].endswith("汇总台账.docx")
    assert "已提交 1 / 28 个单位" in word["caption"]
    assert ANSWER in docx_text(await office.download(word))
    await message_with(office, "汇总台账（Word）", "✅ 已发送")

    [sheet] = await export(office, "📊 汇总台账 · Excel")
    book = load_workbook(io.BytesIO(await office.download(sheet)), read_only=True)
    cells = [
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    ]
    assert any(ANSWER in cell for cell in cells)

    await press(office, "🏢 单位填报表")
    await message_with(office, "导出哪个单位的填报表？")
    [form] = await export(office, "✅ 兴庆区医疗保障局")
    assert "兴庆区医疗保障局" in form["document"]["file_name"]
    assert ANSWER in docx_text(await office.download(form))

    await press(office, "↩ 返回")  # the unit list gave way to the document; back on the menu
    [archive] = await export(office, "🗂 本轮归档 ZIP（全部材料）")
    with zipfile.ZipFile(io.BytesIO(await office.download(archive))) as opened:
        assert opened.testzip() is None
        names = opened.namelist()
        assert "manifest.json" in names and "汇总台账.xlsx" in names
        assert ANSWER in docx_text(opened.read("forms/兴庆区医疗保障局.docx"))
    progress = await message_with(office, "本轮归档（ZIP）", "✅ 已发送")
    assert "KB" in progress["text"]

    # A contact's forged export button is refused and makes nothing.
    pressed = await zhou.forge_press(
        ExportAct(act="file", round=taizhang.round_id, what="zip").pack()
    )
    assert "仅限办公室工作人员" in pressed.text
    assert not documents(await zhou.read_chat())
    steps = await taizhang.query(lambda s: audit.trail(s, action_prefix="export."))
    assert [(s.action, s.actor_user_id) for s in steps] == [
        ("export.docx", STAFF_ID),
        ("export.xlsx", STAFF_ID),
        ("export.unit", STAFF_ID),
        ("export.zip", STAFF_ID),
    ]


async def test_over_the_upload_limit_an_archive_comes_in_parts_and_a_ledger_is_refused(
    taizhang, monkeypatch
):
    from handlers import staff_export
    from ledger import pdf
    from storage.services.staff import add_staff

    await taizhang.query(lambda s: _add_viewer(s, add_staff))
    viewer = await taizhang.sandbox.client.create_user(
        "李查看", user_id=900002, language_code="zh-hans", started=True
    )
    await viewer.send("/export")
    await message_with(viewer, "请选择要导出的内容")

    monkeypatch.setattr(staff_export, "UPLOAD_LIMIT", 250_000)  # the archive is about 600 KB
    await press(viewer, "🗂 本轮归档 ZIP（全部材料）")
    done = await message_with(viewer, "✅ 已分", "个部分发送", timeout=20)
    parts = documents(await viewer.read_chat())
    count = len(parts)
    assert count >= 2 and f"已分 {count} 个部分发送" in done["text"]
    members: list[str] = []
    for number, part in enumerate(parts, 1):
        assert part["document"]["file_size"] < 250_000
        assert f"第 {number} 部分，共 {count} 部分" in part["caption"]
        with zipfile.ZipFile(io.BytesIO(await viewer.download(part))) as opened:
            assert opened.testzip() is None
            members += [n for n in opened.namelist() if n != "manifest.json"]
    assert len(members) == len(set(members)) == 28 + 2  # every form and the ledger, once

    monkeypatch.setattr(staff_export, "UPLOAD_LIMIT", 5_000)
    await press(viewer, "📄 汇总台账 · Word")
    refused = await message_with(viewer, "超过 Telegram 允许机器人发送的", "上限")
    assert f"taizhang export {taizhang.round_id} --format docx" in refused["text"]

    monkeypatch.setattr(pdf, "find_office", lambda: None)
    await press(viewer, "🖨 汇总台账 · PDF")
    await message_with(viewer, "未安装 LibreOffice", "Word")
    assert len(documents(await viewer.read_chat())) == count  # nothing more was sent


async def _add_viewer(session, add_staff):
    await add_staff(session, 900002, "李查看", role="viewer")
    await session.commit()
