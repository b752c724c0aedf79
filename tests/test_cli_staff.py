"""`taizhang staff add|list|remove` on a database of its own."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import make_cli


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    invoke = make_cli(database_url, monkeypatch, tmp_path)
    invoke("db", "upgrade")
    return invoke


def test_staff_are_added_listed_changed_and_removed(cli):
    assert "added" in cli("staff", "add", "90002", "--name", "钱科员", "--role", "viewer").stdout
    listed = json.loads(cli("staff", "list", "--json").stdout)
    expected = {"telegram_id": 90002, "name": "钱科员", "role": "viewer", "from": "command"}
    assert listed == [expected]
    assert "updated" in cli("staff", "add", "90002", "--role", "admin").stdout
    assert json.loads(cli("staff", "list", "--json").stdout)[0]["role"] == "admin"
    cli("staff", "remove", "90002")
    assert json.loads(cli("staff", "list", "--json").stdout) == []


def test_removing_someone_who_is_not_staff_says_so(cli):
    result = cli("staff", "remove", "12345", ok=False)
    assert result.exit_code == 1 and "12345" in result.output


def test_an_unknown_role_is_refused_before_anything_changes(cli):
    result = cli("staff", "add", "90003", "--role", "boss", ok=False)
    assert result.exit_code != 0
    assert json.loads(cli("staff", "list", "--json").stdout) == []
