"""The status chart: a PNG a phone shows well, drawn in the Chinese font the project installs."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from ledger.status_chart import WIDTH_PX, ChartData, GroupBar, TaskBar, font_path
from ledger.status_chart import render_status_chart as render

LABELS = {"on_time": "按时报送", "late": "逾期报送", "partly": "填报中", "not_started": "未开始"}


def _data(groups: int = 3, tasks: int = 33) -> ChartData:
    kinds = ["政府部门（13）", "乡镇和街道（15）", "科室（5）"][:groups]
    return ChartData(
        title="2026年3月报送 · 报送情况",
        subtitle="兴庆区2023年政务公开工作要点任务落实台账 · 截止 2026-03-16",
        note="无可联系的联系人：24 个单位",
        state_labels=LABELS,
        groups=[GroupBar(k, dict(zip(LABELS, (2, 1, 3, 7), strict=True))) for k in kinds],
        tasks=[TaskBar(str(n), n % 5, 5 + n % 3) for n in range(1, tasks + 1)],
        groups_title="各类单位报送情况",
        tasks_title="各任务已填报单位数",
    )


def test_the_chart_is_a_phone_sized_png_with_every_chinese_glyph():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of each glyph missing from the font
        png = render(_data())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == WIDTH_PX
    assert 800 <= image.height <= 1400  # Telegram shows it whole, not shrunk to a strip
    assert len(image.getcolors(1 << 16) or []) > 20  # something was drawn in colour


def test_the_font_is_the_one_the_project_installs():
    path = font_path()
    assert path.name == "NotoSansSC-Regular.otf" and path.stat().st_size > 1_000_000
    assert "site-packages" in str(path)


def test_a_round_without_tasks_or_with_one_kind_still_draws():
    small = render(_data(groups=1, tasks=0))
    assert Image.open(io.BytesIO(small)).width == WIDTH_PX
