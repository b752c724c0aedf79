"""The units directory: who can be named in a 责任单位 column, under which names.

A unit (a department, a township, a street office, or a bureau's section) has a canonical name,
a short name and aliases, all of which the forms use: 医保局 = 医疗保障局 = 兴庆区医疗保障局.
Names are matched after folding full-width characters and dropping whitespace, and with the
directory's region (兴庆区, 银川市兴庆区, from its title) stripped or added. Any other equivalence
is written down explicitly as an alias.

Groups are collective words whose members only the office knows (各决策单位, 各起草单位 …):
staff fill them in.

The file formats (YAML and CSV) are described in docs/units-format.md.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from ledger.errors import LedgerError


class UnitKind(StrEnum):
    DEPARTMENT = "department"  # 政府部门
    TOWNSHIP = "township"  # 乡镇人民政府
    STREET = "street"  # 街道办事处
    SECTION = "section"  # 科室 of a bureau


# The kind as a clerk may write it in a units file.
KIND_WORDS: dict[str, UnitKind] = {
    **{kind.value: kind for kind in UnitKind},
    "部门": UnitKind.DEPARTMENT,
    "乡镇": UnitKind.TOWNSHIP,
    "乡": UnitKind.TOWNSHIP,
    "镇": UnitKind.TOWNSHIP,
    "街道": UnitKind.STREET,
    "街道办事处": UnitKind.STREET,
    "科室": UnitKind.SECTION,
}

_ALIAS_SEPARATORS = re.compile(r"[|、;；]")
_REGION_PART = re.compile(r"[^省市区县州盟旗]+?(?:自治区|省|市|区|县|州|盟|旗)")


def normalise_name(name: str) -> str:
    """The form of a name used for matching: full-width folded, whitespace dropped."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True)
class UnitContact:
    """A person who reports for the unit, as the office knows them (for e-mail reminders)."""

    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Unit:
    name: str  # canonical, e.g. 兴庆区医疗保障局
    short_name: str = ""  # as the forms usually write it, e.g. 医保局
    kind: UnitKind = UnitKind.DEPARTMENT
    aliases: tuple[str, ...] = ()
    contacts: tuple[UnitContact, ...] = ()  # optional; only those with an e-mail are imported

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", UnitKind(self.kind))
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "contacts", tuple(self.contacts))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the unit answers to: canonical, short, aliases (no repeats)."""
        names = [self.name, self.short_name, *self.aliases]
        return tuple(dict.fromkeys(n for n in names if n.strip()))

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


@dataclass
class UnitDirectory:
    """The units of one office; treat as immutable (the name index is built once)."""

    key: str  # referenced by plans, e.g. xingqing
    title: str = ""  # e.g. 银川市兴庆区
    units: list[Unit] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = _name_index(self.units)
        self._groups = {normalise_name(name): name for name in self.groups}
        self._prefixes = region_prefixes(self.title)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def resolve(self, name: str) -> Unit | None:
        """The unit a name means, or None when no unit answers to it."""
        key = normalise_name(name)
        if not key:
            return None
        if key in self._index:
            return self._index[key]
        for prefix in self._prefixes:
            if key.startswith(prefix) and key[len(prefix) :] in self._index:
                return self._index[key[len(prefix) :]]
            if prefix + key in self._index:
                return self._index[prefix + key]
        return None

    def get(self, name: str) -> Unit:
        """The unit a name means; LedgerError naming it when there is none."""
        unit = self.resolve(name)
        if unit is None:
            raise LedgerError(f"单位目录“{self.key}”中没有“{name}”")
        return unit

    def group_name(self, name: str) -> str | None:
        """The group a collective word names, as the directory spells it."""
        return self._groups.get(normalise_name(name))

    def group_members(self, name: str) -> list[str] | None:
        """The member names of a group (possibly none yet), or None when it is no group."""
        group = self.group_name(name)
        return None if group is None else list(self.groups[group] or [])

    def units_of_kind(self, *kinds: UnitKind) -> list[Unit]:
        return [unit for unit in self.units if unit.kind in kinds]


def region_prefixes(title: str) -> tuple[str, ...]:
    """银川市兴庆区 → (银川市兴庆区, 兴庆区): the region written before unit names.

    Only the region itself and its wider forms ending in it: a city's name alone would make
    the district's 医疗保障局 answer for the city's.
    """
    title = normalise_name(title)
    parts = _REGION_PART.findall(title)
    if not parts or "".join(parts) != title:
        return ()
    return tuple("".join(parts[i:]) for i in range(len(parts)))


def _name_index(units: Iterable[Unit]) -> dict[str, Unit]:
    index: dict[str, Unit] = {}
    for unit in units:
        if not unit.name.strip():
            raise LedgerError("单位名称为空")
        for name in unit.names:
            key = normalise_name(name)
            other = index.get(key)
            if other is not None and other is not unit:
                raise LedgerError(_clash_message(name, other, unit))
            index[key] = unit
    return index


def _clash_message(name: str, first: Unit, second: Unit) -> str:
    if normalise_name(first.name) == normalise_name(second.name):
        return f"单位“{second.name}”重复"
    return f"名称“{name}”同时属于“{first.name}”和“{second.name}”"


# -- reading and writing units files


def load_units(path: str | Path, *, max_bytes: int | None = None) -> UnitDirectory:
    """Read a units file: CSV when it ends in .csv, YAML otherwise.

    The text may be UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's “Unicode text”),
    or GB18030/GBK (a CSV saved by Chinese Excel or WPS). A file over `max_bytes` (default
    the import limit, 20 MB) is refused.
    """
    from ledger.form_import.files import MAX_IMPORT_BYTES, FileTooLarge

    path = Path(path)
    limit = MAX_IMPORT_BYTES if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise FileTooLarge(size, limit, source=str(path))
        data = path.read_bytes()
    except OSError as error:
        raise LedgerError(f"无法读取单位文件：{error}", source=str(path)) from None
    text = decode_units_text(data, str(path))
    if path.suffix.lower() == ".csv":
        return parse_units_csv(text, source=str(path), key=path.stem)
    return parse_units_yaml(text, source=str(path))


def decode_units_text(data: bytes, source: str | None = None) -> str:
    """The text of a units file: UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerError(
        "无法识别文件的文字编码（不是 UTF-8，也不是 GBK/GB18030）：请在 Excel 中“另存为”，"
        "文件类型选“CSV UTF-8（逗号分隔）(*.csv)”，再导入",
        source=source,
    )


