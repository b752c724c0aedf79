"""The command line, through Typer's runner, on a database of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.cli import app
from ledger.samples import sample_path
from tests.cli_helpers import make_cli, runner


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    return make_cli(database_url, monkeypatch, tmp_path)


def load_samples(cli) -> None:
    cli("units", "import", str(sample_path("xingqing-units.yaml")))
    cli("units", "import", str(sample_path("yibao-units.yaml")))
    cli("plan", "import", str(sample_path("xingqing-2023.yaml")))
    cli("plan", "import", str(sample_path("yibao-2023.yaml")))


def test_done_when_sequence(cli):
    load_samples(cli)
    shown = json.loads(cli("plan", "show", "xingqing-2023", "--json").stdout)
    assert (shown["sections"], shown["items"], shown["tasks"]) == (4, 16, 33)
    assert len(shown["task_list"]) == 33
    for task in shown["task_list"]:
        assert (
            task["lead"]
            or task["responsible"]
            or task["unresolved"]
            or task["pending_groups"]
            or not task["responsibility"]
        ), task["number"]
    division = json.loads(cli("plan", "show", "yibao-2023", "--json").stdout)
    assert (division["sections"], division["items"], division["tasks"]) == (0, 15, 30)
    assert len(division["task_list"][0]["responsible"]) == 5


def test_second_import_reports_nothing_changed(cli):
    load_samples(cli)
    again = cli("plan", "import", str(sample_path("xingqing-2023.yaml")))
    assert "nothing changed" in again.stdout


def test_plan_import_lists_unresolved_and_pending(cli):
    cli("units", "import", str(sample_path("xingqing-units.yaml")))
    result = cli("plan", "import", str(sample_path("xingqing-2023.yaml")))
    assert "各决策单位" in result.stderr and "17" in result.stderr


def test_plan_export_round_trips(cli, tmp_path):
    load_samples(cli)
    out = tmp_path / "out.yaml"
    cli("plan", "export", "xingqing-2023", "-o", str(out))
    from ledger.plan_yaml import load_plan

    assert load_plan(out) == load_plan(sample_path("xingqing-2023.yaml"))
    assert "nothing changed" in cli("plan", "import", str(out)).stdout


def test_lists_and_rounds(cli):
    load_samples(cli)
    plans = json.loads(cli("plan", "list", "--json").stdout)
    assert [p["key"] for p in plans] == ["xingqing-2023", "yibao-2023"]
    units = json.loads(cli("units", "list", "--directory", "yibao", "--json").stdout)
    assert [u["name"] for u in units] == [
        "办公室",
        "综合科",
        "医保基金监管科",
        "稽核监控科",
        "医疗保障科",
    ]
    cli("round", "add", "xingqing-2023", "--due", "2024-03-15", "--name", "2024年一季度")
    rounds = json.loads(cli("round", "list", "--plan", "xingqing-2023", "--json").stdout)
    assert [r["due"] for r in rounds] == ["2023-08-10", "2023-12-01", "2024-03-15"]
    bad = cli("round", "add", "xingqing-2023", "--due", "15/03/2024", ok=False)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_bad_plan_file_names_file_and_place_and_changes_nothing(cli, tmp_path):
    load_samples(cli)
    before = cli("plan", "show", "xingqing-2023", "--json").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: xingqing-2023\ntitle: 改过的标题\nlayout: fill-form\nsections:\n"
        "  - title: 一\n    items:\n      - title: 项\n        tasks:\n"
        "          - number: 1\n            content: 内容\n            due: 看情况再说\n",
        encoding="utf-8",
    )
    result = cli("plan", "import", str(bad), ok=False)
    assert result.exit_code == 1
    assert "bad.yaml" in result.stderr and "完成时限" in result.stderr
    assert "Traceback" not in result.output
    assert cli("plan", "show", "xingqing-2023", "--json").stdout == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key: k\ntitle: t\nlayout: fill-form\nsections: [\n", "YAML"),
        ("key: k\ntitle: t\nlayout: table\nitems: []\n", "未知的版式"),
        (
            "key: k\ntitle: t\nlayout: division\nitems:\n  - title: i\n    tasks:\n"
            "      - number: 1\n",
            "没有主要内容",
        ),
        (
            "key: k\ntitle: t\nlayout: division\nitems:\n  - title: i\n    tasks:\n"
            "      - {number: 2, content: a}\n      - {number: 2, content: b}\n",
            "序号 2 重复",
        ),
    ],
)
def test_bad_input_messages(cli, tmp_path, text, message):
    bad = tmp_path / "plan.yaml"
    bad.write_text(text, encoding="utf-8")
    result = cli("plan", "import", str(bad), ok=False)
    assert result.exit_code == 1
    assert message in result.stderr and "plan.yaml" in result.stderr


def test_strict_import_refuses_unknown_unit(cli, tmp_path):
    cli("units", "import", str(sample_path("yibao-units.yaml")))
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "key: k\ntitle: t\nlayout: division\ndirectory: yibao\nitems:\n"
        "  - title: i\n    tasks:\n      - {number: 1, content: a, "
        "responsibility: 宣传科}\n",
        encoding="utf-8",
    )
    result = cli("plan", "import", str(plan), "--strict", ok=False)
    assert "宣传科" in result.stderr
    assert json.loads(cli("plan", "list", "--json").stdout) == []


def test_missing_database_schema_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "list"])
    assert result.exit_code == 1
    assert "taizhang db upgrade" in result.stderr


def test_malformed_setting_is_one_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFF_IDS", "12,abc")
    result = runner.invoke(app, ["plan", "list"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "STAFF_IDS" in result.stderr


def test_run_without_token_says_so(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "BOT_TOKEN" in result.stderr


def test_run_with_the_web_form_and_no_secret_says_so_before_starting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAtesttokenxxxxxxxxxxxxxxxxxxxxxxxxx")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9")  # never asked
    monkeypatch.setenv("WEB__PORT", "8090")
    monkeypatch.delenv("WEB__SECRET", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "WEB__SECRET" in result.stderr
    assert result.stderr.strip().count("\n") == 0  # one line, no traceback


def test_every_command_has_help():
    for args in (
        ["--help"],
        ["db", "--help"],
        ["plan", "import", "--help"],
        ["plan", "show", "--help"],
        ["units", "import", "--help"],
        ["round", "add", "--help"],
        ["calendar", "import", "--help"],
        ["run", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.stdout, args


def test_cli_starts_without_heavy_imports():
    code = (
        "import sys; import bot.cli; "
        "heavy = [m for m in ('aiogram', 'sqlalchemy', 'docx', 'openpyxl') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_round_close_and_reopen(cli):
    load_samples(cli)
    assert "closed" in cli("round", "close", "2023-08-10", "--plan", "xingqing-2023").stdout
    rounds = json.loads(cli("round", "list", "--plan", "xingqing-2023", "--json").stdout)
    assert [r["status"] for r in rounds] == ["closed", "open"]
    cli("round", "close", "2023-08-10", "--plan", "xingqing-2023", "--reopen")
    rounds = json.loads(cli("round", "list", "--plan", "xingqing-2023", "--json").stdout)
    assert [r["status"] for r in rounds] == ["open", "open"]
    missing = cli("round", "close", "2030-01-01", ok=False)
    assert missing.exit_code == 1 and "no round" in missing.stderr


def test_a_round_in_a_year_without_holidays_warns_until_they_are_loaded(cli, tmp_path):
    from ledger.workdays import PACKAGE_YEARS

    load_samples(cli)
    year = PACKAGE_YEARS.stop  # the first year the calendar package does not know
    added = cli("round", "add", "xingqing-2023", "--due", f"{year}-03-15")
    assert f"holidays of {year} are not loaded" in added.stderr
    preview = cli("remind", "preview", f"{year}-03-15", "--plan", "xingqing-2023", "--json")
    assert f"holidays of {year} are not loaded" in preview.stderr
    assert json.loads(preview.stdout)  # still a full preview: weekdays count, nothing crashes
    calendar = tmp_path / f"calendar-{year}.yaml"
    calendar.write_text(
        f"year: {year}\nholidays:\n  - name: 春节\n    from: {year}-02-06\n    to: {year}-02-12\n"
        f"workdays: []\n",
        encoding="utf-8",
    )
    cli("calendar", "import", str(calendar))
    again = cli("remind", "preview", f"{year}-03-15", "--plan", "xingqing-2023", "--json")
    assert "not loaded" not in again.stderr


def test_staff_fill_a_group_and_the_plan_follows(cli):
    load_samples(cli)
    shown = json.loads(cli("plan", "show", "xingqing-2023", "--json").stdout)
    assert "各决策单位" in shown["pending_groups"]
    result = cli("units", "group", "各决策单位", "-m", "政府办", "-m", "发改局")
    assert "兴庆区人民政府办公室" in result.stdout
    shown = json.loads(cli("plan", "show", "xingqing-2023", "--json").stdout)
    task17 = next(t for t in shown["task_list"] if t["number"] == 17)
    assert task17["responsible"] == ["兴庆区人民政府办公室", "兴庆区发展和改革局"]
    assert "各决策单位" not in shown["pending_groups"]
    # Importing the units file again (its group still empty) keeps what staff filled in.
    cli("units", "import", str(sample_path("xingqing-units.yaml")))
    shown = json.loads(cli("plan", "show", "xingqing-2023", "--json").stdout)
    assert "各决策单位" not in shown["pending_groups"]
    bad = cli("units", "group", "各决策单位", "-m", "不存在局", ok=False)
    assert bad.exit_code == 1 and "不存在局" in bad.stderr


def test_plan_file_reminder_settings_are_checked_stored_and_used(cli, tmp_path):
    load_samples(cli)
    text = sample_path("xingqing-2023.yaml").read_text(encoding="utf-8")
    good = tmp_path / "with-reminders.yaml"
    good.write_text(
        text + "reminders:\n  before: [3]\n  overdue_days: 0\n  escalate: false\n",
        encoding="utf-8",
    )
    cli("plan", "import", str(good))
    preview = json.loads(
        cli("remind", "preview", "2023-12-01", "--plan", "xingqing-2023", "--json").stdout
    )
    round_steps = {
        (line["date"], line["step"]) for line in preview if not line["step"].startswith("task-")
    }
    # 3 working days before Friday 2023-12-01, the morning of the deadline, nothing after.
    assert round_steps == {("2023-11-28", "before-3"), ("2023-12-01", "due")}
    out = tmp_path / "back.yaml"
    cli("plan", "export", "xingqing-2023", "-o", str(out))
    assert "before:" in out.read_text(encoding="utf-8")
    bad = tmp_path / "bad-reminders.yaml"
    bad.write_text(text + "reminders:\n  office_hours: 18:00-09:00\n", encoding="utf-8")
    result = cli("plan", "import", str(bad), ok=False)
    assert result.exit_code == 1 and "office_hours" in result.stderr


def test_a_round_in_the_plan_file_can_have_its_own_reminders(cli, tmp_path):
    load_samples(cli)
    text = sample_path("xingqing-2023.yaml").read_text(encoding="utf-8")
    text = text.replace("  - due: 2023-12-01", "  - due: 2023-12-01\n    reminders: {before: [1]}")
    assert "before: [1]" in text
    edited = tmp_path / "round-reminders.yaml"
    edited.write_text(text, encoding="utf-8")
    cli("plan", "import", str(edited))
    preview = json.loads(
        cli("remind", "preview", "2023-12-01", "--plan", "xingqing-2023", "--json").stdout
    )
    before = {(x["date"], x["step"]) for x in preview if x["step"].startswith("before")}
    assert before == {("2023-11-30", "before-1")}
