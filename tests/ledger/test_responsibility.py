"""责任单位 texts: parsing every phrasing, and resolving every text of both seeds to units."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.responsibility import (
    COLLECTIVE_WORDS,
    ParsedResponsibility,
    Resolution,
    apply_override,
    parse_responsibility,
    resolve_responsibility,
    resolve_text,
)
from ledger.units import Unit, UnitDirectory, UnitKind, load_units
from tests.conftest import skip_or_fail

SEEDS = Path(__file__).parents[2].parent / "shared" / "seeds"
SAMPLES = Path(__file__).parents[2] / "ledger" / "samples"

DEPARTMENTS = [
    Unit("兴庆区人民政府办公室", "政府办", UnitKind.DEPARTMENT, ("政府办公室",)),
    Unit("兴庆区人力资源和社会保障局", "人社局", UnitKind.DEPARTMENT),
    Unit("兴庆区退役军人事务局", "退役军人事务局", UnitKind.DEPARTMENT),
    Unit("兴庆区民政局", "民政局", UnitKind.DEPARTMENT),
    Unit("兴庆区卫生健康局", "卫健局", UnitKind.DEPARTMENT),
    Unit("兴庆区医疗保障局", "医保局", UnitKind.DEPARTMENT, ("医疗保障局",)),
    Unit("兴庆区红十字会", "红十字会", UnitKind.DEPARTMENT),
    Unit("兴庆区司法局", "司法局", UnitKind.DEPARTMENT),
    Unit("兴庆区财政局", "财政局", UnitKind.DEPARTMENT),
    Unit("兴庆区发展和改革局", "发改局", UnitKind.DEPARTMENT),
    Unit("兴庆区商服中心", "商服中心", UnitKind.DEPARTMENT),
    Unit("兴庆区商合局", "商合局", UnitKind.DEPARTMENT),
    Unit("兴庆区城运中心", "城运中心", UnitKind.DEPARTMENT),
]
TOWNSHIPS = [
    Unit(f"{name}人民政府", name, UnitKind.TOWNSHIP)
    for name in ("掌政镇", "大新镇", "通贵乡", "月牙湖乡")
]
STREETS = [
    Unit(f"{name}街道办事处", name, UnitKind.STREET) for name in ("凤凰北街", "解放西街", "文化街")
]
GROUPS = {"各决策单位": [], "各起草单位": [], "政府各有关部门": []}
XINGQING = UnitDirectory("xingqing", "银川市兴庆区", DEPARTMENTS + TOWNSHIPS + STREETS, GROUPS)

SECTION_NAMES = ["办公室", "综合科", "医保基金监管科", "稽核监控科", "医疗保障科"]
YIBAO = UnitDirectory(
    "yibao", "市医疗保障局", [Unit(name, name, UnitKind.SECTION) for name in SECTION_NAMES]
)

ALL_DEPARTMENTS = [unit.short_name for unit in DEPARTMENTS]
TOWNS_AND_STREETS = [unit.short_name for unit in TOWNSHIPS + STREETS]


def names(units: list[Unit]) -> list[str]:
    return [unit.short_name for unit in units]


def departments_but(*lead: str) -> list[str]:
    return [name for name in ALL_DEPARTMENTS if name not in lead]


# -- parsing

PARSED = [
    # (text, lead phrases, responsible phrases)
    ("", (), ()),
    ("  \n ", (), ()),
    (
        "牵头部门：政府办，责任部门：政府各部门、各乡镇街道",
        ("政府办",),
        ("政府各部门", "各乡镇街道"),
    ),
    (
        "牵头部门：政府办；责任部门：政府各部门、各乡镇街道",
        ("政府办",),
        ("政府各部门", "各乡镇街道"),
    ),
    (
        "牵头部门：财政局、发改局，\n责任部门：政府各部门、各乡镇街道",
        ("财政局", "发改局"),
        ("政府各部门", "各乡镇街道"),
    ),
    ("责任部门：人社局、民政局", (), ("人社局", "民政局")),
    (
        "牵头部门：商服中心、发改局、商合局，责任部门：政府各有关部门",
        ("商服中心", "发改局", "商合局"),
        ("政府各有关部门",),
    ),
    ("牵头单位：政府办，责任单位：民政局", ("政府办",), ("民政局",)),
    ("牵头科室：办公室；责任科室：各科室", ("办公室",), ("各科室",)),
    ("牵头部门:政府办,责任部门:民政局;卫健局", ("政府办",), ("民政局", "卫健局")),
    ("牵头部门 ：政府办 责任部门 ：民政局 卫健局", ("政府办",), ("民政局", "卫健局")),
    ("医保基金监管科、稽核监控科", (), ("医保基金监管科", "稽核监控科")),
    ("医保基金监\n\n管科、稽核\n\n监控科", (), ("医保基金监管科", "稽核监控科")),  # wrapped cell
    ("各科室", (), ("各科室",)),
    ("民政局和卫健局及医保局", (), ("民政局", "卫健局", "医保局")),
    ("人力资源和社会保障局、住房和城乡建设局", (), ("人力资源和社会保障局", "住房和城乡建设局")),
    ("各乡镇人民政府、街道办事处", (), ("各乡镇人民政府、街道办事处",)),
    (
        "政府各部门、各乡镇人民政府、街道办事处",
        (),
        ("政府各部门", "各乡镇人民政府、街道办事处"),
    ),
    ("各乡镇人民政府 ， 街道办事处", (), ("各乡镇人民政府，街道办事处",)),
    ("责任部门：民政局、民政局、 卫健局。", (), ("民政局", "卫健局")),
    ("政府办等", (), ("政府办",)),
    ("配合部门：财政局", (), ("财政局",)),
    ("牵头部门：政府办，责任部门：政府办、民政局", ("政府办",), ("政府办", "民政局")),
]


@pytest.mark.parametrize(("text", "lead", "responsible"), PARSED)
def test_parse(text: str, lead: tuple[str, ...], responsible: tuple[str, ...]) -> None:
    assert parse_responsibility(text) == ParsedResponsibility(lead, responsible)


# -- resolving

RESOLVED = [
    # (text, lead, responsible, pending groups, unresolved)
    (
        "牵头部门：政府办，责任部门：政府各部门、各乡镇街道",
        ["政府办"],
        departments_but("政府办") + TOWNS_AND_STREETS,
        [],
        [],
    ),
    ("责任部门：人社局、民政局", [], ["人社局", "民政局"], [], []),
    ("各乡镇人民政府、街道办事处", [], TOWNS_AND_STREETS, [], []),
    ("各乡镇（街道）", [], TOWNS_AND_STREETS, [], []),
    ("各乡镇(街道)", [], TOWNS_AND_STREETS, [], []),
    ("乡镇街道", [], TOWNS_AND_STREETS, [], []),
    ("各乡镇", [], ["掌政镇", "大新镇", "通贵乡", "月牙湖乡"], [], []),
    ("各乡镇人民政府", [], ["掌政镇", "大新镇", "通贵乡", "月牙湖乡"], [], []),
    ("各街道办事处", [], ["凤凰北街", "解放西街", "文化街"], [], []),
    ("街道办事处", [], ["凤凰北街", "解放西街", "文化街"], [], []),
    ("各部门", [], ALL_DEPARTMENTS, [], []),
    ("政府各单位", [], ALL_DEPARTMENTS, [], []),
    (
        "牵头部门：民政局，责任部门：各单位",
        ["民政局"],
        [n for n in ALL_DEPARTMENTS + TOWNS_AND_STREETS if n != "民政局"],
        [],
        [],
    ),
    ("兴庆区民政局、医疗保障局、银川市兴庆区卫健局", [], ["民政局", "医保局", "卫健局"], [], []),
    ("责任部门：各决策单位", [], [], ["各决策单位"], []),
    ("牵头部门：司法局，责任部门：各起草单位", ["司法局"], [], ["各起草单位"], []),
    (
        "责任部门：民政局、教育局、各有关单位、相关部门",
        [],
        ["民政局"],
        [],
        ["教育局", "各有关单位", "相关部门"],
    ),
    ("各科室", [], [], [], ["各科室"]),  # the district has no sections
    ("牵头部门：政府办，责任部门：政府办、民政局", ["政府办"], ["民政局"], [], []),
    ("", [], [], [], []),
]


@pytest.mark.parametrize(("text", "lead", "responsible", "pending", "unresolved"), RESOLVED)
def test_resolve(
    text: str, lead: list[str], responsible: list[str], pending: list[str], unresolved: list[str]
) -> None:
    resolution = resolve_text(text, XINGQING)
    assert names(resolution.lead) == lead
    assert names(resolution.responsible) == responsible
    assert resolution.pending_groups == pending
    assert resolution.unresolved == unresolved
    assert resolution.complete is (not pending and not unresolved)


def test_groups_expand_to_their_members() -> None:
    directory = UnitDirectory(
        "xingqing",
        "银川市兴庆区",
        XINGQING.units,
        {
            "各决策单位": ["发改局", "兴庆区财政局", "教育局"],
            "各起草单位": ["各乡镇"],
            "政府各有关部门": [],
        },
    )
    resolution = resolve_text(
        "牵头部门：财政局，责任部门：各决策单位、各起草单位、政府各有关部门", directory
    )
    assert names(resolution.lead) == ["财政局"]
    assert names(resolution.responsible) == ["发改局", "掌政镇", "大新镇", "通贵乡", "月牙湖乡"]
    assert resolution.pending_groups == ["政府各有关部门"]
    assert resolution.unresolved == ["教育局"]  # a member no unit answers to


def test_a_group_replaces_a_builtin_collective_word() -> None:
    directory = UnitDirectory("x", "", XINGQING.units, {"各乡镇街道": ["掌政镇"]})
    assert names(resolve_text("各乡镇街道", directory).responsible) == ["掌政镇"]


def test_every_collective_word_of_the_table_expands() -> None:
    for word in COLLECTIVE_WORDS:
        resolution = resolve_text(
            word, XINGQING if "科室" not in word and "处室" not in word else YIBAO
        )
        assert resolution.responsible, word
        assert resolution.complete, word


# -- staff overrides


def test_override_replaces_one_side_and_keeps_the_other() -> None:
    resolution = resolve_text("牵头部门：政府办，责任部门：各决策单位", XINGQING)
    overridden = apply_override(resolution, None, ["发改局", "财政局", "政府办"], XINGQING)
    assert overridden.overridden
    assert names(overridden.lead) == ["政府办"]
    assert names(overridden.responsible) == ["发改局", "财政局"]
    assert overridden.complete
    assert resolution.pending_groups == ["各决策单位"]  # the form's reading is left as it was


def test_override_reports_unknown_names_and_can_clear_a_side() -> None:
    resolution = resolve_text("牵头部门：政府办，责任部门：民政局", XINGQING)
    overridden = apply_override(resolution, [], [" 卫健局 ", "教育局", ""], XINGQING)
    assert overridden.lead == []
    assert names(overridden.responsible) == ["卫健局"]
    assert overridden.unresolved == ["教育局"]


def test_resolution_lists_all_its_units() -> None:
    resolution = resolve_responsibility(ParsedResponsibility(("政府办",), ("民政局",)), XINGQING)
    assert names(resolution.units) == ["政府办", "民政局"]
    assert isinstance(resolution, Resolution)


# -- every responsibility text of the seeds


def _seed(name: str) -> str:
    path = SEEDS / name
    if not path.exists():
        skip_or_fail(f"seed {name} not present")
    return path.read_text(encoding="utf-8")


PENDING = "pending"
XINGQING_SEED_TEXTS = {
    # text as in the seed → (lead, responsible) or a pending group
    "牵头部门：政府办，责任部门：政府各部门": (["政府办"], departments_but("政府办")),
    "责任部门：人社局、退役军人事务局": ([], ["人社局", "退役军人事务局"]),
    "责任部门：民政局、卫健局、医保局": ([], ["民政局", "卫健局", "医保局"]),
    "责任部门：民政局、红十字会": ([], ["民政局", "红十字会"]),
    "牵头部门：司法局，责任部门：政府各部门、各乡镇街道": (
        ["司法局"],
        departments_but("司法局") + TOWNS_AND_STREETS,
    ),
    "牵头部门：财政局，责任部门：政府各部门、各乡镇街道": (
        ["财政局"],
        departments_but("财政局") + TOWNS_AND_STREETS,
    ),
    "责任部门：政府办、发改局": ([], ["政府办", "发改局"]),
    "牵头部门：财政局、发改局，\n责任部门：政府各部门、各乡镇街道": (
        ["财政局", "发改局"],
        departments_but("财政局", "发改局") + TOWNS_AND_STREETS,
    ),
    "责任部门：政府办、司法局": ([], ["政府办", "司法局"]),
    "牵头部门：司法局，责任部门：各起草单位": (["司法局"], "各起草单位"),
    "牵头部门：商服中心、发改局、商合局，\n责任部门：政府各有关部门": (
        ["商服中心", "发改局", "商合局"],
        "政府各有关部门",
    ),
    "责任部门：各决策单位": ([], "各决策单位"),
    "责任部门：政府办、城运中心": ([], ["政府办", "城运中心"]),
    "责任部门：政府办": ([], ["政府办"]),
    "牵头部门：政府办，责任部门：政府各部门、各乡镇街道": (
        ["政府办"],
        departments_but("政府办") + TOWNS_AND_STREETS,
    ),
    "牵头部门：政府办，责任部门：民政局、各乡镇街道": (["政府办"], ["民政局", *TOWNS_AND_STREETS]),
    "牵头部门：政府办；责任部门：政府各部门、各乡镇街道": (
        ["政府办"],
        departments_but("政府办") + TOWNS_AND_STREETS,
    ),
    "牵头部门：政府办，责任部门：政府各部门、各乡镇人民政府、街道办事处": (
        ["政府办"],
        departments_but("政府办") + TOWNS_AND_STREETS,
    ),
}


def _xingqing_cells() -> list[str]:
    """The 责任单位 cell of tasks 1–32: the cell just before each 完成时限 cell."""
    return re.findall(
        r"\n\t((?:牵头|责任)部门：.*?)\n\t\d{4}年", _seed("000_831a86fccb72c8ba.txt"), re.S
    )


def test_the_table_holds_every_xingqing_seed_text() -> None:
    cells = _xingqing_cells()
    assert len(cells) == 32
    assert set(cells) == set(XINGQING_SEED_TEXTS)


@pytest.mark.parametrize(("text", "expected"), XINGQING_SEED_TEXTS.items())
def test_every_xingqing_seed_text(text: str, expected: tuple[list[str], list[str] | str]) -> None:
    lead, responsible = expected
    resolution = resolve_text(text, XINGQING)
    assert names(resolution.lead) == lead
    assert resolution.unresolved == []
    if isinstance(responsible, str):  # a group the office has yet to fill in
        assert resolution.responsible == []
        assert resolution.pending_groups == [responsible]
    else:
        assert names(resolution.responsible) == responsible
        assert resolution.pending_groups == []


YIBAO_SEED_TEXTS = {
    "各科室": SECTION_NAMES,
    "办公室": ["办公室"],
    "综合科": ["综合科"],
    "医疗保障科": ["医疗保障科"],
    "稽核监控科": ["稽核监控科"],
    "医保基金监\n\n管科、稽核\n\n监控科": ["医保基金监管科", "稽核监控科"],
}


def test_the_table_holds_every_yibao_seed_text() -> None:
    cell = "|".join(re.escape(text) for text in YIBAO_SEED_TEXTS)
    cells = re.findall(rf"({cell})\s+\d{{4}} 年 \d+ 月底", _seed("001_9d14572e6a651744.txt"))
    assert len(cells) == 30  # every measure's 责任科室 is one of the table's texts
    assert set(cells) == set(YIBAO_SEED_TEXTS)
    assert cells.count("各科室") == 16


@pytest.mark.parametrize(("text", "responsible"), YIBAO_SEED_TEXTS.items())
def test_every_yibao_seed_text(text: str, responsible: list[str]) -> None:
    resolution = resolve_text(text, YIBAO)
    assert resolution.lead == []
    assert names(resolution.responsible) == responsible
    assert resolution.complete


def test_the_sample_directories_resolve_every_seed_text() -> None:
    xingqing = load_units(SAMPLES / "xingqing-units.yaml")
    for text in _xingqing_cells():
        resolution = resolve_text(text, xingqing)
        assert resolution.unresolved == [], text
        assert resolution.units or resolution.pending_groups, text
    yibao = load_units(SAMPLES / "yibao-units.yaml")
    assert [u.name for u in resolve_text("各科室", yibao).responsible] == SECTION_NAMES
