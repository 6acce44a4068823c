"""YAML that remembers where each value came from, so errors can say ``file:line field: message``.

PyYAML's safe loader, with mappings and sequences built as :class:`MarkedDict` and
:class:`MarkedList`: plain ``dict`` / ``list`` subclasses that also record the line of every key
and item. :func:`line_of` walks a pydantic error location (or any path) down such a document and
returns the line of the deepest element it reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


class MarkedDict(dict):
    """A dict that knows its own line and the line of each value (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class MarkedList(list):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _map(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    out = MarkedDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = value_node.start_mark.line + 1
    return out


def _seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    out = MarkedList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _seq)
# Dates stay strings: tasks talk about relative dates, and "2026-03-01" must not become a date.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlSyntaxError(ValueError):
    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


def load_yaml(path: Path) -> Any:
    """Parse ``path``; a syntax error becomes :class:`YamlSyntaxError` with the file and line."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlSyntaxError(path, line, f"{exc.problem or exc}") from exc


def line_of(doc: Any, loc: Sequence[Any]) -> int:
    """Line of the deepest element of ``doc`` that ``loc`` reaches (unknown steps are skipped).

    Skipping lets a pydantic location that contains union tags (``setup.0.select.select.as``)
    still land on the right line.
    """
    node = doc
    line = getattr(doc, "line", 0)
    for step in loc:
        if isinstance(node, MarkedDict) and step in node:
            line = node.lines.get(step, line)
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lines[step]
            node = node[step]
    return line
