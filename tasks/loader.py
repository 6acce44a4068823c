"""Loading, validating, instantiating and preparing tasks.

``load_task_set()`` reads every family file in ``tasks/data`` with its rubric in
``rubrics/data``, validates them and expands each variant into a :class:`Task` with id
``<family>-NN``. ``prepare_task(id)`` applies the task's setup to a fresh copy of its world,
renders every template against the bound values and returns a :class:`PreparedTask` whose
``image`` is the world after setup: an episode is then ``WorldDB.from_image(prepared.image)``.

A family is one task file with its rubric file. The runtime lookups (``list_tasks``,
``get_task``, ``prepare_task``) leave out a family with problems instead of failing the whole
set: ``broken_families()`` says which and why, and ``get_task`` of one of its ids raises that
family's :class:`TaskFormatError`. ``load_task_set()`` (lint, CI) stays strict. The directories
default to the shipped ones; ``$SUPPORTGYM_TASKS_DIR`` / ``$SUPPORTGYM_RUBRICS_DIR`` point a
process at a working copy.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from supportgym.clock import parse_iso
from supportgym.db import WorldDB
from supportgym.rubrics import Grade, grade_episode
from supportgym.rubrics.check_base import IntegritySpec
from supportgym.rubrics.judge import shared_judge
from supportgym.rubrics.model import Criterion, CriterionType, Split
from supportgym.services.conversation import MESSAGE_TOOL, Conversation
from supportgym.services.episode import EpisodeConfig, judge_wanted
from supportgym.services.worlds import get_snapshot
from supportgym.tasks.draw import candidate_rng, draw_params, parse_generated_id
from supportgym.tasks.integrity import AUTO_CRITERIA, build_integrity
from supportgym.tasks.model import (
    AllowanceTemplate,
    CriterionTemplate,
    Difficulty,
    Draw,
    FamilyFile,
    Level,
    RubricFile,
    Solution,
    World,
    WrongSolution,
)
from supportgym.tasks.setup import SetupError, SetupRun
from supportgym.tasks.splice import SpliceProblem, splice_family
from supportgym.tasks.template import Deferred, TemplateError, render
from supportgym.tasks.yamlio import YamlSyntaxError, line_of, load_yaml
from supportgym.trail import EpisodeRecord

PACKAGE_DIR = Path(__file__).resolve().parent
TASKS_DIR = PACKAGE_DIR / "data"
RUBRICS_DIR = PACKAGE_DIR.parent / "rubrics" / "data"
try:  # installed layout: supportgym.rubrics sits next to supportgym.tasks
    from supportgym import rubrics as _rubrics_pkg

    RUBRICS_DIR = Path(_rubrics_pkg.__file__).resolve().parent / "data"
except ImportError:  # pragma: no cover
    pass
TASKS_DIR_ENV = "SUPPORTGYM_TASKS_DIR"
RUBRICS_DIR_ENV = "SUPPORTGYM_RUBRICS_DIR"

_VARIANT_FIELDS = (
    "title",
    "levels",
    "difficulty",
    "max_steps",
    "instruction",
    "setup",
    "reference",
    "wrong",
    "conversation",
    "caller",
    "allow",
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line} {self.field}: {self.message}"
            if self.field
            else f"{self.file}:{self.line}: {self.message}"
        )


class TaskFormatError(ValueError):
    """One or more task or rubric files are invalid; ``problems`` lists each ``file:line``.

    ``family`` is set when the error is about one family that was left out of the task set.
    """

    def __init__(self, problems: list[Problem], family: str | None = None) -> None:
        self.problems = problems
        self.family = family
        lines = "\n".join(f"  {p}" for p in problems)
        where = f"task family {family!r} (not loaded)" if family else "the task set"
        super().__init__(f"{len(problems)} problem(s) in {where}:\n{lines}")


@dataclass(frozen=True)
class Source:
    """Where something came from: a file, its parsed document and the path inside it."""

    file: Path
    doc: Any
    path: tuple[Any, ...]

    def problem(self, sub: tuple[Any, ...], message: str) -> Problem:
        loc = (*self.path, *sub)
        return Problem(_rel(self.file), line_of(self.doc, loc), ".".join(map(str, loc)), message)


@dataclass(frozen=True)
class _ConcatSource:
    """The source of a list made of a base list followed by a variant's extra items."""

    base: Source | _ConcatSource
    extra: Source
    offset: int

    def problem(self, sub: tuple[Any, ...], message: str) -> Problem:
        if sub and isinstance(sub[0], int) and sub[0] >= self.offset:
            return self.extra.problem((sub[0] - self.offset, *sub[1:]), message)
        return self.base.problem(sub, message)


