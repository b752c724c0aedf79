"""Units directories: import from a file, and the directory as the ledger rules see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger import units as ledger_units
from storage.models import Directory, GroupMember, Unit, UnitAlias, UnitGroup


@dataclass
class UnitsImportResult:
    directory: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    unknown_group_members: list[str] = field(default_factory=list)
    contacts: int = 0  # contacts given an e-mail address, or made with one

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


async def get_directory(session: AsyncSession, key: str) -> Directory | None:
    return (await session.exec(select(Directory).where(Directory.key == key))).first()


async def import_directory(
    session: AsyncSession, source: ledger_units.UnitDirectory
) -> UnitsImportResult:
    """Create or update a directory in place; units missing from the file are deactivated."""
    result = UnitsImportResult(directory=source.key)
    directory = await get_directory(session, source.key)
    if directory is None:
        directory = Directory(key=source.key, title=source.title)
        session.add(directory)
        await session.flush()
    elif source.title and directory.title != source.title:
        directory.title = source.title
    existing = {u.name: u for u in await _units(session, directory.id, active_only=False)}
    for position, unit in enumerate(source.units):
        row = existing.pop(unit.name, None)
        if row is None:
            row = Unit(
                directory_id=directory.id,
                name=unit.name,
                short_name=unit.short_name,
                kind=str(unit.kind),
                position=position,
            )
            session.add(row)
            result.created.append(unit.name)
        elif _update_unit(row, unit, position):
            result.updated.append(unit.name)
        else:
            result.unchanged += 1
    for row in existing.values():
        if row.active:
            row.active = False
            result.deactivated.append(row.name)
    await session.flush()
    for name in await _sync_aliases(session, directory.id, source):
        if name not in result.updated and name not in result.created:
            result.updated.append(name)
            result.unchanged -= 1
    result.groups, result.unknown_group_members = await _sync_groups(session, directory.id, source)
    result.contacts = await _sync_contacts(session, directory.id, source)
    return result


async def _sync_contacts(
    session: AsyncSession, directory_id: int, source: ledger_units.UnitDirectory
) -> int:
    """The file's contacts with an e-mail address (docs/units-format.md); never removes any."""
    from storage.services.email_contacts import sync_directory_contacts
    from storage.types import utcnow

    with_contacts = [unit for unit in source.units if unit.contacts]
    if not with_contacts:
        return 0
    rows = {u.name: u for u in await _units(session, directory_id, active_only=False)}
    changed = 0
    for unit in with_contacts:
        entries = [(c.name, c.phone, c.email) for c in unit.contacts]
        changed += await sync_directory_contacts(session, rows[unit.name], entries, now=utcnow())
    return changed


def _update_unit(row: Unit, unit: ledger_units.Unit, position: int) -> bool:
    wanted = {
        "short_name": unit.short_name,
        "kind": str(unit.kind),
        "position": position,
        "active": True,
    }
    changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed.keys() - {"position"})


async def _sync_aliases(
    session: AsyncSession, directory_id: int, source: ledger_units.UnitDirectory
) -> set[str]:
    """Make the aliases match the file; returns the names of units whose aliases changed."""
    rows = {u.name: u for u in await _units(session, directory_id, active_only=False)}
    wanted = {(alias, rows[u.name].id) for u in source.units for alias in u.aliases}
    current = {
        (a.alias, a.unit_id): a
        for a in (
            await session.exec(select(UnitAlias).where(UnitAlias.directory_id == directory_id))
        ).all()
    }
    stale = [row for key, row in current.items() if key not in wanted]
    for row in stale:
        await session.delete(row)
    await session.flush()
    fresh = wanted - current.keys()
    for alias, unit_id in sorted(fresh):
        session.add(UnitAlias(directory_id=directory_id, unit_id=unit_id, alias=alias))
    names = {row.id: name for name, row in rows.items()}
    return {names[r.unit_id] for r in stale} | {names[unit_id] for _, unit_id in fresh}


async def _sync_groups(
    session: AsyncSession, directory_id: int, source: ledger_units.UnitDirectory
) -> tuple[list[str], list[str]]:
    """Groups named in the file exist; a non-empty member list in the file replaces the members,
    an empty one keeps what staff filled in."""
    directory = await _ledger_directory(session, directory_id)
    unknown: list[str] = []
    for name, members in source.groups.items():
        group = await _group(session, directory_id, name)
        if not members:
            continue
        unit_ids = []
        for member in members:
            unit = directory.resolve(member)
            if unit is None:
                unknown.append(f"{name}：{member}")
            else:
                unit_ids.append(await _unit_id(session, directory_id, unit.name))
        await set_group_members(session, group, unit_ids)
    return sorted(source.groups), unknown


async def _group(session: AsyncSession, directory_id: int, name: str) -> UnitGroup:
    group = (
        await session.exec(
            select(UnitGroup).where(UnitGroup.directory_id == directory_id, UnitGroup.name == name)
        )
    ).first()
    if group is None:
        group = UnitGroup(directory_id=directory_id, name=name)
        session.add(group)
        await session.flush()
    return group


