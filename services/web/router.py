"""Pages of the web debugger, mounted by the service at ``/ui``.

- ``/ui``: the task list, filtered by family, level and difficulty;
- ``/ui/tasks/{id}``: one task: instruction, setup, rubric;
- ``/ui/trajectories``: trajectory files from the trajectory directory, and an upload form;
- ``/ui/trajectories/{name}/{index}``: one episode as a timeline: calls, results, world changes
  step by step, the grade per criterion;
- ``/ui/play/{task_id}``: a manual episode, driven from the browser through the service's own
  JSON API (``/episodes``, ``/tools``) by ``static/play.js``.

The trajectory directory is ``$SUPPORTGYM_TRAJECTORY_DIR``, else ``artifacts`` (relative to the
working directory).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from supportgym.services.manager import ServiceError
from supportgym.services.task_set import TaskSet
from supportgym.services.web.grades import grade_rows, grade_summary
from supportgym.trail import summarise_changes
from supportgym.trajectory import Trajectory, read_jsonl, write_jsonl

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
TRAJECTORY_DIR_ENV = "SUPPORTGYM_TRAJECTORY_DIR"
MAX_UPLOAD_BYTES = 50_000_000
BARE_WORLD = "world"

router = APIRouter(tags=["web debugger"], include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _tojson_pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


templates.env.filters["pretty"] = _tojson_pretty
templates.env.filters["compact"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
templates.env.globals["grade_rows"] = grade_rows
templates.env.globals["grade_summary"] = grade_summary


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("ui", _ui(request))
    return templates.TemplateResponse(request, template, context, status_code=status_code)


# --- tasks ---------------------------------------------------------------------------------


def _task_set(request: Request) -> TaskSet:
    """The task set the app was given (bare worlds only when none)."""
    task_set: TaskSet = request.app.state.task_set
    return task_set


def _plain(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(obj, dict):
        return obj
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")} if hasattr(obj, "__dict__") else obj


def _field(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        value = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if value is not None:
            return getattr(value, "value", value)
    return default


def _task_row(task: Any) -> dict[str, Any]:
    return {
        "id": str(_field(task, "id", "task_id", default="?")),
        "family": str(_field(task, "family", default="")),
        "level": ", ".join(str(getattr(v, "value", v)) for v in (_field(task, "levels", default=None) or []))
        or str(_field(task, "level", default="")),
        "difficulty": str(_field(task, "difficulty", default="")),
        "title": str(_field(task, "title", "summary", "name", default="")),
    }


def _criteria(task: Any) -> list[dict[str, Any]]:
    raw = _field(task, "criteria", default=None)
    if raw is None:
        rubric = _field(task, "rubric", default=None)
        raw = (
            _field(rubric, "criteria", default=None) if rubric is not None and not isinstance(rubric, list) else rubric
        )
    out = []
    for c in raw or []:
        d = _plain(c)
        if not isinstance(d, dict):
            continue
        check = d.get("check")
        out.append(
            {
                "id": d.get("id", ""),
                "text": d.get("text", ""),
                "category": d.get("category", ""),
                "type": d.get("type", ""),
                "by": "program" if check else "judge",
                "check": check,
            }
        )
    return out


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def task_list(
    request: Request,
    family: str = Query("", description="Only this family."),
    level: str = Query(""),
    difficulty: str = Query(""),
) -> HTMLResponse:
    api = _task_set(request)
    problem = None
    rows: list[dict[str, Any]] = []
    try:
        rows = [_task_row(t) for t in api.list_tasks()]
    except (ValueError, OSError) as exc:  # a broken task file (TaskFormatError...): shown on the page, not a 500
        problem = f"Listing tasks failed: {type(exc).__name__}: {exc}"
    if not rows and problem is None:
        problem = "This service has no task set (bare worlds only)."
    options = {k: sorted({r[k] for r in rows if r[k]}) for k in ("family", "level", "difficulty")}
    chosen = {"family": family, "level": level, "difficulty": difficulty}
    options["level"] = sorted({lv for r in rows for lv in r["level"].split(", ") if lv})
    shown = [
        r
        for r in rows
        if (not family or r["family"] == family)
        and (not difficulty or r["difficulty"] == difficulty)
        and (not level or level in r["level"].split(", "))
    ]
    return _page(request, "tasks.html", tasks=shown, total=len(rows), options=options, chosen=chosen, problem=problem)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: str) -> HTMLResponse:
    api = _task_set(request)
    try:
        task = api.get_task(task_id)
    except (KeyError, LookupError, ValueError) as exc:
        return _page(request, "message.html", 404, title="Unknown task", message=f"No task {task_id!r}: {exc}")
    instruction = _field(task, "instruction", "prompt", default="")
    prepare_error = None
    criteria = _criteria(task)
    try:
        prepared = api.prepare_task(task_id)
        instruction = getattr(prepared, "instruction", instruction) or instruction
        rendered = getattr(prepared, "rubric", None)
        if rendered:  # the rubric with the task's values filled in
            criteria = _criteria({"criteria": rendered})
    except (ValueError, KeyError, OSError) as exc:  # setup or rubric fails: the page still shows the task
        prepare_error = f"{type(exc).__name__}: {exc}"
    data = _plain(task)
    setup = data.get("setup") if isinstance(data, dict) else None
    hidden = ("setup", "criteria", "rubric", "instruction", "sources", "criterion_sources")
    other = {k: v for k, v in data.items() if k not in hidden} if isinstance(data, dict) else {}
    return _page(
        request,
        "task.html",
        task=_task_row(task),
        instruction=instruction,
        setup=setup,
        other=other,
        criteria=criteria,
        prepare_error=prepare_error,
    )


# --- trajectories --------------------------------------------------------------------------


def trajectory_dir(request: Request | None = None) -> Path:
    settings = getattr(getattr(request, "app", None), "state", None)
    configured = getattr(getattr(settings, "settings", None), "trajectory_dir", None) if settings else None
    return Path(configured or os.environ.get(TRAJECTORY_DIR_ENV) or "artifacts")


def _resolve(request: Request, name: str) -> Path:
    base = trajectory_dir(request).resolve()
    path = (base / name).resolve()
    if base not in path.parents or path.suffix != ".jsonl" or not path.is_file():
        raise HTTPException(404, f"no trajectory file {name!r}")
    return path


def _read(path: Path) -> list[Any]:

    return list(read_jsonl(path))


@router.get("/trajectories", response_class=HTMLResponse)
def trajectory_list(request: Request) -> HTMLResponse:
    base = trajectory_dir(request)
    files = []
    if base.is_dir():
        for path in sorted(base.rglob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)[:500]:
            rel = path.relative_to(base).as_posix()
            try:
                items = _read(path)
                entries = [
                    {
                        "index": i,
                        "task_id": t.task_id or f"world {t.seed}/{t.scale}",
                        "agent": t.agent,
                        "steps": len(t.steps),
                        "status": t.status,
                        "reward": t.reward,
                    }
                    for i, t in enumerate(items[:200])
                ]
                files.append({"name": rel, "entries": entries, "count": len(items), "error": None})
            except (ValueError, OSError) as exc:
                files.append({"name": rel, "entries": [], "count": 0, "error": str(exc)})
    return _page(request, "trajectories.html", files=files, directory=str(base))


@router.post("/trajectories/upload")
async def upload_trajectory(request: Request, filename: str = Query("uploaded.jsonl")) -> JSONResponse:
    """Store a trajectory file sent as the raw request body (JSONL) under ``uploads/``."""

    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        return JSONResponse({"error": {"code": "too_large", "message": "file too large"}}, status_code=413)
    count = 0
    n = 0
    try:
        for n, line in enumerate(body.decode("utf-8").splitlines(), start=1):  # noqa: B007 - n names the bad line below
            if line.strip():
                Trajectory.model_validate(json.loads(line))
                count += 1
    except ValidationError as exc:
        # 400 naming the first field at fault, so the file is fixed rather than stored half-valid.
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return JSONResponse(
            {
                "error": {
                    "code": "not_a_trajectory",
                    "message": f"line {n}: {field}: {first['msg']}"[:500],
                    "field": field,
                }
            },
            status_code=400,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return JSONResponse(
            {
                "error": {
                    "code": "not_a_trajectory",
                    "message": f"line {n}: not JSON: {type(exc).__name__}"[:500],
                    "field": None,
                }
            },
            status_code=400,
        )
    if count == 0:
        return JSONResponse(
            {"error": {"code": "empty", "message": "no trajectories in the file", "field": None}}, status_code=400
        )
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).stem)[:80] or "uploaded"
    target_dir = trajectory_dir(request) / "uploads"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{stem}.jsonl"
    k = 1
    while target.exists():
        k += 1
        target = target_dir / f"{stem}-{k}.jsonl"
    target.write_bytes(body)
    name = target.relative_to(trajectory_dir(request)).as_posix()
    return JSONResponse({"name": name, "count": count, "url": f"{_ui(request)}/trajectories/{name}/0"})


def _ui(request: Request) -> str:
    """The prefix this router is mounted at (``/ui`` in the service), for links in the pages."""
    route = request.scope.get("route")
    root = request.scope.get("root_path", "")
    if route is None:
        return root + "/ui"
    if any(route is r for r in router.routes):
        # The route kept its local path (FastAPI nests included routers): the prefix is the
        # part of the URL before what the route matched.
        path = request.scope.get("path", "")
        for i in range(len(path) + 1):
            rest = path[i:]
            if (rest == "" or rest.startswith("/")) and route.path_regex.match(rest):
                return root + path[:i].rstrip("/") if rest in ("", "/") else root + path[:i]
        return root + "/ui"
    # The route was copied with the prefix in its path: strip the local part.
    full = route.path
    for local in sorted((getattr(r, "path", "") for r in router.routes), key=len, reverse=True):
        if local and local != "/" and full.endswith(local):
            return root + full[: -len(local)]
    return root + full.rstrip("/")


def _step_views(t: Any) -> list[dict[str, Any]]:

    views = []
    so_far: list[dict[str, Any]] = []
    for s in t.steps:
        so_far.extend(s.changes)
        views.append(
            {
                "step": s.step,
                "name": s.name,
                "arguments": s.arguments,
                "ok": s.ok,
                "error_code": s.error_code,
                "result": s.result,
                "writes": s.writes,
                "changes": s.changes,
                "net_rows": len(summarise_changes(so_far)),
                "sim_time": s.sim_time,
            }
        )
    return views


@router.get("/trajectories/{name:path}/{index:int}", response_class=HTMLResponse)
def trajectory_page(request: Request, name: str, index: int) -> HTMLResponse:

    path = _resolve(request, name)
    try:
        items = _read(path)
    except ValueError as exc:
        return _page(request, "message.html", 422, title="Not a trajectory file", message=str(exc))
    if not 0 <= index < len(items):
        return _page(
            request, "message.html", 404, title="No such trajectory", message=f"{name} has {len(items)} trajectories"
        )
    t = items[index]
    all_changes = [c for s in t.steps for c in s.changes]
    return _page(
        request,
        "trajectory.html",
        name=name,
        index=index,
        count=len(items),
        t=t,
        steps=_step_views(t),
        net=summarise_changes(all_changes),
        grade=t.grade,
    )


# --- manual episodes -----------------------------------------------------------------------


@router.get("/play/{task_id}", response_class=HTMLResponse)
def play_page(request: Request, task_id: str, seed: int = 7, scale: str = "tiny") -> HTMLResponse:
    config: dict[str, Any] = {"seed": seed, "scale": scale} if task_id == BARE_WORLD else {"task_id": task_id}
    return _page(request, "play.html", task_id=task_id, config=config)


def _episode(request: Request, episode_id: str) -> Any:
    manager = getattr(request.app.state, "manager", None)
    if manager is None:
        raise HTTPException(404, "this app has no episode manager")
    try:
        return manager.get(episode_id)
    except ServiceError as exc:  # unknown, deleted or reaped
        raise HTTPException(404, f"no live episode {episode_id!r}") from exc


@router.get("/episodes/{episode_id}/grade", response_class=HTMLResponse)
def episode_grade_fragment(request: Request, episode_id: str) -> HTMLResponse:
    """The grade of a live episode as an HTML fragment (the play page inserts it)."""
    e = _episode(request, episode_id)
    return _page(request, "_grade_fragment.html", grade=e.grade, status=e.status.value)


@router.post("/play/{episode_id}/save")
def save_episode(request: Request, episode_id: str) -> JSONResponse:
    """Write a live episode as a trajectory (agent ``human``) into the trajectory directory."""

    e = _episode(request, episode_id)
    target_dir = trajectory_dir(request) / "web"
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"play-{e.task_id or 'world'}-{e.id}")
    target = target_dir / f"{stem}.jsonl"
    write_jsonl(target, [e.to_trajectory(agent="human")])
    name = target.relative_to(trajectory_dir(request)).as_posix()
    return JSONResponse({"name": name, "url": f"{_ui(request)}/trajectories/{name}/0"})


# --- static files --------------------------------------------------------------------------


@router.get("/static/{filename}")
def static(filename: str) -> FileResponse:
    path = STATIC_DIR / filename
    if "/" in filename or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/play", include_in_schema=False)
def play_bare() -> RedirectResponse:
    return RedirectResponse(f"play/{BARE_WORLD}")
