"""The sample plans, units directories and report shipped with taizhang.

`xingqing-2023.yaml` is the 兴庆区 填报版 (with 板块), `yibao-2023.yaml` a bureau's 任务分工
(without 板块); `xingqing-units.yaml` and `yibao-units.yaml` are their units directories, and
`xingqing-2023-yibao-report.yaml` is the progress 兴庆区医疗保障局 filled in its copy of the form.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def sample_path(name: str) -> Path:
    """A shipped sample by file name (`xingqing-2023.yaml`) or stem (`xingqing-2023`)."""
    candidates = [name] if name.endswith((".yaml", ".yml")) else [name, f"{name}.yaml"]
    for candidate in candidates:
        path = SAMPLES_DIR / candidate
        if path.is_file() and path.parent == SAMPLES_DIR:
            return path
    available = "、".join(sorted(p.name for p in SAMPLES_DIR.glob("*.yaml"))) or "（无）"
    raise FileNotFoundError(f"没有名为“{name}”的示例文件（现有：{available}）")
