"""`taizhang plan import` of a file that would take assignments away (issue 13, part 4),
and of a file over the size limit (part 5)."""

from __future__ import annotations

import json

import pytest

from ledger.docx_forms import blank_form_bytes
from ledger.plan_yaml import dump_plan, load_plan
from ledger.samples import sample_path
from tests.cli_helpers import make_cli


@pytest.fixture
def cli(sqlite_url, monkeypatch, tmp_path):
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    return make_cli(sqlite_url, monkeypatch, tmp_path)


def shown_units(cli) -> dict[int, list[str]]:
    shown = json.loads(cli("plan", "show", "xingqing-2023", "--json").stdout)
    return {t["number"]: t["lead"] + t["responsible"] for t in shown["task_list"]}


def test_reimport_keeps_assignments_and_refuses_to_drop_them_silently(cli, tmp_path) -> None:
    cli("units", "import", str(sample_path("xingqing-units.yaml")))
    cli("plan", "import", str(sample_path("xingqing-2023.yaml")))
    before = shown_units(cli)

    # The office's own Word form, imported without --directory: nothing is lost.
    form = tmp_path / "xingqing-2023.docx"
    form.write_bytes(blank_form_bytes(load_plan(sample_path("xingqing-2023.yaml"))))
    again = cli("plan", "import", str(form))
    assert "assignments changed" not in again.stdout
    assert shown_units(cli) == before

    # A file that names fewer units for task 3: listed, refused, nothing saved.
    plan = load_plan(sample_path("xingqing-2023.yaml"))
    next(t for t in plan.tasks() if t.number == 3).responsibility = "责任部门：医保局"
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(dump_plan(plan), encoding="utf-8")

    refused = cli("plan", "import", str(fewer), ok=False)
    assert refused.exit_code == 1
    assert "task 3: 兴庆区民政局 (responsible)" in refused.stderr
    assert "--replace-assignments" in refused.stderr
    assert shown_units(cli) == before

    dry = json.loads(cli("plan", "import", str(fewer), "--dry-run", "--json").stdout)
    assert [r["unit"] for r in dry["changes"]["assignments_removed"]] == [
        "兴庆区民政局",
        "兴庆区卫生健康局",
    ]
    assert shown_units(cli) == before

    cli("plan", "import", str(fewer), "--replace-assignments")
    assert shown_units(cli)[3] == ["兴庆区医疗保障局"]


def test_a_file_over_import_max_mb_is_refused_by_name(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("IMPORT_MAX_MB", "0.001")  # about 1 KB
    plan = tmp_path / "big.yaml"
    plan.write_text(sample_path("xingqing-2023.yaml").read_text(encoding="utf-8"), "utf-8")

    refused = cli("plan", "import", str(plan), ok=False)

    assert refused.exit_code == 1
    assert f"{plan}: 文件太大" in refused.stderr.replace("\n", "")
    assert "IMPORT_MAX_MB" in refused.stderr
    units = cli("units", "import", str(sample_path("xingqing-units.yaml")), ok=False)
    assert units.exit_code == 1 and "文件太大" in units.stderr
