"""`taizhang plan import FILE --dry-run --json` on other offices' tables (issue 13, part 3)."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import make_cli
from tests.ledger import shapes


@pytest.fixture
def cli(sqlite_url, monkeypatch, tmp_path):
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    return make_cli(sqlite_url, monkeypatch, tmp_path)


def test_dry_run_json_describes_what_was_read_and_saves_nothing(cli, tmp_path) -> None:
    form = tmp_path / "jinfeng-2021.docx"
    form.write_bytes(shapes.district_docx())

    shown = json.loads(cli("plan", "import", str(form), "--dry-run", "--json").stdout)

    assert (shown["sections"], shown["items"], shown["tasks"]) == (2, 3, 5)
    assert shown["dry_run"] is True and shown["key"] == "jinfeng-2021"
    assert shown["notice"]["number"] == "金政办发〔2021〕15号"
    first = shown["task_list"][0]
    assert (first["number"], first["lead"], first["responsible"]) == (
        1,
        "区发改局",
        "区统计局、区财政局",
    )
    assert (first["due_text"], first["due_date"]) == ("年底前", "2021-12-31")
    undatable = shown["task_list"][3]
    assert (undatable["due_text"], undatable["due_date"]) == ("根据上级部署", None)
    assert [c["role"] for c in shown["columns"][0]["columns"]] == [
        "name",
        "content",
        "lead",
        "responsible",
        "due",
    ]
    assert any("根据上级部署" in w for w in shown["warnings"])
    assert {u["why"] for u in shown["unresolved"]} == {"no_directory"}
    assert shown["changes"]["created"] is True
    assert json.loads(cli("plan", "list", "--json").stdout) == []  # the dry run saved nothing


def test_a_refused_form_as_json_lists_the_tables_seen(cli, tmp_path) -> None:
    from tests.ledger.test_form_shapes import odd_header_docx

    form = tmp_path / "anpai.docx"
    form.write_bytes(odd_header_docx())

    result = cli("plan", "import", str(form), "--dry-run", "--json", ok=False)

    assert result.exit_code == 1
    refused = json.loads(result.stdout)
    assert "文件中没有找到台账表格" in refused["error"]
    assert refused["tables"][0]["cells"] == ["事由", "承接主体", "协同主体", "办理期限"]

    cli("plan", "import", str(form), "--columns", "事由=content,承接主体=lead", "--save-columns")
    assert (tmp_path / "anpai.columns.yaml").is_file()
    again = json.loads(cli("plan", "import", str(form), "--dry-run", "--json").stdout)
    assert again["task_list"][0]["lead"] == "县财政局"
    assert again["changes"]["changed"] is False  # imported just before, with the saved mapping
