"""aiogram routers: thin; they parse input, call storage services, render replies."""

from __future__ import annotations

from aiogram import Router


def build_router() -> Router:
    from handlers import start

    root = Router(name="taizhang")
    root.include_router(start.router)
    return root
