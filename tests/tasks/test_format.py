"""Task and rubric file formats: errors carry file:line field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from supportgym.tasks import TaskFormatError, load_task_set
from supportgym.tasks.template import TemplateError, render

GOOD_TASK = """\
family: fam
description: A tiny family for format tests.
title: "Order {order.id}"
levels: [tool_use]
difficulty: easy
world: {seed: 7, scale: tiny}
instruction: Look at order {order.id} and reply.
setup:
  - select: {as: order, table: orders, where: {status: delivered}, index: 0}
reference:
  calls:
    - {tool: get_order, args: {order_id: "{order.id}"}}
  reply: "Order {order.id} totals {order.total_cents|money}."
wrong:
  - name: silent
    description: Replies without looking.
    calls: []
    reply: "Done."
    fails: [read]
variants:
  - params: {}
"""

GOOD_RUBRIC = """\
family: fam
criteria:
  - id: read
    text: "The agent reads order {order.id}."
    category: completeness
    type: primary
    check: {type: tool_called, name: get_order, args: {order_id: "{order.id}"}}
"""


def _write(tmp: Path, task: str, rubric: str) -> tuple[Path, Path]:
    tdir, rdir = tmp / "tasks", tmp / "rubrics"
    tdir.mkdir()
    rdir.mkdir()
    (tdir / "fam.yaml").write_text(textwrap.dedent(task))
    (rdir / "fam.yaml").write_text(textwrap.dedent(rubric))
    return tdir, rdir


def _problems(tmp: Path, task: str, rubric: str = GOOD_RUBRIC, prepare: bool = False) -> list[str]:
    tdir, rdir = _write(tmp, task, rubric)
    with pytest.raises(TaskFormatError) as info:
        load_task_set(tdir, rdir, prepare=prepare)
    return [str(p) for p in info.value.problems]


def test_good_files_load(tmp_path: Path) -> None:
    tdir, rdir = _write(tmp_path, GOOD_TASK, GOOD_RUBRIC)
    tasks = load_task_set(tdir, rdir)
    assert list(tasks) == ["fam-01"]


def test_wrong_type_names_file_line_field(tmp_path: Path) -> None:
    probs = _problems(tmp_path, GOOD_TASK.replace("difficulty: easy", "difficulty: trivial"))
    assert any(p.startswith("tasks/fam.yaml:5 difficulty:") or "fam.yaml:5 difficulty:" in p for p in probs), probs


def test_nested_error_in_setup(tmp_path: Path) -> None:
    bad = GOOD_TASK.replace("index: 0}", "index: 0, colour: red}")
    probs = _problems(tmp_path, bad)
    assert any("fam.yaml:9 setup.0.select.colour:" in p for p in probs), probs


def test_unknown_setup_op(tmp_path: Path) -> None:
    bad = GOOD_TASK.replace("  - select: {as: order", "  - pick: {as: order")
    probs = _problems(tmp_path, bad)
    assert any("fam.yaml:9 setup.0:" in p and "exactly one key" in p for p in probs), probs


def test_unknown_tool_in_reference(tmp_path: Path) -> None:
    probs = _problems(tmp_path, GOOD_TASK.replace("tool: get_order,", "tool: get_orders,"))
    assert any("fam.yaml:12 reference.calls.0.tool:" in p and "get_order" in p for p in probs), probs


def test_rubric_errors(tmp_path: Path) -> None:
    probs = _problems(tmp_path, GOOD_TASK, GOOD_RUBRIC.replace("category: completeness", "category: vibes"))
    assert any("rubrics/fam.yaml:5 criteria.0.category:" in p for p in probs), probs
    probs2 = (
        _problems(tmp_path / "b", GOOD_TASK, GOOD_RUBRIC.replace("type: tool_called,", "type: tool_used,"))
        if (tmp_path / "b").mkdir() is None
        else []
    )
    assert any("fam.yaml:7 criteria.0.check:" in p and "unknown check type" in p for p in probs2), probs2


def test_wrong_fails_unknown_criterion(tmp_path: Path) -> None:
    probs = _problems(tmp_path, GOOD_TASK.replace("fails: [read]", "fails: [reed]"))
    assert any("fam.yaml:19 wrong.0.fails:" in p and "reed" in p for p in probs), probs


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    probs = _problems(tmp_path, GOOD_TASK.replace("levels: [tool_use]", "levels: [tool_use"))
    assert any("fam.yaml:" in p for p in probs), probs


def test_unknown_placeholder_fails_loudly_with_line(tmp_path: Path) -> None:
    probs = _problems(
        tmp_path, GOOD_TASK.replace("Look at order {order.id}", "Look at order {order.nope}"), prepare=True
    )
    assert any("fam.yaml:7 instruction:" in p and "order" in p and "nope" in p for p in probs), probs


def test_select_without_match_reports_step(tmp_path: Path) -> None:
    probs = _problems(
        tmp_path, GOOD_TASK.replace("status: delivered}", "status: delivered, total_cents: {lt: 0}}"), prepare=True
    )
    assert any("fam.yaml:9 setup.0.select" in p and "found 0" in p for p in probs), probs


def test_template_rendering() -> None:
    values = {"o": {"id": "ORD-1", "total_cents": 123450, "at": "2026-03-04T09:00:00Z", "items": [{"id": "ITM-9"}]}}
    assert render("{o.total_cents}", values) == 123450
    assert render("x {o.total_cents|money}", values) == "x $1,234.50"
    assert render("{o.total_cents|amount}", values) == "1234.50"
    assert render("{o.at|long_date}", values) == "March 4, 2026"
    assert render("{o.items.0.id}", values) == "ITM-9"
    assert render("{o.total_cents|sub:450|div:100}", values) == 1230
    assert render("{{literal}}", values) == "{literal}"
    with pytest.raises(TemplateError, match="nope"):
        render("{o.nope}", values)
    with pytest.raises(TemplateError, match="not bound"):
        render("{x.id}", values)
    with pytest.raises(TemplateError, match="unknown filter"):
        render("{o.id|shout}", values)


# Composite families: a list item that is itself a list (a YAML anchor of shared steps) is spliced
# in place in setup, reference calls and wrong trajectories' calls, one level deep.
COMPOSED_TASK = GOOD_TASK.split("setup:")[0] + (
    """\
