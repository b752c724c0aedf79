"""Plans and filled forms read from the office's Word and Excel ledgers (docs/import.md).

A ledger table is found by its header row (序号 | 重点工作 | 主要内容 | …, in either official
layout), never by its position. Merged cells are read from the XML (w:gridSpan, w:vMerge)
or from the sheet's merged ranges rather than guessed from repeated text, so a 重点工作 cell
merged over its tasks and a 主要内容 header spanning a separate task-name column both read
as the form means them. Section headings (一、…) may stand between tables or in a full-width
row. Anything a person can fix is a LedgerError naming the file and the place; anything
worth knowing that is not an error (a skipped row, a deadline kept only as text) is an
FormWarning of the PlanImport.

Both file formats are first turned into the same grid (rows of cells with their grid column,
span and merge state), and one reader walks that grid.

The stages, one module each: files (opening), grid (the shared grid), docx_grid and
xlsx_grid (each format into the grid), text (clean-up), header (header recognition), rows
(row events), preamble (title, intro, 填报单位 line), builder (the plan) and filled_form
(a unit's answers). Only the names in __all__ are the package's interface.
"""

from __future__ import annotations

from pathlib import Path

from ledger.errors import LedgerError
from ledger.form_import.builder import FormWarning, PlanBuilder, PlanImport
from ledger.form_import.columns_file import (
    columns_file_for,
    load_columns_file,
    save_columns_file,
)
from ledger.form_import.docx_grid import docx_blocks
from ledger.form_import.files import (
    MAX_IMPORT_BYTES,
    FileInput,
    FileTooLarge,
    check_size,
    read_bytes,
    source_name,
)
from ledger.form_import.filled_form import ReportReader
from ledger.form_import.header import ColumnMap, Field, Recogniser, parse_columns
from ledger.form_import.preamble import Notice
from ledger.form_import.rows import FormNotRecognised
from ledger.form_import.xlsx_grid import xlsx_blocks
from ledger.model import Plan
from ledger.plan_yaml import load_plan
from ledger.report import UnitReport, load_report

# python-docx and openpyxl are imported where a file is opened: they are slow to import and
# most users of ledger/ never read a form.

__all__ = [
    "MAX_IMPORT_BYTES",
    "ColumnMap",
    "Field",
    "FileTooLarge",
    "FormNotRecognised",
    "FormWarning",
    "Notice",
    "PlanImport",
    "columns_file_for",
    "load_columns_file",
    "parse_columns",
    "read_filled_form_docx",
    "read_plan_docx",
    "read_plan_file",
    "read_plan_xlsx",
    "read_report_file",
    "save_columns_file",
]


def read_plan_docx(
    path_or_stream: FileInput,
    *,
    key: str | None = None,
    source: str | None = None,
    columns: ColumnMap | None = None,
    year: int | None = None,
    max_bytes: int | None = MAX_IMPORT_BYTES,
) -> PlanImport:
    """The plan in a .docx whose tables are in the fill-form or the division layout.

    `columns` is the office's mapping of header words to roles (parse_columns); `year` the
    year of deadlines written without one, when the title and notice do not say it. A file
    over `max_bytes` is refused (FileTooLarge) before it is read.
    """
    source = source_name(path_or_stream, source, "<docx>")
    blocks = docx_blocks(read_bytes(path_or_stream, source, max_bytes), source)
    return PlanBuilder(source, key, Recogniser(columns or ColumnMap()), year).build(blocks)


def read_plan_xlsx(
    path_or_stream: FileInput,
    *,
    key: str | None = None,
    source: str | None = None,
    columns: ColumnMap | None = None,
    year: int | None = None,
    max_bytes: int | None = MAX_IMPORT_BYTES,
) -> PlanImport:
    """The plan in the first sheet of an .xlsx that has a recognisable header row."""
    source = source_name(path_or_stream, source, "<xlsx>")
    recogniser = Recogniser(columns or ColumnMap())
    blocks = xlsx_blocks(read_bytes(path_or_stream, source, max_bytes), source, recogniser)
    return PlanBuilder(source, key, recogniser, year).build(blocks)


def read_filled_form_docx(
    path_or_stream: FileInput,
    plan: Plan,
    *,
    source: str | None = None,
    max_bytes: int | None = MAX_IMPORT_BYTES,
) -> UnitReport:
    """A unit's filled 填报版: the 填报单位 line and every non-blank 进展落实情况 cell."""
    source = source_name(path_or_stream, source, "<docx>")
    blocks = docx_blocks(read_bytes(path_or_stream, source, max_bytes), source)
    return ReportReader(source, plan).read(blocks)


def read_plan_file(
    path: Path | str,
    *,
    columns: ColumnMap | None = None,
    year: int | None = None,
    max_bytes: int | None = MAX_IMPORT_BYTES,
) -> PlanImport:
    """A plan from .yaml/.yml, .docx or .xlsx, chosen by the file's suffix.

    For a form, the office's saved mapping next to it (FILE.columns.yaml, see
    columns_file_for) is read first; `columns` is applied over it. A file over `max_bytes`
    is refused (FileTooLarge).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        check_size(path, str(path), max_bytes)
        return PlanImport(load_plan(path))
    if suffix in (".docx", ".xlsx"):
        saved = columns_file_for(path)
        if saved.is_file():
            columns = load_columns_file(saved).merged(columns)
        reader = read_plan_docx if suffix == ".docx" else read_plan_xlsx
        return reader(path, columns=columns, year=year, max_bytes=max_bytes)
    raise LedgerError(
        f"不支持的文件类型“{path.suffix or '（无后缀）'}”：计划可以是 .yaml、.docx 或 .xlsx",
        source=str(path),
    )


def read_report_file(
    path: Path | str, plan: Plan, *, max_bytes: int | None = MAX_IMPORT_BYTES
) -> UnitReport:
    """A unit's report from .yaml/.yml (the report format) or a filled .docx form."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        check_size(path, str(path), max_bytes)
        return load_report(path)
    if suffix == ".docx":
        return read_filled_form_docx(path, plan, max_bytes=max_bytes)
    raise LedgerError(
        f"不支持的文件类型“{path.suffix or '（无后缀）'}”：填报可以是 .yaml 或 .docx",
        source=str(path),
    )