def parse_units_yaml(text: str, *, source: str | None = None) -> UnitDirectory:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = f"第{mark.line + 1}行" if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise LedgerError(f"YAML 格式错误：{problem}", source=source, place=place) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise LedgerError(
            "单位文件应当是一个映射（directory、title、units、groups）", source=source
        )
    _reject_unknown(data, {"directory", "title", "units", "groups"}, "", source)
    key = str(data.get("directory") or "").strip()
    if not key:
        raise LedgerError("缺少 directory（单位目录的代号）", source=source)
    entries = data.get("units") or []
    if not isinstance(entries, list):
        raise LedgerError("units 应当是一个列表", source=source)
    lines = _item_lines(root, "units")
    rows = []
    for i, entry in enumerate(entries, start=1):
        line = f"第{lines[i - 1]}行" if i <= len(lines) else ""
        place = f"{line}（units 第{i}项）"
        rows.append((_unit_from_mapping(entry, place, source), line or f"units 第{i}项"))
    groups = _groups(data.get("groups"), source)
    return _directory(key, str(data.get("title") or ""), rows, groups, source)


def _item_lines(root: yaml.Node, key: str) -> list[int]:
    """The line on which each item of the top-level list `key` starts."""
    for key_node, value_node in root.value:
        if key_node.value == key and isinstance(value_node, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value_node.value]
    return []


def _unit_from_mapping(entry: Any, place: str, source: str | None) -> Unit:
    if not isinstance(entry, dict):
        raise LedgerError("每个单位应当写 name、short、aliases、kind", source=source, place=place)
    known = {"name", "short", "short_name", "aliases", "kind", "contacts"}
    _reject_unknown(entry, known, place, source)
    aliases = entry.get("aliases") or []
    if isinstance(aliases, str):
        aliases = _split_aliases(aliases)
    if not isinstance(aliases, list):
        raise LedgerError("aliases 应当是一个列表", source=source, place=place)
    short = entry.get("short", entry.get("short_name"))
    unit = _unit(
        entry.get("name"), short, [str(a) for a in aliases], entry.get("kind"), place, source
    )
    contacts = entry.get("contacts") or []
    if not isinstance(contacts, list):
        raise LedgerError(
            "contacts 应当是一个列表（name、phone、email）", source=source, place=place
        )
    people = []
    for person in contacts:
        if not isinstance(person, dict):
            raise LedgerError("每个联系人应当写 name、phone、email", source=source, place=place)
        _reject_unknown(person, {"name", "phone", "email"}, place, source)
        people.append(_contact(person, place, source))
    return replace(unit, contacts=tuple(people)) if people else unit


def _contact(person: dict[str, Any], place: str, source: str | None) -> UnitContact:
    def text(key: str) -> str:
        return " ".join(str(person.get(key) or "").split())

    email = text("email")
    if email and (" " in email or email.count("@") != 1 or "." not in email.split("@")[1]):
        raise LedgerError(f"电子邮箱“{email}”格式不对", source=source, place=place)
    return UnitContact(text("name"), text("phone"), email)


