"""Reporting rounds."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Assignment, Plan, Round, Submission, Task
from storage.services.errors import NotFound


async def list_rounds(session: AsyncSession, plan_key: str | None = None) -> list[dict]:
    query = select(Round, Plan).join(Plan, Plan.id == Round.plan_id)
    if plan_key:
        query = query.where(Plan.key == plan_key)
    rows = (await session.exec(query.order_by(Plan.key, Round.due_date))).all()
    out = []
    for round_, plan in rows:
        submitted = (
            await session.exec(
                select(func.count())
                .select_from(Submission)
                .where(Submission.round_id == round_.id)
            )
        ).one()
        units = (
            await session.exec(
                select(func.count(func.distinct(Assignment.unit_id)))
                .join(Task, Task.id == Assignment.task_id)
                .where(Task.plan_id == plan.id)
            )
        ).one()
        out.append(
            {
                "id": round_.id,
                "plan": plan.key,
                "name": round_.name,
                "due": round_.due_date.isoformat(),
                "deadline_at": round_.deadline_at.isoformat(),
                "status": round_.status,
                "submitted": submitted,
                "units": units,
            }
        )
    return out


async def find_round(session: AsyncSession, ref: str, plan_key: str | None = None) -> Round:
    """A round by id, or by due date (YYYY-MM-DD) optionally within a plan."""
    query = select(Round)
    if ref.isdigit():
        query = query.where(Round.id == int(ref))
    else:
        import datetime as dt

        try:
            due = dt.date.fromisoformat(ref)
        except ValueError:
            raise NotFound(f"no round “{ref}”: give its id or due date (YYYY-MM-DD)") from None
        query = query.where(Round.due_date == due)
        if plan_key:
            query = query.join(Plan, Plan.id == Round.plan_id).where(Plan.key == plan_key)
    rounds = (await session.exec(query)).all()
    if not rounds:
        raise NotFound(f"no round “{ref}” (see `taizhang round list`)")
    if len(rounds) > 1:
        raise NotFound(
            f"round “{ref}” is ambiguous: give its id or --plan (see `taizhang round list`)"
        )
    return rounds[0]


async def set_round_status(session: AsyncSession, round_id: int, status: str) -> Round:
    """Close a round (answers can no longer change) or open it again."""
    from storage.types import utcnow

    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    round_.status = status
    round_.closed_at = utcnow() if status == "closed" else None
    await session.flush()
    return round_


async def plans_and_open_rounds(
    session: AsyncSession,
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The plans' keys, and each open round as (plan key, round name, due date): what the
    bot says it serves when it starts. Two statements, however many plans."""
    plans = list((await session.exec(select(Plan.key).order_by(Plan.key))).all())
    rows = await session.exec(
        select(Plan.key, Round.name, Round.due_date)
        .join(Plan, Plan.id == Round.plan_id)
        .where(Round.status == "open")
        .order_by(Round.due_date, Plan.key)
    )
    return plans, [(key, name, due.isoformat()) for key, name, due in rows.all()]
