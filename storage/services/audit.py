"""The audit trail: who did what to which round, unit and task, and when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent
from storage.services.staff import StaffMember
from storage.types import utcnow


async def record(
    session: AsyncSession,
    by: StaffMember,
    action: str,
    *,
    round_id: int | None = None,
    unit_id: int | None = None,
    task_id: int | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Keep one step (e.g. `review.return`); the caller commits it with the step itself."""
    event = AuditEvent(
        at=now or utcnow(),
        actor_user_id=by.telegram_user_id,
        actor_label=by.label,
        action=action,
        round_id=round_id,
        unit_id=unit_id,
        task_id=task_id,
        detail=detail or {},
    )
    session.add(event)
    await session.flush()
    return event


async def trail(
    session: AsyncSession,
    *,
    round_id: int | None = None,
    unit_id: int | None = None,
    action_prefix: str = "",
    limit: int = 200,
) -> list[AuditEvent]:
    """The steps, oldest first, narrowed to a round, a unit or a kind of action."""
    query = select(AuditEvent)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    if unit_id is not None:
        query = query.where(AuditEvent.unit_id == unit_id)
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    return list(reversed((await session.exec(query)).all()))