def _unit(
    name: Any, short: Any, aliases: list[str], kind: Any, place: str, source: str | None
) -> Unit:
    name = str(name or "").strip()
    if not name:
        raise LedgerError("单位名称为空", source=source, place=place)
    kind_word = normalise_name(str(kind or "")).lower()
    unit_kind = KIND_WORDS.get(kind_word)
    if unit_kind is None:
        known = "、".join(k.value for k in UnitKind)
        problem = f"的类型“{kind}”无法识别" if kind_word else "缺少类型 kind"
        message = f"单位“{name}”{problem}（可用：{known}）"
        raise LedgerError(message, source=source, place=place)
    aliases = [a.strip() for a in aliases if a.strip()]
    return Unit(name, str(short or "").strip(), unit_kind, tuple(aliases))


def _groups(value: Any, source: str | None) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LedgerError("groups 应当是一个映射（集合称谓: [成员单位…]）", source=source)
    groups = {}
    for name, members in value.items():
        members = members or []
        if isinstance(members, str):
            members = _split_aliases(members)
        if not isinstance(members, list):
            raise LedgerError(f"groups 中“{name}”的成员应当是一个列表", source=source)
        groups[str(name)] = [str(m).strip() for m in members if str(m).strip()]
    return groups


def _reject_unknown(
    mapping: dict[Any, Any], known: set[str], place: str, source: str | None
) -> None:
    unknown = [str(key) for key in mapping if key not in known]
    if unknown:
        message = f"未知的键 {unknown[0]}（可用的键：{'、'.join(sorted(known))}）"
        raise LedgerError(message, source=source, place=place or None)


# CSV headers as clerks may write them, mapped to our fields.
CSV_HEADERS = {
    "name": "name",
    "名称": "name",
    "单位名称": "name",
    "short_name": "short",
    "short": "short",
    "简称": "short",
    "aliases": "aliases",
    "alias": "aliases",
    "别名": "aliases",
    "kind": "kind",
    "类型": "kind",
    "contact": "contact",
    "联系人": "contact",
    "phone": "phone",
    "联系电话": "phone",
    "email": "email",
    "邮箱": "email",
    "电子邮箱": "email",
}
CSV_COLUMNS = ("name", "short_name", "aliases", "kind")


def parse_units_csv(
    text: str, *, source: str | None = None, key: str = "", title: str = ""
) -> UnitDirectory:
    """Read `name,short_name,aliases,kind` rows (aliases separated by | or 、)."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    # Excel's “Unicode text” (UTF-16) is tab-separated.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise LedgerError("单位文件是空的", source=source)
    columns = [CSV_HEADERS.get(normalise_name(h).lower()) for h in header]
    missing = [c for c in ("name", "kind") if c not in columns]
    if missing:
        message = f"表头缺少 {missing[0]} 列（应为 {','.join(CSV_COLUMNS)}）"
        raise LedgerError(message, source=source, place="第1行")
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        place = f"第{reader.line_num}行"
        row = {c: cell for c, cell in zip(columns, cells, strict=False) if c}
        aliases = _split_aliases(row.get("aliases", ""))
        unit = _unit(row.get("name"), row.get("short"), aliases, row.get("kind"), place, source)
        if (row.get("email") or "").strip():  # the row's contact, with an e-mail address
            person = {"name": row.get("contact"), "phone": row.get("phone"), "email": row["email"]}
            unit = replace(unit, contacts=(_contact(person, place, source),))
        rows.append((unit, place))
    return _directory(key, title, rows, {}, source)


def _split_aliases(text: str) -> list[str]:
    return [alias.strip() for alias in _ALIAS_SEPARATORS.split(text) if alias.strip()]


def _directory(
    key: str,
    title: str,
    rows: list[tuple[Unit, str]],
    groups: dict[str, list[str]],
    source: str | None,
) -> UnitDirectory:
    """Check names are unique, naming the row of the second use and the first."""
    seen: dict[str, tuple[Unit, str]] = {}
    for unit, place in rows:
        for name in unit.names:
            first = seen.get(normalise_name(name))
            if first is not None and first[0] is not unit:
                message = f"{_clash_message(name, first[0], unit)}（另见{first[1]}）"
                raise LedgerError(message, source=source, place=place)
            seen[normalise_name(name)] = (unit, place)
    return UnitDirectory(key, title, [unit for unit, _ in rows], groups)


def dump_units_yaml(directory: UnitDirectory) -> str:
    """The directory as a units file (the same format `parse_units_yaml` reads)."""
    units = []
    for unit in directory.units:
        entry: dict[str, Any] = {"name": unit.name}
        if unit.short_name:
            entry["short"] = unit.short_name
        entry["aliases"] = list(unit.aliases)
        entry["kind"] = unit.kind.value
        if unit.contacts:
            entry["contacts"] = [
                {k: v for k, v in vars(person).items() if v} for person in unit.contacts
            ]
        units.append(entry)
    data = {
        "directory": directory.key,
        "title": directory.title,
        "units": units,
        "groups": {name: list(members) for name, members in directory.groups.items()},
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None)


def dump_units_csv(directory: UnitDirectory) -> str:
    """The units as CSV (groups have no place in CSV; keep them in the YAML file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for unit in directory.units:
        writer.writerow([unit.name, unit.short_name, "|".join(unit.aliases), unit.kind.value])
    return out.getvalue()
