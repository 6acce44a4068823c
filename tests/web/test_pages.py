"""The web debugger's pages, in process (no socket): every page renders, links carry /ui."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from supportgym.services.settings import Settings
from supportgym.trajectory import write_jsonl
from tests.web._app import make_app


@pytest.fixture
def traj_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUPPORTGYM_TRAJECTORY_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def client(traj_dir: Path) -> Iterator[TestClient]:
    app = make_app(Settings(warm_worlds=["7/tiny"], max_episodes=4))
    with TestClient(app) as c:
        # The author's view needs the service token: log in once, the cookie does the rest.
        login = c.get(f"/ui?token={app.state.admin_token}", follow_redirects=False)
        assert login.status_code == 303 and "HttpOnly" in login.headers["set-cookie"]
        yield c


def _tasks() -> list[str]:
    from supportgym.tasks import list_tasks

    ids = [t.id for t in list_tasks()]  # a task set that does not load fails here, visibly
    assert ids, "the task set is empty"
    return ids


def test_task_list_and_filters(client: TestClient) -> None:
    page = client.get("/ui")
    assert page.status_code == 200
    assert "/ui/static/app.css" in page.text
    ids = _tasks()
    assert all(f'/ui/tasks/{i}"' in page.text for i in ids)
    none = client.get("/ui/", params={"difficulty": "no-such-difficulty"})
    assert "No task matches" in none.text
    from supportgym.tasks import get_task

    t = get_task(ids[0])
    same = client.get("/ui/", params={"family": t.family, "level": t.levels[0].value, "difficulty": t.difficulty.value})
    assert f"/ui/tasks/{ids[0]}" in same.text


def test_task_page_shows_instruction_rubric_setup(client: TestClient) -> None:
    ids = _tasks()
    from supportgym.tasks import prepare_task

    prepared = prepare_task(ids[0])
    page = client.get(f"/ui/tasks/{ids[0]}")
    assert page.status_code == 200
    assert prepared.rubric[0].id in page.text
    assert "Setup" in page.text and f"/ui/play/{ids[0]}" in page.text
    assert client.get("/ui/tasks/no-such-task").status_code == 404


def test_trajectory_pages_and_upload(client: TestClient, traj_dir: Path) -> None:
    ids = _tasks()
    from supportgym.tasks import run_solution

    episode, _ = run_solution(ids[0])
    t = episode.to_trajectory(agent="reference")
    episode.close()
    write_jsonl(traj_dir / "eval.jsonl", [t, t])
    listing = client.get("/ui/trajectories")
    assert "/ui/trajectories/eval.jsonl/1" in listing.text
    page = client.get("/ui/trajectories/eval.jsonl/0")
    assert page.status_code == 200
    assert page.text.count('class="step ') == len(t.steps)
    assert 'class="verdict-met"' in page.text
    assert client.get("/ui/trajectories/eval.jsonl/9").status_code == 404
    assert client.get("/ui/trajectories/../secret.jsonl/0").status_code == 404
    up = client.post("/ui/trajectories/upload", params={"filename": "mine.jsonl"}, content=t.model_dump_json() + "\n")
    assert up.status_code == 200, up.text
    assert up.json()["url"] == "/ui/trajectories/uploads/mine.jsonl/0"
    assert client.get(up.json()["url"]).status_code == 200
    bad = client.post("/ui/trajectories/upload", content=b'{"not": "a trajectory"}\n')
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "task_id"
    incomplete = json.loads(t.model_dump_json())
    del incomplete["steps"]
    missing = client.post("/ui/trajectories/upload", content=json.dumps(incomplete).encode() + b"\n")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "steps"


def test_play_page_grade_fragment_and_save(client: TestClient, traj_dir: Path) -> None:
    page = client.get("/ui/play/world")
    assert page.status_code == 200 and "/ui/static/play.js" in page.text
    config = json.loads(re.search(r"data-config='([^']*)'", page.text).group(1).replace("&#34;", '"'))
    assert config == {"seed": 7, "scale": "tiny"}
    assert client.get("/ui/static/play.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/ui/static/nope.py").status_code == 404
    ep = client.post("/episodes", json=config).json()["episode_id"]
    client.post(f"/episodes/{ep}/step", json={"name": "get_current_time", "arguments": {}})
    client.post(f"/episodes/{ep}/submit", json={"response": "done"})
    fragment = client.get(f"/ui/episodes/{ep}/grade")
    assert fragment.status_code == 200 and "No grade" in fragment.text  # a bare world has no rubric
    saved = client.post(f"/ui/play/{ep}/save").json()
    assert (traj_dir / saved["name"]).exists()
    assert client.get(saved["url"]).status_code == 200
