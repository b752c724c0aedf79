"""Header rows: which column of a ledger table holds what.

Each header cell is given a role (Field) by, in this order: the office's own mapping
(`--columns 工作要求=content`, or a saved columns file); an exact synonym; a combined header
(`配合/责任单位`, `工作任务及要求`) whose parts are synonyms; a synonym followed by up to four
characters (`责任单位/科室`); a keyword (…时限…, …牵头…, …措施…). Then by position: a blank cell
before 主要内容 is its task-name half, a blank last cell is 进展落实情况, an unnamed first
column of numbers is 序号 and one of merged cells a grouping column. A table whose only text
column is a 工作任务-like one takes it as the task text; of two grouping columns the left one is
the 板块. The Header keeps how each column was recognised, so the command line can say it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import LedgerError
from ledger.form_import.grid import GridCell, GridRow, Merge
from ledger.form_import.text import parse_number, plain
from ledger.model import Layout


class Field(StrEnum):
    """The role of a column; the value is the name `--columns` uses."""

    NUMBER = "number"
    SECTION = "section"
    ITEM = "item"
    NAME = "name"
    CONTENT = "content"
    INDICATOR = "indicator"
    LEAD = "lead"
    RESPONSIBLE = "responsible"
    DUE = "due"
    PROGRESS = "progress"
    IGNORE = "ignore"

    @property
    def label(self) -> str:
        return FIELD_LABELS[self]


FIELD_LABELS: dict[Field, str] = {
    Field.NUMBER: "序号",
    Field.SECTION: "板块",
    Field.ITEM: "重点工作",
    Field.NAME: "任务名称",
    Field.CONTENT: "主要内容",
    Field.INDICATOR: "量化指标",
    Field.LEAD: "牵头单位",
    Field.RESPONSIBLE: "责任单位",
    Field.DUE: "完成时限",
    Field.PROGRESS: "进展落实情况",
    Field.IGNORE: "不读",
}
# Other names `--columns` accepts for a role.
ROLE_ALIASES: dict[str, Field] = {
    "deadline": Field.DUE,
    "category": Field.SECTION,
    "task": Field.CONTENT,
    "unit": Field.RESPONSIBLE,
    "units": Field.RESPONSIBLE,
    "skip": Field.IGNORE,
    "none": Field.IGNORE,
    **{label: f for f, label in FIELD_LABELS.items()},
    "责任部门": Field.RESPONSIBLE,
    "配合单位": Field.RESPONSIBLE,
    "牵头部门": Field.LEAD,
    "具体措施": Field.CONTENT,
    "重点任务": Field.ITEM,
}

# The words a header cell may use for each column; the first is the fill-form word.
HEADER_WORDS: dict[Field, tuple[str, ...]] = {
    Field.NUMBER: ("序号", "编号", "序", "项次", "顺序号"),
    Field.SECTION: (
        "板块",
        "工作板块",
        "类别",
        "任务类别",
        "工作类别",
        "类型",
        "领域",
        "工作领域",
        "方面",
        "分类",
    ),
    Field.ITEM: (
        "重点工作",
        "重点任务",
        "工作任务",
        "大项",
        "工作要点",
        "主要任务",
        "任务",
        "具体任务",
        "工作事项",
        "重点事项",
        "工作重点",
        "任务事项",
        "项目",
        "工作项目",
        "事项",
    ),
    Field.NAME: ("任务名称", "名称", "重点任务名称", "事项名称", "工作名称"),
    Field.CONTENT: (
        "主要内容",
        "具体措施",
        "工作措施",
        "具体内容",
        "任务内容",
        "主要措施",
        "工作要求",
        "具体要求",
        "工作内容",
        "工作举措",
        "主要举措",
        "具体举措",
        "推进措施",
        "落实措施",
        "任务要求",
        "工作任务及要求",
        "任务及要求",
        "具体工作措施",
        "目标任务",
        "具体工作",
        "内容",
        "措施",
        "要求",
    ),
    Field.INDICATOR: (
        "量化指标",
        "考核指标",
        "指标",
        "工作标准",
        "目标要求",
        "完成标准",
        "工作目标",
        "预期目标",
        "预期成效",
        "考核标准",
        "评价标准",
        "成果形式",
        "标准",
    ),
    Field.LEAD: (
        "牵头单位",
        "牵头部门",
        "牵头科室",
        "牵头处室",
        "主责单位",
        "主责部门",
        "牵头",
    ),
    Field.RESPONSIBLE: (
        "责任单位",
        "责任科室",
        "责任部门",
        "责任主体",
        "责任处室",
        "配合单位",
        "配合部门",
        "配合科室",
        "协办单位",
        "协办部门",
        "参与单位",
        "承办单位",
        "实施单位",
        "落实单位",
        "责任股室",
        "配合",
    ),
    Field.DUE: (
        "完成时限",
        "完成时间",
        "时限",
        "完成期限",
        "时间节点",
        "时限要求",
        "时间要求",
        "完成时间节点",
        "时间安排",
        "进度安排",
        "完成日期",
        "截止时间",
        "办结时限",
        "时间",
    ),
    Field.PROGRESS: (
        "进展落实情况",
        "进展情况",
        "落实情况",
        "完成情况",
        "落实进展情况",
        "工作进展",
        "推进情况",
        "工作落实情况",
        "工作完成情况",
        "进展",
        "完成进度",
        "进度",
    ),
    Field.IGNORE: (
        "备注",
        "说明",
        "分管领导",
        "责任领导",
        "责任人",
        "联系人",
        "联系电话",
        "督办领导",
    ),
}
# Item words that also name the task text itself when a table has no content column.
TASK_WORDS = frozenset(
    {"重点任务", "工作任务", "主要任务", "任务", "具体任务", "任务事项", "工作事项", "事项"}
)
# Words that name a column only in company: a row of them alone may be a short task row.
WEAK_WORDS = frozenset(
    [
        "序",
        "大项",
        "任务",
        "事项",
        "项目",
        "内容",
        "措施",
        "要求",
        "标准",
        "指标",
        "名称",
        "时间",
        "进展",
        "进度",
        "牵头",
        "配合",
        "说明",
        "类别",
        "类型",
        "领域",
        "方面",
        "分类",
        "单位",
        "部门",
        "科室",
        "时限",
        "节点",
        "期限",
        "举措",
    ]
)
_CATEGORY_WORDS = frozenset(HEADER_WORDS[Field.SECTION])
_WORD_FIELD: dict[str, Field] = {w: f for f, words in HEADER_WORDS.items() for w in words}
_WORDS_LONGEST_FIRST = sorted(_WORD_FIELD.items(), key=lambda pair: -len(pair[0]))
# Keywords inside a header cell, tried in order, when no synonym matched.
_KEYWORDS: tuple[tuple[str, Field], ...] = (
    ("进展", Field.PROGRESS),
    ("落实情况", Field.PROGRESS),
    ("完成情况", Field.PROGRESS),
    ("牵头", Field.LEAD),
    ("配合", Field.RESPONSIBLE),
    ("协办", Field.RESPONSIBLE),
    ("责任单位", Field.RESPONSIBLE),
    ("责任部门", Field.RESPONSIBLE),
    ("责任科室", Field.RESPONSIBLE),
    ("时限", Field.DUE),
    ("期限", Field.DUE),
    ("时间", Field.DUE),
    ("节点", Field.DUE),
    ("指标", Field.INDICATOR),
    ("标准", Field.INDICATOR),
    ("措施", Field.CONTENT),
    ("举措", Field.CONTENT),
    ("内容", Field.CONTENT),
    ("要求", Field.CONTENT),
    ("序号", Field.NUMBER),
    ("编号", Field.NUMBER),
    ("任务", Field.ITEM),
    ("单位", Field.RESPONSIBLE),
    ("部门", Field.RESPONSIBLE),
    ("科室", Field.RESPONSIBLE),
)
# Of a combined header's parts (配合/责任单位), the role that wins.
_COMBINED_PRIORITY = (
    Field.CONTENT,
    Field.RESPONSIBLE,
    Field.DUE,
    Field.PROGRESS,
    Field.INDICATOR,
    Field.LEAD,
    Field.ITEM,
    Field.SECTION,
    Field.NAME,
    Field.NUMBER,
)
_COMBINED_SPLIT = re.compile(r"[/／、及和与或]")
_UNIT_SUFFIXES = ("单位", "部门", "科室", "处室")
_HEADER_CELL_MAX = 16  # a header cell is a few words; a longer text is data
DIVISION_WORDS = {"重点任务", "具体措施", "责任科室", "进展情况"}
FILL_FORM_WORDS = {"重点工作", "主要内容", "量化指标", "进展落实情况"}
HEADER_HINT = (
    "表头应有“主要内容/具体措施/工作要求”等任务内容列，以及“序号”“责任单位”“完成时限”等列"
)


class How(StrEnum):
    """How a column's role was found, as the command line says it."""

    OPTION = "columns"  # the office's mapping
    SYNONYM = "synonym"
    KEYWORD = "keyword"
    POSITION = "position"


