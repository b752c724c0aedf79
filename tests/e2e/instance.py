"""One bot instance for tests, as a process: `taizhang run` on the test's clock, not the wall's.

    TAIZHANG_TEST_NOW="2026-03-09 10:00" python -m tests.e2e.instance
    TAIZHANG_TEST_NOW="2026-03-09 10:00" python -m tests.e2e.instance sandbox --port P ...

The second runs `taizhang sandbox` (its options: --port, --web-port, --data-dir, --host) on
that clock instead.

Reads the settings from the environment (and `.env`) as `taizhang run` does and runs the real
`bot.runner.run`, with a clock that starts at TAIZHANG_TEST_NOW (Shanghai time; default the
reminder morning below, when the sample round's 5-working-days reminder is due) and runs at real
speed. With TAIZHANG_TEST_MONOTONIC (the test's `time.monotonic()` at the moment its own clock
read TAIZHANG_TEST_NOW) every instance shares the test's clock, whenever it started: the
monotonic clock is the machine's, the same in every process. SIGTERM stops it gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

NOW_VARIABLE = "TAIZHANG_TEST_NOW"
MONOTONIC_VARIABLE = "TAIZHANG_TEST_MONOTONIC"
# A Monday at 10:00: a sample round loaded on this day (due five working days later, see
# storage/services/samples.py) has its 5-working-days reminder due now.
REMINDER_MORNING = "2026-03-09 10:00"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def clock_from_env(environ: Mapping[str, str] = os.environ) -> Callable[[], dt.datetime]:
    """Now on the test's clock: TAIZHANG_TEST_NOW, plus the real seconds since."""
    local = environ.get(NOW_VARIABLE) or REMINDER_MORNING
    start = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
    anchor = float(environ.get(MONOTONIC_VARIABLE) or time.monotonic())

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - anchor)

    return now


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:
        return sandbox(argv[1:])
    from bot.settings import SettingsError, load_settings, require_token

    try:
        settings = load_settings()
        require_token(settings)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    from bot.runner import run

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings, clock=clock_from_env()))
    return 0


def sandbox(argv: list[str]) -> int:
    """`taizhang sandbox` itself (bot/cli_sandbox.py), with the test's clock."""
    import argparse
    from pathlib import Path

    from bot.cli_sandbox import DEFAULT_DIR, run_sandbox

    parser = argparse.ArgumentParser(prog="python -m tests.e2e.instance sandbox")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--web-port", type=int, default=8082)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    clock = clock_from_env()
    run_sandbox(args.host, args.port, args.data_dir, web_port=args.web_port, clock=clock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
