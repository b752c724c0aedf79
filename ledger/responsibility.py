"""责任单位 texts: who leads (牵头) and who is responsible (责任) for a task.

`parse_responsibility` reads the words as written (`牵头部门：政府办，责任部门：政府各部门`,
`医保基金监管科、稽核监控科`, `各科室`) into raw phrases. `resolve_responsibility` turns the
phrases into units of a directory: names through the directory's names and aliases, collective
words (政府各部门, 各乡镇街道, 各科室 …) into every unit of their kind, and the directory's groups
(各决策单位 …) into their members. Whatever cannot be resolved is reported by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ledger.units import Unit, UnitDirectory, UnitKind, normalise_name

_TOWNS_AND_STREETS = frozenset({UnitKind.TOWNSHIP, UnitKind.STREET})

# Collective words and the kinds of unit they mean. Extend here; spelling variants of
# parentheses and whitespace need no entry of their own (names are compared normalised).
COLLECTIVE_WORDS: dict[str, frozenset[UnitKind]] = {
    "政府各部门": frozenset({UnitKind.DEPARTMENT}),
    "各部门": frozenset({UnitKind.DEPARTMENT}),
    "政府各单位": frozenset({UnitKind.DEPARTMENT}),
    "区直各部门": frozenset({UnitKind.DEPARTMENT}),
    "各乡镇街道": _TOWNS_AND_STREETS,
    "各乡镇（街道）": _TOWNS_AND_STREETS,
    "各乡镇人民政府、街道办事处": _TOWNS_AND_STREETS,
    "各乡镇、街道": _TOWNS_AND_STREETS,
    "各乡镇和街道": _TOWNS_AND_STREETS,
    "各乡镇及街道": _TOWNS_AND_STREETS,
    "乡镇街道": _TOWNS_AND_STREETS,
    "各乡镇": frozenset({UnitKind.TOWNSHIP}),
    "各乡镇人民政府": frozenset({UnitKind.TOWNSHIP}),
    "各街道": frozenset({UnitKind.STREET}),
    "各街道办事处": frozenset({UnitKind.STREET}),
    "街道办事处": frozenset({UnitKind.STREET}),
    "各科室": frozenset({UnitKind.SECTION}),
    "各处室": frozenset({UnitKind.SECTION}),
    "各单位": frozenset(UnitKind),
}
_COLLECTIVES = {normalise_name(word): kinds for word, kinds in COLLECTIVE_WORDS.items()}

# 牵头部门：… 责任单位: … ; 配合/协办 units answer for the task like responsible ones.
_LABEL = re.compile(r"(牵头|责任|配合|协办|协助)\s*(?:部门|单位|科室)\s*[:：]")
_SEPARATOR_CHARS = "、，,；;"
# A collective phrase that contains a separator (各乡镇人民政府、街道办事处) is one word.
_PROTECTED = "|".join(
    re.sub(f"[{_SEPARATOR_CHARS}]", rf"\\s*[{_SEPARATOR_CHARS}]\\s*", re.escape(word))
    for word in sorted(COLLECTIVE_WORDS, key=len, reverse=True)
    if any(c in word for c in _SEPARATOR_CHARS)
)
_TOKEN = re.compile(rf"{_PROTECTED}|[^{_SEPARATOR_CHARS}\s]+")
# 和/及/与 join two names only after a word that ends a unit's name (民政局和卫健局), so that
# 人力资源和社会保障局 or 住房和城乡建设局 stay whole.
_JOIN = re.compile(r"(?<=[局办委会院室科镇乡处所队站馆心组部府门位道社厅司])[和及与](?=.)")
_TRIMMED = "。.等"


@dataclass(frozen=True)
class ParsedResponsibility:
    lead: tuple[str, ...] = ()  # 牵头, raw phrases in order
    responsible: tuple[str, ...] = ()  # 责任 (and 配合), raw phrases in order


@dataclass
class Resolution:
    lead: list[Unit] = field(default_factory=list)
    responsible: list[Unit] = field(default_factory=list)  # never repeats a lead unit
    pending_groups: list[str] = field(default_factory=list)  # named groups with no members yet
    unresolved: list[str] = field(default_factory=list)  # names no unit answers to
    parsed: ParsedResponsibility = field(default_factory=ParsedResponsibility)
    overridden: bool = False  # set by staff rather than read from the form

    @property
    def complete(self) -> bool:
        """True when every phrase was resolved and every group has members."""
        return not self.pending_groups and not self.unresolved

    @property
    def units(self) -> list[Unit]:
        return [*self.lead, *self.responsible]


def parse_responsibility(text: str) -> ParsedResponsibility:
    """The lead and responsible phrases of a 责任单位 text; without labels, all are responsible."""
    text = text.replace("\r", "").replace("\n", "")  # a cell wraps anywhere, even inside a name
    lead: list[str] = []
    responsible: list[str] = []
    role_phrases, start = responsible, 0
    for label in _LABEL.finditer(text):
        role_phrases.extend(_phrases(text[start : label.start()]))
        role_phrases = lead if label.group(1) == "牵头" else responsible
        start = label.end()
    role_phrases.extend(_phrases(text[start:]))
    return ParsedResponsibility(_unique(lead), _unique(responsible))


def _phrases(segment: str) -> list[str]:
    phrases = []
    for token in _TOKEN.findall(segment):
        token = "".join(
            token.split()
        )  # a protected phrase may hold spaces: 各乡镇人民政府 、 街道…
        parts = [token] if _is_collective(token) else _JOIN.split(token)
        phrases += [phrase for part in parts if (phrase := part.strip(_TRIMMED))]
    return phrases


def _unique(phrases: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for phrase in phrases:
        seen.setdefault(normalise_name(phrase), phrase)
    return tuple(seen.values())


def _is_collective(phrase: str) -> bool:
    return normalise_name(phrase) in _COLLECTIVES


def resolve_responsibility(parsed: ParsedResponsibility, directory: UnitDirectory) -> Resolution:
    """The units of a parsed text; a unit named as lead is not repeated as responsible."""
    resolver = _Resolver(directory)
    lead = _unique_units(resolver.units(parsed.lead))
    responsible = [u for u in _unique_units(resolver.units(parsed.responsible)) if u not in lead]
    pending = list(dict.fromkeys(resolver.pending_groups))
    unresolved = list(dict.fromkeys(resolver.unresolved))
    return Resolution(lead, responsible, pending, unresolved, parsed)


def resolve_text(text: str, directory: UnitDirectory) -> Resolution:
    return resolve_responsibility(parse_responsibility(text), directory)


def apply_override(
    resolution: Resolution,
    lead_names: Sequence[str] | None,
    responsible_names: Sequence[str] | None,
    directory: UnitDirectory,
) -> Resolution:
    """Staff's assignment: explicit names (or collective words) for lead and/or responsible.

    None keeps that side as the form had it; an empty list clears it.
    """
    parsed = ParsedResponsibility(
        _unique(_clean(lead_names)) if lead_names is not None else resolution.parsed.lead,
        _unique(_clean(responsible_names))
        if responsible_names is not None
        else resolution.parsed.responsible,
    )
    overridden = resolve_responsibility(parsed, directory)
    overridden.overridden = True
    return overridden


def _clean(names: Sequence[str]) -> list[str]:
    return [name.strip() for name in names if name.strip()]


def _unique_units(units: Iterable[Unit]) -> list[Unit]:
    return list(dict.fromkeys(units))


class _Resolver:
    """Expands phrases into units, noting pending groups and unresolved names on the way."""

    def __init__(self, directory: UnitDirectory) -> None:
        self.directory = directory
        self.pending_groups: list[str] = []
        self.unresolved: list[str] = []

    def units(self, phrases: Iterable[str]) -> list[Unit]:
        return [unit for phrase in phrases for unit in self.expand(phrase)]

    def expand(self, phrase: str) -> list[Unit]:
        # A group the directory defines wins over a unit or a built-in collective word.
        group = self.directory.group_name(phrase)
        if group is not None:
            return self._group(group)
        unit = self.directory.resolve(phrase)
        if unit is not None:
            return [unit]
        return self._collective(phrase)

    def _group(self, group: str) -> list[Unit]:
        members = self.directory.groups[group]
        if not members:
            self.pending_groups.append(group)
            return []
        units = []
        for member in members:
            unit = self.directory.resolve(member)
            units += [unit] if unit is not None else self._collective(member)
        return units

    def _collective(self, phrase: str) -> list[Unit]:
        """Every unit of the kinds a collective word means; anything else is unresolved.

        So is a word that only looks collective (各有关单位, 相关部门) but is in no table.
        """
        kinds = _COLLECTIVES.get(normalise_name(phrase))
        units = self.directory.units_of_kind(*kinds) if kinds else []
        if not units:  # an unknown name or word, or a kind the directory has none of
            self.unresolved.append(phrase)
        return units