@dataclass(frozen=True)
class Match:
    field: Field
    word: str  # the synonym or keyword that named it ("" by position)
    how: How


def header_field(text: str) -> tuple[Field, str] | None:
    """The column a header cell names by its words, and the word that named it."""
    match = match_words(text)
    return (match.field, match.word) if match else None


def match_words(text: str) -> Match | None:
    words = _header_words(text)
    if not words or len(words) > _HEADER_CELL_MAX or not _wordlike(words):
        return None
    if words in _WORD_FIELD:
        return Match(_WORD_FIELD[words], words, How.SYNONYM)
    combined = _combined(words)
    if combined:
        return combined
    for word, fld in _WORDS_LONGEST_FIRST:
        if len(word) >= 2 and words.startswith(word) and len(words) <= len(word) + 4:
            return Match(fld, word, How.SYNONYM)
    if words.startswith("各") or any(c in words for c in "，,；;"):
        return None  # 各部门, 民政局、卫健局: names of units, not of a column
    for keyword, fld in _KEYWORDS:
        if keyword in words:
            return Match(fld, keyword, How.KEYWORD)
    return None


def _wordlike(words: str) -> bool:
    """Header words: no digits standing for a 序号 or a date, no label with a value after it."""
    if parse_number(words) is not None or re.search(r"\d", words):
        return False
    return not re.search(r"[:：].", words)


