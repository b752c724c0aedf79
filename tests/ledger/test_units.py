"""The units directory: name matching, YAML and CSV files, and the mistakes they can hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import LedgerError
from ledger.units import (
    Unit,
    UnitDirectory,
    UnitKind,
    dump_units_csv,
    dump_units_yaml,
    load_units,
    parse_units_csv,
    parse_units_yaml,
    region_prefixes,
)

SAMPLES = Path(__file__).parents[2] / "ledger" / "samples"

YIBAO = Unit("兴庆区医疗保障局", "医保局", UnitKind.DEPARTMENT, ("医疗保障局",))
SECTION = Unit("综合科（财务）", "综合科", UnitKind.SECTION)
DIRECTORY = UnitDirectory(
    "xingqing",
    "银川市兴庆区",
    [
        YIBAO,
        Unit("兴庆区人民政府办公室", "政府办", UnitKind.DEPARTMENT, ("区政府办",)),
        Unit("掌政镇人民政府", "掌政镇", UnitKind.TOWNSHIP),
        Unit("凤凰北街街道办事处", "凤凰北街", UnitKind.STREET),
        SECTION,
    ],
    {"各决策单位": [], "各起草单位": ["政府办"]},
)

MATCHES = [
    ("兴庆区医疗保障局", YIBAO),  # canonical
    ("医保局", YIBAO),  # short
    ("医疗保障局", YIBAO),  # alias
    ("兴庆区医保局", YIBAO),  # region added to the short name
    ("银川市兴庆区医疗保障局", YIBAO),  # the wider region stripped
    ("兴庆区 医疗 保障局", YIBAO),  # whitespace
    ("医保局\n", YIBAO),
    ("综合科(财务)", SECTION),  # ASCII parentheses for full-width ones
    ("综合科（财务）", SECTION),
    ("综合科", SECTION),
    ("银川市医疗保障局", None),  # the city's bureau is another unit
    ("医保", None),
    ("各决策单位", None),  # a group is no unit
    ("", None),
    ("  ", None),
]


@pytest.mark.parametrize(("name", "unit"), MATCHES)
def test_resolve(name: str, unit: Unit | None) -> None:
    assert DIRECTORY.resolve(name) == unit


def test_get_names_the_missing_unit() -> None:
    assert DIRECTORY.get("医保局") is YIBAO
    with pytest.raises(LedgerError, match="“卫健局”"):
        DIRECTORY.get("卫健局")


def test_groups_and_kinds() -> None:
    assert DIRECTORY.group_members("各决策单位") == []
    assert DIRECTORY.group_members("各起草单位") == ["政府办"]
    assert DIRECTORY.group_members("政府各部门") is None
    assert [u.short_name for u in DIRECTORY.units_of_kind(UnitKind.TOWNSHIP, UnitKind.STREET)] == [
        "掌政镇",
        "凤凰北街",
    ]


@pytest.mark.parametrize(
    ("title", "prefixes"),
    [
        ("银川市兴庆区", ("银川市兴庆区", "兴庆区")),
        ("宁夏回族自治区银川市", ("宁夏回族自治区银川市", "银川市")),
        ("市医疗保障局", ()),
        ("", ()),
    ],
)
def test_region_prefixes(title: str, prefixes: tuple[str, ...]) -> None:
    assert region_prefixes(title) == prefixes


def test_unit_names_and_kind_from_text() -> None:
    unit = Unit("办公室", "办公室", "section", ["局办"])  # type: ignore[arg-type]
    assert unit.kind is UnitKind.SECTION
    assert unit.aliases == ("局办",)
    assert unit.names == ("办公室", "局办")
    assert unit.display_name == "办公室"


def test_a_directory_refuses_a_name_of_two_units() -> None:
    with pytest.raises(LedgerError, match="名称“医保局”同时属于"):
        UnitDirectory("x", "", [YIBAO, Unit("市医疗保障局", "医保局")])


# -- files

YAML_TEXT = """\
directory: xingqing
title: 银川市兴庆区
units:
  - name: 兴庆区医疗保障局
    short: 医保局
    aliases: [医疗保障局]
    kind: department
  - name: 掌政镇人民政府
    short: 掌政镇
    aliases: 掌政镇政府、掌政
    kind: 乡镇
  - name: 凤凰北街街道办事处
    kind: street
groups:
  各决策单位: []
  各起草单位:
  政府各有关部门: [医保局]
"""


def test_read_yaml() -> None:
    directory = parse_units_yaml(YAML_TEXT)
    assert directory.key == "xingqing"
    assert directory.title == "银川市兴庆区"
    assert directory.units == [
        YIBAO,
        Unit("掌政镇人民政府", "掌政镇", UnitKind.TOWNSHIP, ("掌政镇政府", "掌政")),
        Unit("凤凰北街街道办事处", "", UnitKind.STREET),
    ]
    assert directory.groups == {"各决策单位": [], "各起草单位": [], "政府各有关部门": ["医保局"]}


def test_yaml_round_trip() -> None:
    directory = parse_units_yaml(YAML_TEXT)
    text = dump_units_yaml(directory)
    assert "aliases: [医疗保障局]" in text
    assert parse_units_yaml(text) == directory


CSV_TEXT = """\ufeffname,short_name,aliases,kind
兴庆区医疗保障局,医保局,医疗保障局,department
掌政镇人民政府,掌政镇,掌政镇政府|掌政,township

