"""The operator's log: JSON lines when asked, no password, one line saying what started."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonLines, configure_logging, started_line


def test_json_lines_carry_the_message_and_the_exception():
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord("taizhang.x", logging.ERROR, __file__, 1, "发送 %s", ("失败",),
                                   exc_info=__import__("sys").exc_info())  # fmt: skip
    line = json.loads(JsonLines().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "taizhang.x", "发送 失败")
    assert "ValueError: 坏了" in line["exception"] and line["time"].endswith("+00:00")


def test_the_started_line_names_mode_database_plans_and_rounds_without_the_password():
    line = started_line(
        "polling https://api.telegram.org as @tz_bot",
        "postgresql+asyncpg://taizhang:s3cret@db:5432/taizhang",
        ["xingqing-2023"],
        [("xingqing-2023", "2026年3月报送", "2026-03-16")],
    )
    assert "s3cret" not in line and "taizhang:***@db:5432/taizhang" in line
    assert "as @tz_bot" in line and "2026年3月报送 (xingqing-2023, due 2026-03-16)" in line
    assert started_line("webhook at https://x", "sqlite+aiosqlite:///d.db", [], []).endswith(
        "plans: none · open rounds: none"
    )


def test_the_schedulers_routine_lines_are_off_unless_debugging():
    configure_logging("text", "INFO")
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler").isEnabledFor(logging.WARNING)
    configure_logging("json", "DEBUG")
    assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    configure_logging("text", "INFO")