def _header_words(text: str) -> str:
    words = plain(text).strip("*＊:：")
    return re.sub(r"[（(][^）)]*[）)]$", "", words)


def _combined(words: str) -> Match | None:
    """配合/责任单位, 牵头及配合单位, 工作任务及要求: every part a synonym (a part without the
    unit suffix borrows the last part's)."""
    parts = [p for p in _COMBINED_SPLIT.split(words) if p]
    if len(parts) < 2:
        return None
    suffix = next((s for s in _UNIT_SUFFIXES if parts[-1].endswith(s)), "")
    fields = []
    for part in parts:
        fld = _WORD_FIELD.get(part) or _WORD_FIELD.get(part + suffix)
        if fld is None:
            return None
        fields.append(fld)
    best = min(fields, key=_COMBINED_PRIORITY.index)
    return Match(best, words, How.SYNONYM)


# ---------------------------------------------------------------------------------------------
# The office's own mapping


@dataclass(frozen=True)
class ColumnMap:
    """`--columns 工作要求=content,配合单位=responsible`: header words (or #N, the Nth header
    cell from the left) → role. Matched against header cells without spaces and remarks."""

    roles: Mapping[str, Field] = field(default_factory=dict)

    def role(self, text: str, position: int) -> Field | None:
        if f"#{position}" in self.roles:
            return self.roles[f"#{position}"]
        key = _header_words(text)
        return self.roles.get(key) if key else None

    def keys_used(self, header_texts: Sequence[tuple[str, int]]) -> set[str]:
        used = set()
        for text, position in header_texts:
            if f"#{position}" in self.roles:
                used.add(f"#{position}")
            if _header_words(text) in self.roles:
                used.add(_header_words(text))
        return used

    def __bool__(self) -> bool:
        return bool(self.roles)

    def merged(self, other: ColumnMap | None) -> ColumnMap:
        """This mapping with `other`'s entries over it."""
        return ColumnMap({**self.roles, **(other.roles if other else {})})


