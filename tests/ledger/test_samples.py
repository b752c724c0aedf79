"""The shipped samples against the real forms they transcribe (../shared/seeds).

Every text of the sample plans must appear in the seed it comes from once whitespace is
removed from both: the seeds are conversions (Word → text, PDF → text) that wrap cells and
lines, and the samples join what the conversion split.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ledger.model import Layout, Plan
from ledger.plan_yaml import load_plan
from ledger.report import load_report
from ledger.samples import SAMPLES_DIR, sample_path
from tests.conftest import skip_or_fail

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SEED_FILL_FORM = SEEDS / "000_831a86fccb72c8ba.txt"  # 兴庆区 填报版 (Word → text)
SEED_DIVISION = SEEDS / "001_9d14572e6a651744.txt"  # 医保局 任务分工 (PDF → text)

FILLED_TASKS = [1, 3, 6, 12, 13, 14, 15, 22, 25, 29]

# Words in the 兴庆区 责任单位 column that are not one unit: labels, collective words that mean
# every unit of a kind, and groups whose members only the office knows.
LABELS = {"牵头部门", "责任部门"}
COLLECTIVE = {"政府各部门", "各乡镇街道", "各乡镇人民政府", "街道办事处"}
GROUPS = {"各决策单位", "各起草单位", "政府各有关部门"}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def seed_text(path: Path) -> str:
    if not path.is_file():
        skip_or_fail(f"seed not found: {path}")
    return path.read_text(encoding="utf-8").replace("[bookmark: _GoBack]", "")


@pytest.fixture(scope="module")
def xingqing() -> Plan:
    return load_plan(sample_path("xingqing-2023.yaml"))


@pytest.fixture(scope="module")
def yibao() -> Plan:
    return load_plan(sample_path("yibao-2023.yaml"))


@pytest.fixture(scope="module")
def seed000() -> str:
    return seed_text(SEED_FILL_FORM)


@pytest.fixture(scope="module")
def seed001() -> str:
    return seed_text(SEED_DIVISION)


def plan_texts(plan: Plan) -> list[tuple[str, str]]:
    """(where, text) for every text of the plan that the form prints."""
    texts = [("title", plan.title), ("subtitle", plan.subtitle), ("intro", plan.intro)]
    for section in plan.sections:
        if section.title:
            texts.append(("section", section.title))
        for item in section.items:
            texts.append(("item", item.title))
            for task in item.tasks:
                for field in ("name", "content", "indicator", "responsibility", "due_text"):
                    texts.append((f"task {task.number} {field}", getattr(task, field)))
    return [(where, text) for where, text in texts if text]


# ---------------------------------------------------------------- sample_path


def test_sample_path_finds_by_name_and_stem():
    assert sample_path("xingqing-2023.yaml") == SAMPLES_DIR / "xingqing-2023.yaml"
    assert sample_path("yibao-2023") == SAMPLES_DIR / "yibao-2023.yaml"


def test_sample_path_names_what_exists():
    with pytest.raises(FileNotFoundError) as err:
        sample_path("no-such-sample")
    assert "no-such-sample" in str(err.value)
    assert "xingqing-2023.yaml" in str(err.value)


# ---------------------------------------------------------------- 兴庆区 填报版


def test_xingqing_header(xingqing: Plan):
    assert xingqing.key == "xingqing-2023"
    assert xingqing.layout is Layout.FILL_FORM
    assert xingqing.directory == "xingqing"
    assert xingqing.year == 2023
    assert xingqing.issuer == "银川市兴庆区人民政府办公室"
    assert xingqing.title == "银川市兴庆区人民政府办公室2023年政务公开工作要点任务落实台账"
    assert xingqing.subtitle == "（填报版）"
    assert [r.due for r in xingqing.rounds] == ["2023-08-10", "2023-12-01"]


def test_xingqing_counts(xingqing: Plan):
    assert xingqing.counts() == {"sections": 4, "items": 16, "tasks": 33}
    assert [t.number for t in xingqing.tasks()] == list(range(1, 34))
    assert [s.title for s in xingqing.sections] == [
        "全环节推进信息公开",
        "完善政策发布推送和解读咨询机制",
        "完善决策政民互动和公众参与机制",
        "完善公开标准化规范化和管理保障机制",
    ]


def test_xingqing_items_and_their_tasks(xingqing: Plan):
    items = [(i.title, [t.number for t in i.tasks]) for i in xingqing.items()]
    assert items == [
        ("围绕高质量发展做好政府信息专题公开", [1]),
        ("围绕优化政策环境聚焦保障改善民生", [2, 3, 4]),
        ("加强政府自身建设推进信息公开", [5, 6, 7, 8]),
        ("规范政策集中发布", [9, 10]),
        ("扩扩大政策精准推送", [11]),
        ("推行政策多元解读", [12, 13, 14]),
        ("优化政策咨询服务", [15]),
        ("推进重大行政决策事项目录公开", [16, 17, 18, 19]),
        ("优化政民互动主渠道建设", [20, 21]),
        ("深度推进政府开放", [22]),
        ("推开村务公开试点", [23, 24]),
        ("规范公开平台建设", [25, 26]),
        ("规范政府公报内容及形式", [27]),
        ("大兴调查研究之风", [28]),
        ("强化业务工作指导", [29, 30, 31, 32]),
        ("报送落实进展情况", [33]),
    ]


def test_xingqing_every_text_is_in_the_seed(xingqing: Plan, seed000: str):
    seed = squash(seed000)
    missing = [(w, t) for w, t in plan_texts(xingqing) if squash(t) not in seed]
    assert not missing


def test_xingqing_every_task_has_content_and_indicator(xingqing: Plan):
    for task in xingqing.tasks():
        assert task.content and task.indicator, task.number
        if task.number != 33:
            assert task.responsibility and task.due_text == "2023年10月", task.number


def test_xingqing_exact_texts(xingqing: Plan):
    assert xingqing.task(2).name == "抓好稳岗就业信息公开"
    assert xingqing.task(5).name == "抓好司法行政信息公开"
    assert xingqing.task(9).name == "整合政策集中发布"
    assert xingqing.task(8).name == "推动行政事业性收费常态公开。"
    assert xingqing.task(30).name == "坚持正向激励"
    assert [t.number for t in xingqing.tasks() if not t.name] == [1, 11, 31, 32, 33]
    assert (
        xingqing.task(8).responsibility
        == "牵头部门：财政局、发改局，责任部门：政府各部门、各乡镇街道"
    )
    assert (
        xingqing.task(11).responsibility
        == "牵头部门：商服中心、发改局、商合局，责任部门：政府各有关部门"
    )
    assert xingqing.item_of(11).title == "扩扩大政策精准推送"
    assert xingqing.item_of(30).title == "强化业务工作指导"
    task33 = xingqing.task(33)
    assert task33.indicator == "依据落实进展情况报送情况和实际掌握情况"
    assert task33.due_text == "" and task33.responsibility == ""
    assert task33.deadline(xingqing.year) is None
    assert xingqing.task(28).due_text == "2023年10月"
    assert xingqing.intro.startswith(
        "《银川市兴庆区人民政府办公室2023年政务公开工作要点》共4个板块"
    )
    assert xingqing.intro.endswith("对未按时完成的进行季度通报，年度扣分。")


def test_xingqing_texts_carry_no_conversion_artifacts(xingqing: Plan):
    for where, text in plan_texts(xingqing):
        assert "bookmark" not in text, where
        assert "\n" not in text and "\t" not in text, where
        assert text == text.strip(), where


# ---------------------------------------------------------------- 医保局 任务分工


def test_yibao_header(yibao: Plan):
    assert yibao.key == "yibao-2023"
    assert yibao.layout is Layout.DIVISION
    assert yibao.directory == "yibao"
    assert yibao.year == 2023
    assert yibao.issuer == "市医疗保障局"
    assert yibao.title == "2023 年政务公开工作要点任务分工"
    assert [r.due for r in yibao.rounds] == ["2023-09-10", "2023-12-10"]


def test_yibao_counts(yibao: Plan):
    assert yibao.counts() == {"sections": 0, "items": 15, "tasks": 30}
    assert not yibao.has_sections
    assert [t.number for t in yibao.tasks()] == list(range(1, 31))


def test_yibao_items_and_their_tasks(yibao: Plan):
    items = [(i.title, [t.number for t in i.tasks]) for i in yibao.items()]
    assert items == [
        ("围绕高质量发展强化信息公开", [1, 2, 3]),
        ("围绕民生持续改善强化信息公开", [4, 5]),
        ("围绕政府自身建设强化信息公开", [6]),
        ("优化政策意见征集", [7, 8, 9, 10]),
        ("规范政策管理服务", [11, 12]),
        ("推行政策多元解读", [13, 14, 15]),
        ("扩大政策精准推送", [16, 17]),
        ("探索政策沟通咨询", [18]),
        ("优化政民互动渠道建设", [19, 20]),
        ("深度推进政府开放", [21]),
        ("规范平台信息化建设", [22, 23, 24]),
        ("优化评估考核体系", [25]),
        ("加强队伍建设及培训", [26, 27, 28]),
        ("加强业务沟通交流。", [29]),
        ("认真落实工作台账", [30]),
    ]


def test_yibao_every_text_is_in_the_seed(yibao: Plan, seed001: str):
    seed = squash(seed001)
    missing = [(w, t) for w, t in plan_texts(yibao) if squash(t) not in seed]
    assert not missing


def test_yibao_measures(yibao: Plan):
    for task in yibao.tasks():
        assert task.content.startswith(f"{task.number}."), task.number
        assert not task.name and not task.indicator, task.number
        assert task.responsibility and task.due_text, task.number
    assert yibao.task(7).due_text == "2023 年 3 月底"
    assert yibao.task(1).due_text == "2023 年 11 月底"
    assert yibao.task(17).responsibility == "医疗保障科"
    assert yibao.task(4).responsibility == "医保基金监管科、稽核监控科"
    assert "一般信件在 5个工作日内办结" in yibao.task(19).content
    assert yibao.task(1).content.startswith("1.做好黄河流域")


# ---------------------------------------------------------------- the filled report


def seed_rows(seed: str) -> dict[int, str]:
    """The text of each table row of seed 000, by 序号 (a row starts with a tab and its number)."""
    parts = re.split(r"^\t(\d+)$", seed, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_report_header():
    report = load_report(sample_path("xingqing-2023-yibao-report.yaml"))
    assert report.plan == "xingqing-2023"
    assert report.round == "2023-12-01"
    assert report.unit == "兴庆区医疗保障局"
    assert report.contact == "周琪"
    assert report.phone == "8616234"
    assert all(a.status is None for a in report.answers)


def test_report_texts_are_the_seed_rows(seed000: str):
    report = load_report(sample_path("xingqing-2023-yibao-report.yaml"))
    assert [a.task for a in report.answers] == FILLED_TASKS
    rows = seed_rows(seed000)
    assert sorted(rows) == list(range(1, 34))
    for answer in report.answers:
        assert answer.text, answer.task
        assert squash(answer.text) in squash(rows[answer.task]), answer.task
    texts = [a.text for a in report.answers]
    assert len(set(texts)) == len(texts)
    assert "银川市 12345 政务服务便民热线" in report.answer(15).text


def test_report_tasks_exist_in_the_plan(xingqing: Plan):
    report = load_report(sample_path("xingqing-2023-yibao-report.yaml"))
    numbers = {t.number for t in xingqing.tasks()}
    assert {a.task for a in report.answers} <= numbers


# ---------------------------------------------------------------- units directories


def load_units(name: str) -> dict:
    return yaml.safe_load(sample_path(name).read_text(encoding="utf-8"))


def unit_index(data: dict) -> dict[str, str]:
    """Every name a unit is known by (canonical, short, aliases) → its canonical name."""
    index: dict[str, str] = {}
    for unit in data["units"]:
        for known in [unit["name"], unit["short"], *unit.get("aliases", [])]:
            assert index.get(known, unit["name"]) == unit["name"], f"{known} names two units"
            index[known] = unit["name"]
    return index


def test_xingqing_units_directory():
    data = load_units("xingqing-units.yaml")
    assert data["directory"] == "xingqing"
    assert data["title"] == "银川市兴庆区"
    kinds: dict[str, list[str]] = {}
    for unit in data["units"]:
        kinds.setdefault(unit["kind"], []).append(unit["short"])
    assert set(kinds) == {"department", "township", "street"}
    assert kinds["township"] == ["掌政镇", "大新镇", "通贵乡", "月牙湖乡"]
    assert len(kinds["street"]) == 11
    assert set(data["groups"]) == GROUPS
    index = unit_index(data)
    assert index["医疗保障局"] == index["医保局"] == "兴庆区医疗保障局"
    assert index["兴庆区政府办"] == "兴庆区人民政府办公室"


def test_every_unit_named_in_the_fill_form_resolves(xingqing: Plan):
    index = unit_index(load_units("xingqing-units.yaml"))
    named = set()
    for task in xingqing.tasks():
        named.update(w for w in re.split(r"[：，、；,]", task.responsibility) if w)
    unresolved = sorted(named - LABELS - COLLECTIVE - GROUPS - set(index))
    assert not unresolved
    assert "退役军人事务局" in named and "城运中心" in named


def test_yibao_units_directory(yibao: Plan):
    data = load_units("yibao-units.yaml")
    assert data["directory"] == "yibao"
    assert data["title"] == "市医疗保障局"
    assert all(u["kind"] == "section" and u["name"] == u["short"] for u in data["units"])
    index = unit_index(data)
    assert set(index) == {"办公室", "综合科", "医保基金监管科", "稽核监控科", "医疗保障科"}
    named = set()
    for task in yibao.tasks():
        named.update(w for w in task.responsibility.split("、") if w)
    assert sorted(named - {"各科室"} - set(index)) == []
