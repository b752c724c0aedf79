"""aiogram routers: thin; they parse input, call storage services, render replies."""

from __future__ import annotations

from aiogram import Router


def build_router() -> Router:
    from handlers import common, language, report, start

    root = Router(name="taizhang")
    # Order matters: specific routers first, the catch-all answers last.
    root.include_routers(*(m.router.build() for m in (start, language, report, common)))
    return root