def parse_role(name: str) -> Field:
    key = name.strip()
    try:
        return Field(key.lower())
    except ValueError:
        pass
    if key in ROLE_ALIASES or key.lower() in ROLE_ALIASES:
        return ROLE_ALIASES.get(key) or ROLE_ALIASES[key.lower()]
    roles = "、".join(f.value for f in Field)
    raise LedgerError(f"不认识的列角色“{name}”（可用：{roles}）")


def column_map(pairs: Mapping[str, str] | Sequence[tuple[str, str]]) -> ColumnMap:
    """A ColumnMap from header → role pairs; a role is a Field value or an alias."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    roles: dict[str, Field] = {}
    for header, role in items:
        key = header.strip()
        key = key if re.fullmatch(r"#\d+", key) else _header_words(key)
        if not key:
            raise LedgerError(f"列映射“{header}={role}”缺少表头文字")
        roles[key] = parse_role(str(role))
    return ColumnMap(roles)


def parse_columns(text: str) -> ColumnMap:
    """`工作要求=content,配合单位=responsible` (commas or semicolons between, = or ：)."""
    pairs = []
    for piece in re.split(r"[,，;；]", unicodedata.normalize("NFKC", text)):
        if not piece.strip():
            continue
        header, sep, role = piece.partition("=")
        if not sep:
            header, sep, role = piece.partition(":")
        if not sep or not role.strip():
            raise LedgerError(f"列映射“{piece.strip()}”应写成 表头=角色（如 工作要求=content）")
        pairs.append((header, role))
    return column_map(pairs)


# ---------------------------------------------------------------------------------------------
# A header row


@dataclass(frozen=True)
class Column:
    field: Field
    first: int  # grid columns it covers, inclusive
    last: int
    header: str
    how: How = How.SYNONYM
    word: str = ""
    task_word: bool = False  # an item column named like the task text (工作任务)

    @property
    def span(self) -> int:
        return self.last - self.first + 1


@dataclass
class Header:
    columns: list[Column]
    layout: Layout
    place: str = ""
    table: str = ""

    def has(self, fld: Field) -> bool:
        return any(c.field is fld for c in self.columns)

    def of(self, fld: Field) -> list[Column]:
        return [c for c in self.columns if c.field is fld]

    def cells(self, row: GridRow, fld: Field) -> list[GridCell]:
        """The row's cells under the column(s) of that field, left to right."""
        return [cell for column in self.of(fld) for cell in self.cells_of(row, column)]

    @staticmethod
    def cells_of(row: GridRow, column: Column) -> list[GridCell]:
        return [cell for cell in row.cells if column.first <= cell.column <= column.last]

    def describe(self) -> list[dict[str, str]]:
        """Each column: its header, role and how it was recognised (for --json)."""
        return [
            {
                "header": c.header,
                "role": c.field.value,
                "label": c.field.label,
                "how": c.how.value,
            }
            for c in self.columns
        ]


