"""`taizhang notice late ROUND -o 通报.docx` and `taizhang notice template`."""

from __future__ import annotations

import io

from docx import Document

from storage.services.reporting import submit
from tests.cli_helpers import in_database, make_cli
from tests.storage.test_status import AFTER, _actor, _world


def test_notice_late_writes_the_word_file_and_template_prints_the_default(
    database_url, monkeypatch, tmp_path
):
    cli = make_cli(database_url, monkeypatch, tmp_path)

    async def build(session):
        world = await _world(session, units=2)
        await submit(session, _actor(world, 0, AFTER), world.round_id)
        return world

    world = in_database(database_url, build)
    template = tmp_path / "mine.md"
    template.write_text(
        "文号：{number}\n# 关于{round}的通报\n\n逾期：{late_names}。未报送：{missing_names}。\n"
        "落款：{issuer}\n日期：{date}\n"
    )
    out = tmp_path / "通报.docx"
    result = cli(
        "notice", "late", str(world.round_id), "-o", str(out), "--template", str(template),
        "--issuer", "政务公开办", "--number", "公开〔2023〕3号", "--date", "2023-10-12",
    )  # fmt: skip
    assert "1 late, 1 not reported, of 2 units" in result.stdout
    text = [p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert text == [
        "公开〔2023〕3号",
        "关于2023年报送的通报",
        "逾期：单位1。未报送：单位2。",
        "政务公开办",
        "2023年10月12日",
    ]

    printed = cli("notice", "template").stdout
    assert "# 关于{plan_name}" in printed and "{late_list}" in printed

    template.write_text("正文\n")
    refused = cli("notice", "late", str(world.round_id), "-o", str(out), "--template",
                  str(template), ok=False)  # fmt: skip
    assert refused.exit_code == 1 and "标题" in refused.output
