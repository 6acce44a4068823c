"""Composing solutions and setups from shared pieces: a list item that is itself a list is
spliced in place, one level deep.

A composite family (a shift queue: several small jobs, each variant a different selection)
defines each job's setup steps and calls once under a YAML anchor and writes a variant as
``calls: [*find_queue, *job_cancel, *job_where_is_it]``. YAML inserts each anchor as a nested
list; this module flattens those before the file is validated, keeping the line of every item
so errors still say ``file:line``. Only the fields that hold steps are spliced (``setup``,
``calls``); anything deeper than one level is a problem, not silently flattened.
"""

from __future__ import annotations

from typing import Any

from supportgym.tasks.yamlio import MarkedDict, MarkedList

# The lists of steps that may be composed, where they sit in a family file.
_SOLUTION_KEYS = ("reference",)
_WRONG_KEYS = ("wrong", "extra_wrong")


class SpliceProblem(ValueError):
    """A list of steps holds a list inside a spliced list (two levels), with the path to it."""

    def __init__(self, path: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def splice_steps(items: Any, path: tuple[Any, ...]) -> Any:
    """``items`` with every list item replaced by its own items (one level); other values as they are."""
    if not isinstance(items, list) or not any(isinstance(x, list) for x in items):
        return items
    out = MarkedList()
    out.line = getattr(items, "line", 0)
    out.lines = []
    own_lines = getattr(items, "lines", [0] * len(items))
    for i, item in enumerate(items):
        if not isinstance(item, list):
            out.append(item)
            out.lines.append(own_lines[i])
            continue
        for j, inner in enumerate(item):
            if isinstance(inner, list):
                raise SpliceProblem(
                    (*path, i, j),
                    "a spliced list may hold only steps (mappings): a list inside it is nested "
                    "two levels deep; splice its pieces one by one instead",
                )
            out.append(inner)
            out.lines.append(getattr(item, "lines", [own_lines[i]] * len(item))[j])
    return out


def _splice_in(mapping: Any, key: str, path: tuple[Any, ...]) -> None:
    if isinstance(mapping, dict) and key in mapping:
        mapping[key] = splice_steps(mapping[key], (*path, key))


def _splice_solution(solution: Any, path: tuple[Any, ...]) -> None:
    _splice_in(solution, "calls", path)


def _splice_holder(holder: Any, path: tuple[Any, ...]) -> None:
    """Splice the setup, reference and wrong trajectories of a family or of one variant."""
    if not isinstance(holder, dict):
        return
    _splice_in(holder, "setup", path)
    for key in _SOLUTION_KEYS:
        _splice_solution(holder.get(key), (*path, key))
    for key in _WRONG_KEYS:
        wrongs = holder.get(key)
        if isinstance(wrongs, list):
            for k, wrong in enumerate(wrongs):
                _splice_solution(wrong, (*path, key, k))


def splice_family(doc: Any) -> Any:
    """Splice every composable list of a parsed family file in place; returns ``doc``.

    Raises :class:`SpliceProblem` naming the path of a list nested two levels deep.
    """
    if not isinstance(doc, MarkedDict):
        return doc
    _splice_holder(doc, ())
    variants = doc.get("variants")
    if isinstance(variants, list):
        for i, variant in enumerate(variants):
            _splice_holder(variant, ("variants", i))
    return doc