@dataclass
class Recogniser:
    """Reads header rows with the office's mapping, if any; remembers what it was told."""

    mapping: ColumnMap = field(default_factory=ColumnMap)
    seen: list[tuple[str, int]] = field(default_factory=list)  # header texts of read headers

    def candidate(self, row: GridRow) -> bool:
        """A row of header words naming at least two columns: a header, perhaps incomplete."""
        matches = self._matches(row)
        named = [m for m in matches if m]
        texts = [c for c in row.cells if c.text]
        if any(parse_number(c.text) is not None for c in texts):
            return False  # a task row (1 | …), not a header
        if len({m.field for m in named}) < 2 or any(
            len(_header_words(c.text)) > _HEADER_CELL_MAX for c in texts
        ):
            return False
        strong = sum(1 for m in named if m.how is How.OPTION or m.word not in WEAK_WORDS)
        if strong < 2 and not (strong == 1 and len(named) >= 3):
            return False  # 大项 | 内容二: a short task row, not a header
        return len(named) * 5 >= len(texts) * 3  # most of its cells are header words

    def read(self, row: GridRow, sample: Sequence[GridRow] = ()) -> Header | None:
        """The columns of a header row, or None when the row is not a complete header."""
        if not self.candidate(row):
            return None
        columns = self._columns(row, sample)
        if not any(c.field is Field.CONTENT for c in columns):
            return None
        if not any(c.field not in (Field.CONTENT, Field.IGNORE, Field.NAME) for c in columns):
            return None
        self.seen.extend((c.text, i) for i, c in enumerate(row.cells, start=1))
        words = {c.word for c in columns}
        division = bool(words & DIVISION_WORDS) and not words & FILL_FORM_WORDS
        return Header(columns, Layout.DIVISION if division else Layout.FILL_FORM, row.place)

    def missing(self, row: GridRow) -> list[str]:
        """What a header-like row lacks (for the error message)."""
        columns = self._columns(row, ())
        if any(c.field is Field.CONTENT for c in columns):
            return ["序号、责任单位或完成时限等列"]
        return ["主要内容（或具体措施、工作要求）"]

    def refine(self, header: Header, row: GridRow) -> Header | None:
        """A second header row under cells spanning several columns (责任单位 over 牵头单位 |
        配合单位): its named cells replace the columns they lie under. None: not such a row."""
        if not row.cells or not any(c.merge is Merge.CONTINUE or not c.text for c in row.cells):
            return None
        named = [(cell, self._match(cell, i)) for i, cell in enumerate(row.cells, start=1)]
        texts = [(cell, m) for cell, m in named if cell.text]
        if not texts or any(m is None for _, m in texts):
            return None
        if not any(
            c.span > 1 and c.first <= cell.column <= c.last
            for cell, _ in texts
            for c in header.columns
        ):
            return None
        subs = [
            Column(m.field, cell.column, cell.column + cell.span - 1, cell.text, m.how, m.word)
            for cell, m in texts
            if m is not None
        ]
        kept = [c for c in header.columns if not any(c.first <= s.first <= c.last for s in subs)]
        self.seen.extend((c.text, i) for i, c in enumerate(row.cells, start=1))
        columns = sorted(kept + subs, key=lambda c: c.first)
        return Header(columns, header.layout, header.place, header.table)

    # -----------------------------------------------------------------------------------------

    def _match(self, cell: GridCell, position: int) -> Match | None:
        if self.mapping:
            role = self.mapping.role(cell.text, position)
            if role is not None:
                return Match(role, _header_words(cell.text), How.OPTION)
        return match_words(cell.text)

    def _matches(self, row: GridRow) -> list[Match | None]:
        return [self._match(cell, i) for i, cell in enumerate(row.cells, start=1)]

    def _columns(self, row: GridRow, sample: Sequence[GridRow]) -> list[Column]:
        columns: list[Column] = []
        unnamed: list[GridCell] = []
        for cell, match in zip(row.cells, self._matches(row), strict=True):
            last = cell.column + cell.span - 1
            if match:
                task_word = match.field is Field.ITEM and match.word in TASK_WORDS
                fld = match.field
                columns.append(
                    Column(fld, cell.column, last, cell.text, match.how, match.word, task_word)
                )
            else:
                unnamed.append(cell)
        columns = _adopt_unnamed(columns, unnamed, row.width, sample)
        return _settle_roles(columns)