fragments:
  pick_order: &pick_order
    - select: {as: order, table: orders, where: {status: delivered}, index: 0}
  read_order: &read_order
    - {tool: get_order, args: {order_id: "{order.id}"}}
    - {tool: get_customer, args: {customer_id: "{order.customer_id}"}}
setup: [*pick_order]
reference:
  calls: [*read_order, {tool: get_policy, args: {policy_id: POL-RETURNS}}]
  reply: "Order {order.id} totals {order.total_cents|money}."
wrong:
  - name: silent
    description: Reads the order and never the policy.
    calls: [*read_order]
    reply: "Done."
    fails: [read]
variants:
  - params: {}
  - params: {}
    extra_wrong:
      - name: twice
        description: Reads the order twice and never the policy.
        calls: [*read_order, *read_order]
        reply: "Done."
        fails: [read]
"""
)
POLICY_RUBRIC = GOOD_RUBRIC.replace(
    'get_order, args: {order_id: "{order.id}"}', "get_policy, args: {policy_id: POL-RETURNS}"
)


def test_nested_lists_are_spliced_in_place(tmp_path: Path) -> None:
    tasks = load_task_set(*_write(tmp_path, COMPOSED_TASK, POLICY_RUBRIC))
    first, second = tasks["fam-01"], tasks["fam-02"]
    assert [c.tool for c in first.reference.calls] == ["get_order", "get_customer", "get_policy"]
    assert [c.tool for c in first.wrong[0].calls] == ["get_order", "get_customer"]
    assert [c.tool for c in second.wrong[1].calls] == ["get_order", "get_customer"] * 2
    assert len(first.setup) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A list inside a spliced list is nested two levels deep: an error, not flattened further.
        ("calls: [*read_order, {tool", "calls: [[*read_order], {tool", ("reference.calls.0.0", "two levels")),
        # Each spliced item keeps its line: a bad step inside a fragment is reported where it is written.
        ("- {tool: get_customer,", "- {tool: get_customers,", ("fam.yaml:13 reference.calls.1.tool:", "get_customers")),
    ],
)
def test_a_wrong_composition_names_its_place(tmp_path: Path, old: str, new: str, expected: tuple[str, str]) -> None:
    probs = _problems(tmp_path, COMPOSED_TASK.replace(old, new, 1), POLICY_RUBRIC)
    assert any(all(e in p for e in expected) for p in probs), probs
