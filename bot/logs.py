"""Logs an operator can read: one line per meaningful event, as text or as JSON lines.

`LOG__FORMAT=json` writes one JSON object per line (time, level, logger, message, and the
exception when there is one) for a log collector; `LOG__LEVEL` sets the level. APScheduler's
line for every job run (every 2 seconds) and aiogram's line for every update are off unless
`LOG__LEVEL=DEBUG`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from sqlalchemy.engine import make_url

# Loggers whose routine lines drown the ones that matter; WARNING and above still show.
CHATTY = ("apscheduler", "aiogram.event", "aiohttp.access")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "taizhang", False)]
    if len(ours) == len(root.handlers):  # nobody else logs here (a test runner may)
        handler.taizhang = True  # type: ignore[attr-defined]
        root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY:
        logging.getLogger(name).setLevel(quiet)


def safe_database_url(url: str) -> str:
    """The database as a log may show it: no password."""
    return make_url(url).render_as_string(hide_password=True)


def started_line(
    mode: str, database_url: str, plans: list[str], open_rounds: list[tuple[str, str, str]]
) -> str:
    """`taizhang started: polling as @bot · database … · plans … · open rounds …`."""
    rounds = ", ".join(f"{name} ({plan}, due {due})" for plan, name, due in open_rounds)
    return (
        f"taizhang started: {mode} · database {safe_database_url(database_url)}"
        f" · plans: {', '.join(plans) or 'none'} · open rounds: {rounds or 'none'}"
    )
