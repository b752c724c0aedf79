"""What the contact sees of the submitted version: a draft preview is marked, the receipt is
the last message of a submission, and changes made afterwards are shown as not submitted."""

from __future__ import annotations

import io

from docx import Document
from sqlmodel import select

from storage.models import SubmissionVersion, SubmittedAnswer
from tests.e2e.phone import last_reply, message_with, press, press_containing, screen, text_of


async def preview(user) -> tuple[dict, Document]:
    """Press 预览台账 and return the document message that came, and the form in it."""
    before = len([m for m in (await user.read_chat()).bot_messages if m.get("document")])
    await press(user, "📄 预览台账")
    view = await user.wait_until(
        lambda v: len([m for m in v.bot_messages if m.get("document")]) > before, timeout=15
    )
    message = [m for m in view.bot_messages if m.get("document")][-1]
    return message, Document(io.BytesIO(await user.download(message)))


def header_marks(form: Document) -> list[str]:
    return [section.header.paragraphs[0].text for section in form.sections]


async def submit_and_check_the_receipt_is_last(user, *words: str) -> dict:
    await press(user, "✅ 确认提交")
    receipt = await message_with(user, "📨 回执", *words)
    last = last_reply(user, await user.read_chat())
    assert last["message_id"] == receipt["message_id"], text_of(last)
    assert "未提交" not in text_of(last)
    return receipt


async def test_preview_marks_drafts_and_the_receipt_comes_last(taizhang):
    zhou = await taizhang.contact("周琪")
    await zhou.send("/report")
    await screen(zhou, "兴庆区医疗保障局", "已填 0 /")
    await press_containing(zhou, "第一个未填")
    await screen(zhou, "序号 1")
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "序号 1：请发送进展落实情况")
    await zhou.send("第一版进展。")
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "第一版进展。")

    # Before submitting, the preview is a draft on every page.
    await press_containing(zhou, "📋")
    await screen(zhou, "已填 1 /")
    document, form = await preview(zhou)
    assert "草稿，未提交" in text_of(document)
    assert header_marks(form) and all("草稿，未提交" in h for h in header_marks(form))

    # Submitting from the list above the document: the receipt comes below it, last.
    await press(zhou, "📨 提交")
    await message_with(zhou, "确认提交")
    await submit_and_check_the_receipt_is_last(zhou, "第 1 版")

    # The submitted version previews without the mark.
    await press(zhou, "📋 返回列表")
    await screen(zhou, "已提交，第 1 版")
    document, form = await preview(zhou)
    assert "第 1 版" in text_of(document) and "草稿" not in text_of(document)
    assert not any(header_marks(form))

    # A change after submitting: the list says so, with a button to submit it.
    await press_containing(zhou, "🟡 1. ")  # on the list, above the document
    await message_with(zhou, "序号 1", "第一版进展。", live=True)
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "序号 1：请发送进展落实情况")
    await zhou.send("补充的进展。")
    await screen(zhou, "已保存")
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "补充的进展。")
    await press_containing(zhou, "📋")
    await screen(zhou, "修改未提交（第 1 项）")
    document, form = await preview(zhou)
    assert "草稿，未提交" in text_of(document) and all(header_marks(form))

    await press(zhou, "📨 提交修改")
    await message_with(zhou, "确认提交")
    await submit_and_check_the_receipt_is_last(zhou, "第 2 版", "已报送修改")

    async def versions(session):
        rows = (
            await session.exec(
                select(SubmissionVersion.version, SubmittedAnswer.text)
                .join(SubmittedAnswer, SubmittedAnswer.version_id == SubmissionVersion.id)
                .where(SubmissionVersion.round_id == taizhang.round_id)
                .order_by(SubmissionVersion.version)
            )
        ).all()
        return [tuple(row) for row in rows]

    assert await taizhang.query(versions) == [
        (1, "第一版进展。"),
        (2, "第一版进展。\n补充的进展。"),
    ]
