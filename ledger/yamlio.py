"""YAML reading that remembers line numbers, so errors can name the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ledger.errors import LedgerError


class LineDict(dict):
    """A mapping that knows the line it started on (1-based)."""

    line: int = 0


class LineList(list):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise LedgerError(f"重复的键“{key}”", place=f"第{key_node.start_mark.line + 1}行")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    return items


def _construct_plain(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    # Dates stay as text: the plan keeps 完成时限 and round dates exactly as written.
    return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain)


def load_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except LedgerError as err:
        raise err.located(source) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        place = f"第{mark.line + 1}行" if mark else None
        problem = getattr(err, "problem", None) or str(err)
        raise LedgerError(f"YAML 格式错误：{problem}", source=source, place=place) from None


def load_yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LedgerError("文件不存在", source=str(path)) from None
    except UnicodeDecodeError:
        raise LedgerError("文件不是 UTF-8 文本", source=str(path)) from None
    return load_yaml_text(text, str(path))


def place_of(node: Any, fallback: str | None = None) -> str | None:
    line = getattr(node, "line", 0)
    return f"第{line}行" if line else fallback


class _BlockDumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """YAML a clerk can read: keys in order, Chinese as is, long text folded sensibly."""
    return yaml.dump(
        data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000, indent=2
    )