def _adopt_unnamed(
    columns: list[Column], unnamed: list[GridCell], width: int, sample: Sequence[GridRow]
) -> list[Column]:
    """Give header cells left blank (or unknown words) the column the form means.

    A blank header cell right before 主要内容 is its task-name half (the header merged by eye,
    not by gridSpan); a blank last header cell where no progress column is named is the
    进展落实情况 column (seed 000's fourth table prints its header so); an unnamed first column
    holding numbers is 序号, one of vertically merged cells a grouping column.
    """
    result = list(columns)
    for cell in unnamed:
        first, last = cell.column, cell.column + cell.span - 1
        content = next((c for c in result if c.field is Field.CONTENT), None)
        has = {c.field for c in result}
        values = [
            v
            for row in sample
            for v in row.cells
            if first <= v.column <= last and v.column == first
        ]
        if not cell.text and content and last == content.first - 1:
            index = result.index(content)
            result[index] = Column(
                Field.CONTENT, first, content.last, content.header, content.how, content.word
            )
        elif not cell.text and Field.PROGRESS not in has and last == width - 1:
            result.append(Column(Field.PROGRESS, first, last, "", How.POSITION))
        elif first == 0 and Field.NUMBER not in has and _mostly_numbers(values):
            result.append(Column(Field.NUMBER, first, last, cell.text, How.POSITION))
        elif first == 0 and values and any(v.merge is not Merge.NONE for v in values):
            result.append(Column(Field.SECTION, first, last, cell.text, How.POSITION))
        else:
            result.append(Column(Field.IGNORE, first, last, cell.text, How.POSITION))
    return sorted(result, key=lambda c: c.first)


def _mostly_numbers(cells: list[GridCell]) -> bool:
    texts = [c.text for c in cells if c.text]
    return (
        len(texts) >= 1 and sum(parse_number(t) is not None for t in texts) * 4 >= len(texts) * 3
    )


def _settle_roles(columns: list[Column]) -> list[Column]:
    """Roles that depend on the other columns: the task text and the grouping columns."""
    result = list(columns)
    if not any(c.field is Field.CONTENT for c in result):
        tasks = [c for c in result if c.field is Field.ITEM and c.task_word]
        if tasks:  # 序号 | 工作任务 | 牵头单位 …: the 工作任务 column is the task's text
            target = tasks[-1]
            result[result.index(target)] = Column(
                Field.CONTENT, target.first, target.last, target.header, target.how, target.word
            )
    groups = [c for c in result if c.field in (Field.SECTION, Field.ITEM) and c.how != How.OPTION]
    if not any(c.field is Field.ITEM for c in result) and groups:
        # 类别 | 序号 | 工作任务 …: a lone grouping column is the 大项
        only = groups[-1]
        result[result.index(only)] = _with_field(only, Field.ITEM)
    items = [c for c in result if c.field is Field.ITEM and c.how != How.OPTION]
    if len(items) >= 2:
        named = [c for c in items if c.task_word]
        if len(named) < len(items) and not any(c.field is Field.NAME for c in result):
            # 重点工作 | 工作任务 | 工作要求: the 工作任务 is each task's short name
            for column in named:
                result[result.index(column)] = _with_field(column, Field.NAME)
        elif not any(c.field is Field.SECTION for c in result):
            result[result.index(items[0])] = _with_field(items[0], Field.SECTION)
    return result


def _with_field(column: Column, fld: Field) -> Column:
    return Column(
        fld,
        column.first,
        column.last,
        column.header,
        column.how,
        column.word,
        column.task_word and fld is Field.ITEM,
    )


# Back-compatible helpers: the recogniser without a mapping.
_PLAIN = Recogniser()


def header_candidate(row: GridRow) -> bool:
    return _PLAIN.candidate(row)


def read_header(row: GridRow) -> Header | None:
    return Recogniser().read(row)


def is_category_word(word: str) -> bool:
    return word in _CATEGORY_WORDS