def _rel(path: Path) -> str:
    for base in (PACKAGE_DIR.parent, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


class Task(BaseModel):
    """One task: a variant of a family with the family's fields merged in (templates unrendered)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    family: str
    number: int
    title: str
    levels: list[Level]
    difficulty: Difficulty
    max_steps: int
    world: World
    params: dict[str, Any]
    instruction: str
    setup: list[Any]
    reference: Solution
    wrong: list[WrongSolution]
    criteria: list[CriterionTemplate]
    note: str = ""

    # Where each field came from (for file:line in errors); not part of the task's content.
    sources: dict[str, Any] = {}
    criterion_sources: list[Any] = []
    conversation: Conversation | None = None
    caller: str | None = None
    allow: list[AllowanceTemplate] = []
    split: Split = Split()
    # What the generator draws when it starts a new task from this one (None: never).
    generate: dict[str, Draw] | None = None
    # A generated task: the fixed task it was drawn from.
    base: str | None = None

    @property
    def conversational(self) -> bool:
        return self.conversation is not None


def _validate(model: type[BaseModel], doc: Any, file: Path) -> tuple[Any, list[Problem]]:
    try:
        return model.model_validate(doc), []
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False):
            loc = tuple(e["loc"])
            # Drop pydantic's union tags so the field path reads like the file.
            shown: list[str] = []
            for p in loc:
                if (isinstance(p, str) and "[" in p) or (shown and shown[-1] == str(p)):
                    continue  # pydantic's union tags
                shown.append(str(p))
            problems.append(Problem(_rel(file), line_of(doc, loc), ".".join(shown), e["msg"]))
        return None, problems


def _load_pair(task_file: Path, rubric_dir: Path) -> tuple[list[Task], list[Problem]]:
    problems: list[Problem] = []
    try:
        tdoc = load_yaml(task_file)
    except YamlSyntaxError as exc:
        return [], [Problem(_rel(task_file), exc.line, "", exc.message)]
    try:
        splice_family(tdoc)
    except SpliceProblem as exc:
        return [], [Problem(_rel(task_file), line_of(tdoc, exc.path), ".".join(map(str, exc.path)), exc.message)]
    fam, probs = _validate(FamilyFile, tdoc, task_file)
    problems += probs
    rubric_file = rubric_dir / task_file.name
    rdoc: Any = None
    rub = None
    if not rubric_file.exists():
        problems.append(Problem(_rel(task_file), 1, "family", f"no rubric file {_rel(rubric_file)}"))
    else:
        try:
            rdoc = load_yaml(rubric_file)
        except YamlSyntaxError as exc:
            problems.append(Problem(_rel(rubric_file), exc.line, "", exc.message))
        else:
            rub, probs = _validate(RubricFile, rdoc, rubric_file)
            problems += probs
    if fam is None or rub is None:
        return [], problems
    if fam.family != task_file.stem:
        problems.append(
            Problem(
                _rel(task_file), line_of(tdoc, ("family",)), "family", f"must equal the file name '{task_file.stem}'"
            )
        )
    if rub.family != fam.family:
        problems.append(Problem(_rel(rubric_file), line_of(rdoc, ("family",)), "family", f"must be '{fam.family}'"))
    for n in rub.variant_criteria:
        if not 1 <= n <= len(fam.variants):
            problems.append(
                Problem(
                    _rel(rubric_file),
                    line_of(rdoc, ("variant_criteria", n)),
                    f"variant_criteria.{n}",
                    f"there is no variant {n}",
                )
            )
    tasks = []
    for i, var in enumerate(fam.variants):
        number = i + 1
        sources: dict[str, Source | _ConcatSource] = {}
        merged: dict[str, Any] = {}
        for name in _VARIANT_FIELDS:
            own = getattr(var, name)
            if own is not None:
                merged[name] = own
                sources[name] = Source(task_file, tdoc, ("variants", i, name))
            else:
                merged[name] = getattr(fam, name)
                sources[name] = Source(task_file, tdoc, (name,))
        sources["params"] = Source(task_file, tdoc, ("variants", i, "params"))
        if var.extra_wrong:
            merged["wrong"] = [*merged["wrong"], *var.extra_wrong]
            sources["wrong"] = _ConcatSource(
                sources["wrong"],
                Source(task_file, tdoc, ("variants", i, "extra_wrong")),
                len(merged["wrong"]) - len(var.extra_wrong),
            )
        crits: list[CriterionTemplate] = []
        csrc: list[Source] = []
        for j, c in enumerate(rub.criteria):
            if c.variants is None or number in c.variants:
                crits.append(c)
                csrc.append(Source(rubric_file, rdoc, ("criteria", j)))
        for j, c in enumerate(rub.variant_criteria.get(number, [])):
            crits.append(c)
            csrc.append(Source(rubric_file, rdoc, ("variant_criteria", number, j)))
        ids = [c.id for c in crits]
        for dup in sorted({x for x in ids if ids.count(x) > 1}):
            problems.append(
                Problem(_rel(rubric_file), 1, "criteria", f"variant {number}: duplicate criterion id {dup}")
            )
        for auto in AUTO_CRITERIA:
            if auto.id in ids:
                problems.append(
                    Problem(_rel(rubric_file), 1, "criteria", f"criterion id {auto.id} is reserved: every task has it")
                )
        known = set(ids) | {c.id for c in AUTO_CRITERIA}
        if merged["conversation"] is None:  # message_customer only makes sense with a customer
            scripted: list[tuple[Source | _ConcatSource, tuple[Any, ...], Any]] = [
                (sources["reference"], ("calls",), merged["reference"])
            ]
            scripted += [(sources["wrong"], (k, "calls"), w) for k, w in enumerate(merged["wrong"])]
            for sol_src, base, sol in scripted:
                for j, call in enumerate(sol.calls):
                    if call.tool == MESSAGE_TOOL:
                        problems.append(
                            sol_src.problem(
                                (*base, j, "tool"), f"variant {number}: {MESSAGE_TOOL} needs a conversation block"
                            )
                        )
        for k, w in enumerate(merged["wrong"]):
            for fid in w.fails:
                if fid not in known:
                    problems.append(sources["wrong"].problem((k, "fails"), f"variant {number}: no criterion '{fid}'"))
        tasks.append(
            Task(
                id=f"{fam.family}-{number:02d}",
                family=fam.family,
                number=number,
                world=var.world or fam.world,
                params={**fam.params, **var.params},
                note=var.note,
                criteria=crits,
                split=rub.split,
                generate=None if fam.generate is None else {**fam.generate, **(var.generate or {})},
                sources=sources,
                criterion_sources=csrc,
                **merged,
            )
        )
    if not tasks[0].wrong if tasks else False:
        problems.append(
            Problem(_rel(task_file), line_of(tdoc, ("wrong",)), "wrong", "a family needs at least one wrong trajectory")
        )
    return tasks, problems


@dataclass(frozen=True)
class _Loaded:
    tasks: dict[str, Task]  # of the families without problems only
    broken: dict[str, list[Problem]]  # family (file stem) -> its problems

    def problems(self) -> list[Problem]:
        return [p for probs in self.broken.values() for p in probs]


def _default_dirs() -> tuple[Path, Path]:
    # Read on every load, not at import, so a test or an author's shell can set them late.
    return (
        Path(os.environ.get(TASKS_DIR_ENV) or TASKS_DIR),
        Path(os.environ.get(RUBRICS_DIR_ENV) or RUBRICS_DIR),
    )


def task_dirs() -> tuple[Path, Path]:
    """The task and rubric directories this process reads (the shipped ones, or the
    ``$SUPPORTGYM_TASKS_DIR`` / ``$SUPPORTGYM_RUBRICS_DIR`` working copy)."""
    return _default_dirs()


def _load(tdir: Path, rdir: Path) -> _Loaded:
    tasks: dict[str, Task] = {}
    broken: dict[str, list[Problem]] = {}
    for f in sorted(tdir.glob("*.yaml")):
        loaded, probs = _load_pair(f, rdir)
        if probs:
            broken[f.stem] = probs
        else:
            tasks.update((t.id, t) for t in loaded)
    if rdir.exists():
        for f in sorted(rdir.glob("*.yaml")):
            if not (tdir / f.name).exists():
                broken.setdefault(f.stem, []).append(
                    Problem(_rel(f), 1, "family", f"no task file {f.name} for this rubric")
                )
    return _Loaded(tasks, broken)


_lock = threading.RLock()
_loaded: tuple[tuple[Path, Path], _Loaded] | None = None  # keyed by the dirs it was read from


def _load_default() -> _Loaded:
    global _loaded
    dirs = _default_dirs()
    with _lock:
        if _loaded is not None and _loaded[0] == dirs:
            return _loaded[1]
    loaded = _load(*dirs)
    with _lock:
        _loaded = (dirs, loaded)
    return loaded


def load_task_set(
    tasks_dir: Path | None = None, rubrics_dir: Path | None = None, *, prepare: bool = False, strict: bool = True
) -> dict[str, Task]:
    """Every task, by id. Raises :class:`TaskFormatError` listing every ``file:line`` problem.

    With ``strict=False`` the families with problems are left out instead (see
    :func:`broken_families`). With ``prepare`` each task is also prepared (setup applied,
    templates rendered, checks validated), which catches problems that depend on the world;
    those always raise.
    """
    default = tasks_dir is None and rubrics_dir is None
    if default and not prepare:
        loaded = _load_default()
    else:
        tdir, rdir = _default_dirs()
        loaded = _load(tasks_dir or tdir, rubrics_dir or rdir)
    if strict and loaded.broken:
        raise TaskFormatError(loaded.problems())
    if prepare:
        problems: list[Problem] = []
        for t in loaded.tasks.values():
            try:
                _prepare(t)
            except TaskFormatError as exc:
                problems += exc.problems
        if problems:
            raise TaskFormatError(problems)
    return loaded.tasks


def broken_families(tasks_dir: Path | None = None, rubrics_dir: Path | None = None) -> dict[str, list[Problem]]:
    """The families left out of the non-strict task set, by name, each with its problems."""
    if tasks_dir is None and rubrics_dir is None:
        return dict(_load_default().broken)
    tdir, rdir = _default_dirs()
    return dict(_load(tasks_dir or tdir, rubrics_dir or rdir).broken)


def list_tasks(family: str | None = None, level: str | None = None, difficulty: str | None = None) -> list[Task]:
    """Tasks in id order, optionally filtered by family, hierarchy level or difficulty.

    Families with problems are left out (see :func:`broken_families`).
    """
    out = []
    for t in load_task_set(strict=False).values():
        if family and t.family != family:
            continue
        if level and level not in [lv.value for lv in t.levels]:
            continue
        if difficulty and t.difficulty.value != difficulty:
            continue
        out.append(t)
    return sorted(out, key=lambda t: t.id)


def get_task(task_id: str) -> Task:
    """The task ``task_id``. Raises :class:`TaskFormatError` (that family's problems only) when
    its family has problems, :class:`KeyError` when no family has this id."""
    loaded = _load_default()
    if task_id in loaded.tasks:
        return loaded.tasks[task_id]
    generated = parse_generated_id(task_id)
    if generated is not None and generated[0] not in loaded.broken:
        return _generated_task(loaded, *generated)
    # A broken family may not even say how many variants it has, so match on the family part.
    family = task_id.rpartition("-")[0]
    if family in loaded.broken:
        raise TaskFormatError(loaded.broken[family], family=family)
    import difflib

    close = difflib.get_close_matches(task_id, list(loaded.tasks), n=3)
    hint = (
        f"did you mean {', '.join(close)}?"
        if close
        else ("a task id is <family>-<NN>, e.g. refund_within_window-01; `supportgym tasks list` shows them all")
    )
    raise KeyError(f"unknown task {task_id!r}; {hint}")


def generatable_families() -> list[str]:
    """Families whose file has a ``generate`` block (families with problems left out)."""
    return sorted({t.family for t in load_task_set(strict=False).values() if t.generate is not None})


def _generated_task(loaded: _Loaded, family: str, seed: int, k: int) -> Task:
    """The ``k``-th candidate of ``seed``: a variant of the family chosen by the seed, with the
    params its ``generate`` block draws. Whether its setup finds rows is known when it is
    prepared; the generator proves it before offering it."""
    bases = sorted(
        (t for t in loaded.tasks.values() if t.family == family and t.generate is not None), key=lambda t: t.number
    )
    task_id = f"{family}-g{seed}-{k}"
    if not bases:
        raise KeyError(
            f"unknown task {task_id!r}: family {family!r} "
            + ("has no generate block" if any(t.family == family for t in loaded.tasks.values()) else "does not exist")
        )
    rng = candidate_rng(family, seed, k)
    base = bases[rng.randrange(len(bases))]
    assert base.generate is not None
    drawn = draw_params(base.generate, rng)
    shown = ", ".join(f"{name}={value}" for name, value in drawn.items())
    return base.model_copy(
        update={
            "id": task_id,
            "params": {**base.params, **drawn},
            "base": base.id,
            "note": f"generated from {base.id} (seed {seed}, candidate {k}): {shown}",
        }
    )


# --- preparing ---------------------------------------------------------------------------------


@dataclass
class PreparedTask:
    """A task ready to run: world image after setup, bound values, rendered text and rubric."""

    task: Task
    values: dict[str, Any]
    instruction: str
    title: str
    rubric: list[Criterion]
    reference: Solution
    wrong: list[WrongSolution]
    now: datetime
    world_hash: str = ""
    _image: bytes | None = field(default=None, repr=False)
    conversation: Conversation | None = None  # rendered; None for a ticket task
    split: Split = field(default_factory=Split)
    caller: str | None = None  # the verified customer (rendered)
    allow: list[Any] = field(default_factory=list)  # rendered Allowance list
    _integrity: IntegritySpec | None = field(default=None, repr=False)
    _integrity_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def integrity(self) -> IntegritySpec:
        """What the task allows and who it serves: computed once, by replaying the reference
        solution on a fresh copy of the world (see :mod:`supportgym.tasks.integrity`)."""
        with self._integrity_lock:
            if self._integrity is None:
                self._integrity = build_integrity(self)
            return self._integrity

    @property
    def id(self) -> str:
        return self.task.id

    @property
    def image(self) -> bytes:
        """The world after setup (rebuilt deterministically if it was evicted from the cache)."""
        return _image_for(self)

    @property
    def max_steps(self) -> int:
        return self.task.max_steps

    def grade(self, db: WorldDB, record: EpisodeRecord, config: EpisodeConfig) -> Grade:
        """Grade a finished episode of this task (the :class:`Scenario` contract of
        :mod:`supportgym.services.episode`): the LLM judge takes part when the config wants it."""
        return grade_episode(
            self,
            db,
            record,
            alpha=config.alpha,
            beta=config.beta,
            judge=shared_judge() if judge_wanted(config) else None,
            mode=config.reward_mode,
            gate_cap=config.gate_cap,
        )

    def criterion(self, cid: str) -> Criterion:
        return next(c for c in self.rubric if c.id == cid)

    def primary(self) -> list[Criterion]:
        return [c for c in self.rubric if c.type == CriterionType.primary]


def _image_cache_bytes() -> int:
    """How many bytes of prepared task worlds a process keeps (least recently used evicted).

    Sized by memory, not by a count: a default-scale world after setup is ~10.5 MB, so the
    default 1 GiB holds every default-scale task (90 tasks, ~950 MB) and a reset never re-runs
    a setup once the task has been prepared. ``SUPPORTGYM_TASK_CACHE_MB`` changes it (0: keep
    only the last one used).
    """
    raw = os.environ.get("SUPPORTGYM_TASK_CACHE_MB", "1024")
    try:
        mb = int(raw)
    except ValueError:
        raise ValueError(f"SUPPORTGYM_TASK_CACHE_MB must be a whole number of MB, not {raw!r}") from None
    if mb < 0:
        raise ValueError(f"SUPPORTGYM_TASK_CACHE_MB must be 0 or more, not {mb}")
    return mb * 1024 * 1024


IMAGE_CACHE_BYTES = _image_cache_bytes()
_prepared: dict[str, PreparedTask] = {}
_images: OrderedDict[str, bytes] = OrderedDict()
_image_bytes = 0


def _base_snapshot(world: World) -> Any:
    return get_snapshot(world.seed, world.scale)


def _run_setup(task: Task) -> tuple[bytes, dict[str, Any], datetime]:
    db = WorldDB.from_image(_base_snapshot(task.world).image)
    try:
        row = db.conn.execute("SELECT value FROM world_meta WHERE key='now'").fetchone()
        now = parse_iso(row[0])
        src: Source = task.sources["setup"]
        with db.begin() as session:
            run = SetupRun(session, now, task.params, salt=task.id)
            for i, op in enumerate(task.setup):
                try:
                    run.apply(op, (i,))
                except SetupError as exc:
                    raise TaskFormatError([src.problem(exc.path, f"{task.id}: {exc.message}")]) from None
            values = run.values()
        return db.image(), values, now
    finally:
        db.close()


def _render(task: Task, src: Source, obj: Any, values: dict[str, Any]) -> Any:
    try:
        return render(obj, values)
    except TemplateError as exc:
        raise TaskFormatError([src.problem(exc.path, f"{task.id}: {exc.message}")]) from None


def _prepare(task: Task) -> PreparedTask:
    image, values, now = _run_setup(task)
    problems: list[Problem] = []
    rubric: list[Criterion] = []
    for tmpl, src in zip(task.criteria, task.criterion_sources, strict=True):
        raw = tmpl.model_dump(exclude={"variants"}, exclude_none=True)
        try:
            rendered = render(raw, values)
        except TemplateError as exc:
            problems.append(src.problem(exc.path, f"{task.id}: {exc.message}"))
            continue
        try:
            rubric.append(Criterion.model_validate(rendered))
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
                if (
                    len(loc) > 1
                    and loc[0] == "check"
                    and isinstance(loc[1], str)
                    and loc[1] == raw.get("check", {}).get("type")
                ):
                    loc = (loc[0], *loc[2:])
                problems.append(src.problem(loc, f"{task.id}: {e['msg']}"))
    rubric += AUTO_CRITERIA
    if problems:
        raise TaskFormatError(problems)
    solution_values = {**values, "result": Deferred()}
    reference = Solution.model_validate(
        _render(task, task.sources["reference"], task.reference.model_dump(), solution_values)
    )
    wrong = [
        WrongSolution.model_validate(_render(task, task.sources["wrong"], w.model_dump(), solution_values))
        for w in task.wrong
    ]
    instruction = _render(task, task.sources["instruction"], task.instruction, values).strip()
    conversation = None
    if task.conversation is not None:
        src = task.sources["conversation"]
        raw = _render(task, src, task.conversation.model_dump(), values)
        try:
            conversation = Conversation.model_validate(raw)
        except ValidationError as exc:
            raise TaskFormatError(
                [src.problem(tuple(e["loc"]), f"{task.id}: {e['msg']}") for e in exc.errors(include_url=False)]
            ) from None
        instruction = f"{instruction}\n\nThe customer's first message:\n{conversation.opening.strip()}"
    prepared = PreparedTask(
        task=task,
        values=values,
        instruction=instruction,
        title=_render(task, task.sources["title"], task.title, values),
        rubric=rubric,
        reference=reference,
        wrong=wrong,
        now=now,
        conversation=conversation,
        split=task.split,
        caller=_render(task, task.sources["caller"], task.caller, values) if task.caller else None,
        allow=_render(task, task.sources["allow"], [a.model_dump() for a in task.allow], values),
    )
    with _lock:
        _prepared[task.id] = prepared
        _remember_image(task.id, image)
    return prepared


def _remember_image(task_id: str, image: bytes) -> None:
    global _image_bytes
    old = _images.pop(task_id, None)
    if old is not None:
        _image_bytes -= len(old)
    _images[task_id] = image
    _image_bytes += len(image)
    # The newest image always stays (the caller is about to open it), even above the budget.
    while _image_bytes > IMAGE_CACHE_BYTES and len(_images) > 1:
        _evicted, gone = _images.popitem(last=False)
        _image_bytes -= len(gone)


def _image_for(prepared: PreparedTask) -> bytes:
    with _lock:
        image = _images.get(prepared.id)
        if image is not None:
            _images.move_to_end(prepared.id)
            return image
    image, _values, _now = _run_setup(prepared.task)
    with _lock:
        _remember_image(prepared.id, image)
    return image


def prepare_task(task_id: str) -> PreparedTask:
    """The prepared task ``task_id`` (cached per process: preparing twice returns the same)."""
    with _lock:
        hit = _prepared.get(task_id)
    if hit is not None:
        return hit
    return _prepare(get_task(task_id))


def clear_caches() -> None:
    """Forget loaded and prepared tasks (tests; after editing files in a running process)."""
    global _loaded
    with _lock:
        _loaded = None
        _prepared.clear()
        _images.clear()
