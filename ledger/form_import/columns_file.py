"""The office's saved column mapping: FILE.columns.yaml next to its form.

    # 任务分解表.columns.yaml — how taizhang reads 任务分解表.docx
    columns:
      工作要求: content
      配合单位: responsible
      "#1": number          # the first header cell, by position

`taizhang plan import FILE --columns … --save-columns` writes it; every later import of FILE
(or of a file of the same name next to it) reads it first.
"""

from __future__ import annotations

from pathlib import Path

from ledger.errors import LedgerError
from ledger.form_import.header import ColumnMap, column_map
from ledger.yamlio import dump_yaml, load_yaml_file

COLUMNS_SUFFIX = ".columns.yaml"


def columns_file_for(form: Path | str) -> Path:
    """任务分解表.docx → 任务分解表.columns.yaml, in the same folder."""
    form = Path(form)
    return form.with_name(form.stem + COLUMNS_SUFFIX)


def load_columns_file(path: Path | str) -> ColumnMap:
    path = Path(path)
    data = load_yaml_file(path)
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not columns:
        raise LedgerError(
            "应有“columns:”，下列 表头: 角色（如 工作要求: content）", source=str(path)
        )
    try:
        return column_map({str(k): str(v) for k, v in columns.items()})
    except LedgerError as err:
        raise err.located(str(path)) from None


def save_columns_file(path: Path | str, mapping: ColumnMap, form_name: str = "") -> Path:
    path = Path(path)
    data = {"columns": {key: role.value for key, role in mapping.roles.items()}}
    comment = f"# 如何读取 {form_name} 的表头（taizhang plan import）\n" if form_name else ""
    path.write_text(comment + dump_yaml(data), encoding="utf-8")
    return path