凤凰北街街道办事处,,,街道
"""


def test_read_csv() -> None:
    directory = parse_units_csv(CSV_TEXT, key="xingqing")
    assert directory.key == "xingqing"
    assert [(u.name, u.short_name, u.aliases, u.kind) for u in directory] == [
        ("兴庆区医疗保障局", "医保局", ("医疗保障局",), UnitKind.DEPARTMENT),
        ("掌政镇人民政府", "掌政镇", ("掌政镇政府", "掌政"), UnitKind.TOWNSHIP),
        ("凤凰北街街道办事处", "", (), UnitKind.STREET),
    ]


def test_csv_with_chinese_headers_in_another_order() -> None:
    directory = parse_units_csv("类型,名称,别名\n科室,稽核监控科,稽核科、监控科\n")
    assert directory.units == [Unit("稽核监控科", "", UnitKind.SECTION, ("稽核科", "监控科"))]


def test_csv_round_trip() -> None:
    directory = parse_units_yaml(YAML_TEXT)
    text = dump_units_csv(directory)
    assert text.splitlines()[0] == "name,short_name,aliases,kind"
    assert "掌政镇人民政府,掌政镇,掌政镇政府|掌政,township" in text
    assert parse_units_csv(text, key="xingqing", title="银川市兴庆区").units == directory.units


def test_load_units_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "xq.csv").write_text(CSV_TEXT, encoding="utf-8")
    (tmp_path / "xq.yaml").write_text(YAML_TEXT, encoding="utf-8")
    from_csv = load_units(tmp_path / "xq.csv")
    from_yaml = load_units(str(tmp_path / "xq.yaml"))
    assert from_csv.key == "xq"
    assert from_yaml.key == "xingqing"
    assert from_csv.units == from_yaml.units


@pytest.mark.parametrize("sample", ["xingqing-units.yaml", "yibao-units.yaml"])
def test_the_samples_load_and_round_trip(sample: str) -> None:
    directory = load_units(SAMPLES / sample)
    assert len(directory) > 0
    assert parse_units_yaml(dump_units_yaml(directory)) == directory


HEAD = "directory: x\nunits:\n"
FIRST = "  - {name: 甲局, kind: department, short: 甲}\n"
BAD_YAML = [
    # (text, the place named, the problem named)
    ("units: [\n", "第2行", "YAML 格式错误"),
    ("- a\n", None, "映射"),
    ("title: x\nunits: []\n", None, "缺少 directory"),
    ("directory: x\nunit: []\n", None, "未知的键 unit"),
    (HEAD + "  - name: 甲局\n    kind: bureau\n", "第3行（units 第1项）", "类型“bureau”无法识别"),
    (HEAD + "  - name: 甲局\n", "第3行（units 第1项）", "单位“甲局”缺少类型 kind"),
    (HEAD + "  - name: ''\n    kind: department\n", "第3行（units 第1项）", "单位名称为空"),
    (
        HEAD + FIRST + "  - {name: 甲局, kind: department}\n",
        "第4行",
        "单位“甲局”重复（另见第3行）",
    ),
    (
        HEAD + FIRST + "  - {name: 乙局, kind: department, aliases: [甲]}\n",
        "第4行",
        "名称“甲”同时属于“甲局”和“乙局”（另见第3行）",
    ),
    (HEAD + "  - {name: 甲局, kind: department, colour: red}\n", "第3行（units 第1项）", "colour"),
    ("directory: x\ngroups: [各决策单位]\n", None, "groups 应当是一个映射"),
]


@pytest.mark.parametrize(("text", "place", "problem"), BAD_YAML)
def test_bad_yaml(text: str, place: str | None, problem: str) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_units_yaml(text, source="units.yaml")
    assert caught.value.source == "units.yaml"
    assert caught.value.place == place
    assert problem in caught.value.message


BAD_CSV = [
    ("", None, "空"),
    ("name,short_name\n甲局,甲\n", "第1行", "缺少 kind"),
    ("name,kind\n甲局,department\n乙局,bureau\n", "第3行", "类型“bureau”无法识别"),
    ("name,kind\n,department\n", "第2行", "单位名称为空"),
    ("name,kind\n甲局,department\n\n甲局,department\n", "第4行", "单位“甲局”重复（另见第2行）"),
    (
        "name,short_name,aliases,kind\n甲局,甲,,department\n乙局,乙,甲,department\n",
        "第3行",
        "名称“甲”同时属于“甲局”和“乙局”",
    ),
]


@pytest.mark.parametrize(("text", "place", "problem"), BAD_CSV)
def test_bad_csv(text: str, place: str | None, problem: str) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_units_csv(text, source="units.csv")
    assert caught.value.source == "units.csv"
    assert caught.value.place == place
    assert problem in caught.value.message


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="无法读取"):
        load_units(tmp_path / "missing.yaml")
