"""The status chart: a PNG of a round's states per unit kind and answered counts per task.

Pure: it takes plain numbers and the words to print (already in the reader's language) and
returns PNG bytes; no database, no Telegram. Drawn with matplotlib's Agg canvas (no pyplot,
no global figure state) in Noto Sans SC, a font the project installs from PyPI
(pylopdf-fonts-zh-cn), never whatever the machine happens to have. Sized for a phone: 1080
pixels wide, about as tall, with large labels.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

WIDTH_PX = 1080
DPI = 100
SUBTITLE_CHARS = 36.0  # 20-point Chinese characters across the width

# The states in the order they stack, with their colours (submitted first).
STATE_COLOURS = {
    "on_time": "#2e7d32",  # green
    "late": "#ef6c00",  # orange
    "partly": "#fbc02d",  # yellow
    "not_started": "#b0b0b0",  # grey
}
ANSWERED_COLOUR = "#1565c0"
ASSIGNED_COLOUR = "#d6dde6"


@dataclass(frozen=True)
class GroupBar:
    label: str  # e.g. 政府部门（13）
    counts: Mapping[str, int]  # state → units


@dataclass(frozen=True)
class TaskBar:
    label: str  # the task's number
    answered: int
    total: int


@dataclass(frozen=True)
class ChartData:
    title: str
    subtitle: str
    state_labels: Mapping[str, str]  # state → its name, e.g. on_time → 按时报送
    groups: Sequence[GroupBar]
    tasks: Sequence[TaskBar]
    groups_title: str = "Units by state"
    tasks_title: str = "Units that answered each task"
    answered_label: str = "answered"
    assigned_label: str = "assigned"
    task_axis_label: str = "task"
    units_axis_label: str = "units"
    note: str = ""  # a line under the subtitle, e.g. units nobody can be reached at
    states: Sequence[str] = field(default=tuple(STATE_COLOURS))


def font_path() -> Path:
    """Noto Sans SC, from the pylopdf-fonts-zh-cn package."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


@cache
def _font_family() -> str:
    from matplotlib import font_manager

    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def render_status_chart(data: ChartData) -> bytes:
    """The chart as PNG bytes, WIDTH_PX wide."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = list(data.groups)
    tasks = list(data.tasks)
    subtitle = _wrap(data.subtitle, SUBTITLE_CHARS)
    note = _wrap(data.note, SUBTITLE_CHARS) if data.note else []
    header_height = 0.75 + 0.42 * (len(subtitle) + len(note))
    group_height = 1.6 + 0.95 * max(1, len(groups))
    task_height = 5.2 if tasks else 0.0
    heights = [header_height, group_height] + ([task_height] if tasks else [])
    style = {
        "font.family": _font_family(),
        "axes.unicode_minus": False,
        "font.size": 18,
        "axes.titlesize": 22,
        "axes.labelsize": 18,
        "xtick.labelsize": 17,
        "ytick.labelsize": 19,
        "legend.fontsize": 17,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with rc_context(style):
        figure = Figure(figsize=(WIDTH_PX / DPI, sum(heights)), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        panels = figure.subfigures(len(heights), 1, height_ratios=heights)
        _header(panels[0], data.title, subtitle, note, header_height)
        _groups_panel(panels[1].add_subplot(), data, groups)
        if tasks:
            _tasks_panel(panels[2].add_subplot(), data, tasks)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _width(text: str) -> float:
    """Roughly how many Chinese characters wide the text is (Latin letters and digits are
    narrower)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


def _wrap(text: str, width: float) -> list[str]:
    """Lines no wider than `width`, broken at " · " where possible, else anywhere (Chinese
    has no spaces to break at)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for piece in paragraph.split(" · "):
            joined = f"{line} · {piece}" if line else piece
            if _width(joined) <= width:
                line = joined
                continue
            if line:
                lines.append(line)
            line = piece
            while _width(line) > width:
                cut = 1
                while _width(line[: cut + 1]) <= width:
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _header(panel, title: str, subtitle: list[str], note: list[str], height: float) -> None:
    """The title large, then the plan and deadline, then the note, each line centred."""
    line = 0.42 / height  # one 20-point line, as a fraction of the header's height
    panel.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize=28)
    y = 1 - 0.72 / height
    for text in subtitle:
        panel.text(0.5, y, text, ha="center", va="top", fontsize=20, color="#333333")
        y -= line
    for text in note:
        panel.text(0.5, y, text, ha="center", va="top", fontsize=20, color="#555555")
        y -= line


def _groups_panel(axes, data: ChartData, groups: list[GroupBar]) -> None:
    """One horizontal bar per kind of unit, stacked by state, with the count in each part."""
    labels = [group.label for group in groups]
    positions = list(range(len(groups)))[::-1]  # the first group on top
    widest = max([sum(g.counts.values()) for g in groups] + [1])
    lefts = [0] * len(groups)
    for state in data.states:
        values = [group.counts.get(state, 0) for group in groups]
        axes.barh(
            positions,
            values,
            left=lefts,
            height=0.62,
            color=STATE_COLOURS.get(state, "#888888"),
            label=data.state_labels.get(state, state),
            edgecolor="white",
            linewidth=1.5,
        )
        for y, left, value in zip(positions, lefts, values, strict=True):
            if value and value / widest >= 0.045:
                dark = state in ("on_time", "late")
                axes.text(
                    left + value / 2,
                    y,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=18,
                    color="white" if dark else "#222222",
                )
        lefts = [left + value for left, value in zip(lefts, values, strict=True)]
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, widest * 1.02)
    axes.set_xlabel(data.units_axis_label)
    axes.set_title(data.groups_title, loc="left", pad=12)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", length=0)
    axes.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.32 if len(groups) < 3 else -0.22),
        ncol=len(data.states),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.2,
    )


def _tasks_panel(axes, data: ChartData, tasks: list[TaskBar]) -> None:
    """Per task: the units assigned (pale) and, over them, those that answered."""
    positions = list(range(len(tasks)))
    axes.bar(
        positions,
        [task.total for task in tasks],
        width=0.75,
        color=ASSIGNED_COLOUR,
        label=data.assigned_label,
    )
    axes.bar(
        positions,
        [task.answered for task in tasks],
        width=0.75,
        color=ANSWERED_COLOUR,
        label=data.answered_label,
    )
    step = 1 if len(tasks) <= 36 else 2 if len(tasks) <= 72 else 5
    axes.set_xticks(positions[::step], [task.label for task in tasks][::step])
    axes.tick_params(axis="x", labelsize=15 if len(tasks) > 20 else 17, length=0)
    axes.set_xlim(-0.7, len(tasks) - 0.3)
    axes.set_ylim(0, max([task.total for task in tasks] + [1]) * 1.05)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", color="#e0e0e0", linewidth=1)
    axes.set_axisbelow(True)
    axes.set_xlabel(data.task_axis_label)
    axes.set_ylabel(data.units_axis_label)
    axes.set_title(data.tasks_title, loc="left", pad=12)
    axes.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=2, borderaxespad=0.2
    )