async def set_group_members(session: AsyncSession, group: UnitGroup, unit_ids: list[int]) -> bool:
    current = set(
        (
            await session.exec(select(GroupMember.unit_id).where(GroupMember.group_id == group.id))
        ).all()
    )
    wanted = set(unit_ids)
    if current == wanted:
        return False
    for member in (
        await session.exec(select(GroupMember).where(GroupMember.group_id == group.id))
    ).all():
        if member.unit_id not in wanted:
            await session.delete(member)
    for unit_id in sorted(wanted - current):
        session.add(GroupMember(group_id=group.id, unit_id=unit_id))
    await session.flush()
    return True


async def _unit_id(session: AsyncSession, directory_id: int, name: str) -> int:
    unit = (
        await session.exec(
            select(Unit).where(Unit.directory_id == directory_id, Unit.name == name)
        )
    ).one()
    return unit.id


async def _units(session: AsyncSession, directory_id: int, active_only: bool = True) -> list[Unit]:
    query = select(Unit).where(Unit.directory_id == directory_id)
    if active_only:
        query = query.where(Unit.active)
    return list((await session.exec(query.order_by(Unit.position, Unit.id))).all())


async def _ledger_directory(
    session: AsyncSession, directory_id: int
) -> ledger_units.UnitDirectory:
    directory = await session.get(Directory, directory_id)
    units = await _units(session, directory_id)
    aliases: dict[int, list[str]] = {}
    for alias in (
        await session.exec(
            select(UnitAlias).where(UnitAlias.directory_id == directory_id).order_by(UnitAlias.id)
        )
    ).all():
        aliases.setdefault(alias.unit_id, []).append(alias.alias)
    by_id = {u.id: u for u in units}
    groups: dict[str, list[str]] = {}
    for group in (
        await session.exec(
            select(UnitGroup).where(UnitGroup.directory_id == directory_id).order_by(UnitGroup.id)
        )
    ).all():
        member_ids = (
            await session.exec(select(GroupMember.unit_id).where(GroupMember.group_id == group.id))
        ).all()
        groups[group.name] = [by_id[i].name for i in member_ids if i in by_id]
    return ledger_units.UnitDirectory(
        key=directory.key,
        title=directory.title,
        units=[
            ledger_units.Unit(
                name=u.name,
                short_name=u.short_name,
                kind=ledger_units.UnitKind(u.kind),
                aliases=tuple(aliases.get(u.id, ())),
            )
            for u in units
        ],
        groups=groups,
    )


async def ledger_directory(session: AsyncSession, key: str) -> ledger_units.UnitDirectory | None:
    """The directory as ledger rules see it (active units, aliases, groups with members)."""
    directory = await get_directory(session, key)
    if directory is None:
        return None
    return await _ledger_directory(session, directory.id)


async def units_by_name(session: AsyncSession, directory_id: int) -> dict[str, Unit]:
    return {u.name: u for u in await _units(session, directory_id, active_only=False)}


async def list_units(
    session: AsyncSession, directory_key: str | None = None
) -> list[tuple[Directory, Unit, list[str]]]:
    query = select(Directory, Unit).join(Unit, Unit.directory_id == Directory.id)
    if directory_key:
        query = query.where(Directory.key == directory_key)
    rows = (await session.exec(query.order_by(Directory.key, Unit.position, Unit.id))).all()
    alias_rows = (await session.exec(select(UnitAlias).order_by(UnitAlias.id))).all()
    aliases: dict[int, list[str]] = {}
    for alias in alias_rows:
        aliases.setdefault(alias.unit_id, []).append(alias.alias)
    return [(d, u, aliases.get(u.id, [])) for d, u in rows]


async def fill_group(
    session: AsyncSession, name: str, members: list[str], directory_key: str | None = None
) -> tuple[str, list[str]]:
    """Set a group's members by unit names; returns (directory key, canonical member names)."""
    from storage.services.errors import NotFound

    query = select(UnitGroup, Directory).join(Directory, Directory.id == UnitGroup.directory_id)
    query = query.where(UnitGroup.name == name)
    if directory_key:
        query = query.where(Directory.key == directory_key)
    rows = (await session.exec(query)).all()
    if not rows:
        raise NotFound(f"no group “{name}” (groups are listed in the units file)")
    if len(rows) > 1:
        raise NotFound(f"several directories have a group “{name}”: give --directory")
    group, directory = rows[0]
    ledger = await _ledger_directory(session, directory.id)
    unit_ids, names = [], []
    for member in members:
        unit = ledger.resolve(member)
        if unit is None:
            raise NotFound(f"no unit “{member}” in directory {directory.key}")
        unit_ids.append(await _unit_id(session, directory.id, unit.name))
        names.append(unit.name)
    await set_group_members(session, group, unit_ids)
    return directory.key, names
