"""aiogram routers: thin; they parse input, call storage services, render replies."""

from __future__ import annotations

from aiogram import Router


def build_router() -> Router:
    from handlers import (
        common,
        language,
        lead,
        report,
        staff_access,
        staff_broadcast,
        staff_console,
        staff_export,
        staff_invite,
        staff_notice,
        staff_review,
        staff_status,
        start,
    )

    staff = (
        staff_status,
        staff_export,
        staff_review,
        staff_invite,
        staff_notice,
        staff_broadcast,
        staff_console,
    )
    root = Router(name="taizhang")
    # Order matters: specific routers first; staff screens refuse everyone else before the
    # catch-all answers last.
    modules = (start, language, *staff, lead, report, staff_access, common)
    root.include_routers(*(m.router.build() for m in modules))
    return root
