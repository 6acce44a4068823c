"""Composite families: a list item that is itself a list (a YAML anchor of shared steps) is
spliced in place in setup, reference calls and wrong trajectories' calls, one level deep."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from supportgym.tasks import TaskFormatError, load_task_set

COMPOSED_TASK = """\
family: fam
description: A tiny family composed from fragments.
title: "Order {order.id}"
levels: [tool_use]
difficulty: easy
world: {seed: 7, scale: tiny}
instruction: Look at order {order.id} and reply.
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
    description: Reads the order and replies nothing useful.
    calls: [*read_order]
    reply: "Done."
    fails: [read-policy]
variants:
  - params: {}
  - params: {}
    extra_wrong:
      - name: twice
        description: Reads everything twice.
        calls: [*read_order, *read_order]
        reply: "Done."
        fails: [read-policy]
"""

RUBRIC = """\
family: fam
criteria:
  - id: read-policy
    text: "The agent reads the returns policy."
    category: completeness
    type: primary
    check: {type: tool_called, name: get_policy, args: {policy_id: POL-RETURNS}}
"""


def _dirs(tmp: Path, task: str) -> tuple[Path, Path]:
    tdir, rdir = tmp / "tasks", tmp / "rubrics"
    tdir.mkdir()
    rdir.mkdir()
    (tdir / "fam.yaml").write_text(textwrap.dedent(task))
    (rdir / "fam.yaml").write_text(RUBRIC)
    return tdir, rdir


def test_nested_lists_are_spliced_in_place(tmp_path: Path) -> None:
    tasks = load_task_set(*_dirs(tmp_path, COMPOSED_TASK))
    first, second = tasks["fam-01"], tasks["fam-02"]
    assert [c.tool for c in first.reference.calls] == ["get_order", "get_customer", "get_policy"]
    assert [c.tool for c in first.wrong[0].calls] == ["get_order", "get_customer"]
    assert [c.tool for c in second.wrong[1].calls] == ["get_order", "get_customer"] * 2
    assert len(first.setup) == 1


def test_a_list_nested_two_levels_is_a_clear_error(tmp_path: Path) -> None:
    bad = COMPOSED_TASK.replace("calls: [*read_order, {tool", "calls: [[*read_order], {tool")
    with pytest.raises(TaskFormatError) as info:
        load_task_set(*_dirs(tmp_path, bad))
    problems = [str(p) for p in info.value.problems]
    assert any("reference.calls.0.0" in p and "two levels" in p for p in problems), problems


def test_a_spliced_item_of_the_wrong_shape_names_its_place(tmp_path: Path) -> None:
    # The splice keeps every item's line: a bad step inside a fragment is reported where it is written.
    bad = COMPOSED_TASK.replace("- {tool: get_customer,", "- {tool: get_customers,")
    with pytest.raises(TaskFormatError) as info:
        load_task_set(*_dirs(tmp_path, bad))
    problems = [str(p) for p in info.value.problems]
    assert any("fam.yaml:13 reference.calls.1.tool:" in p and "get_customers" in p for p in problems), problems
