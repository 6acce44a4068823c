"""The answer key is not on the agent's side: for every task, nothing an episode's capability can
reach (any route, before and after the episode ends) contains a rubric or reference string."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from supportgym.tasks import list_tasks, prepare_task

from .conftest import bearer, create, make_client

pytestmark = pytest.mark.slow
MIN_SECRET_CHARS = 12  # shorter strings (ids, names) also appear in the agent's own tool results
TASKS = [t.id for t in list_tasks()]
# Routes that do not depend on the episode, read once with a capability.
SHARED_PATHS = ["/openapi.json", "/docs", "/redoc", "/tools", "/healthz", "/readyz", "/episodes"]
UI_PATHS = ["/ui", "/ui/trajectories", "/ui/play/world"]
# Episode routes that can carry text (world_hash is a digest: hashing a world costs seconds).
EPISODE_PATHS = ["", "/trail", "/changes", "/grade"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def _secrets(task_id: str) -> set[str]:
    prepared = prepare_task(task_id)
    found = {c.text for c in prepared.rubric}
    found |= {w.description for w in prepared.wrong}
    if prepared.reference.reply:
        found.add(prepared.reference.reply)
    return {s for s in found if len(s) >= MIN_SECRET_CHARS and s not in prepared.instruction}


def _assert_hidden(texts: list[str], secrets: set[str], task_id: str) -> None:
    agent_text = "\n".join(texts)
    # JSON escapes quotes and non-ASCII: compare on both footings, and on the first words.
    plain = agent_text.encode().decode("unicode_escape", "ignore")
    for secret in secrets:
        assert secret not in agent_text and secret not in plain, (task_id, secret[:80])
        assert not re.search(re.escape(secret[:40]), plain), (task_id, secret[:80])


def test_the_episode_routes_need_no_other_paths_than_these(client: TestClient) -> None:
    """If a GET route is added to an episode, this test (and the sweep below) must learn it."""
    templates = [p for p, ops in client.app.openapi()["paths"].items() if "get" in ops and "{episode_id}" in p]
    assert sorted(templates) == sorted(f"/episodes/{{episode_id}}{p}" for p in [*EPISODE_PATHS, "/world_hash"])


@pytest.mark.parametrize("task_id", TASKS)
def test_no_rubric_or_reference_string_is_reachable_with_an_episode_token(client: TestClient, task_id: str) -> None:
    c = client
    secrets = _secrets(task_id)
    episode_id, cap = create(c, task_id=task_id)
    agent = bearer(cap)
    again = c.post("/episodes", json={"task_id": task_id})  # a creation's whole answer
    assert again.status_code == 201
    seen = [again.text]
    c.delete(f"/episodes/{again.json()['episode_id']}", headers=bearer(again.json()["episode_token"]))
    seen += [c.get(f"/episodes/{episode_id}{p}", headers=agent).text for p in EPISODE_PATHS]
    ended = c.post(f"/episodes/{episode_id}/submit", json={"response": "Done."}, headers=agent)
    assert ended.status_code == 200 and ended.json()["done"]
    assert ended.json()["grade"]["redacted"] is True and isinstance(ended.json()["grade"]["reward"], float)
    seen.append(ended.text)
    seen += [c.get(f"/episodes/{episode_id}{p}", headers=agent).text for p in EPISODE_PATHS]
    for path in [*UI_PATHS, f"/ui/tasks/{task_id}", f"/ui/episodes/{episode_id}/grade"]:
        r = c.get(path, headers=agent)
        assert r.status_code == 401, path  # the author's view
        seen.append(r.text)
    if task_id == TASKS[0]:
        seen += [c.get(p, headers=agent).text for p in SHARED_PATHS]
    # The operator's view has them (so the check can fail), evidence included.
    admin = bearer(c.app.state.admin_token)
    full = c.get(f"/episodes/{episode_id}/grade", headers=admin).json()["grade"]
    assert {x["text"] for x in full["criteria"]} & secrets
    assert task_id in c.get(f"/ui/tasks/{task_id}", headers=admin).text
    evidence = {x["evidence"] for x in full["criteria"] if len(x.get("evidence") or "") >= MIN_SECRET_CHARS}
    _assert_hidden(seen, secrets | evidence, task_id)
    assert c.delete(f"/episodes/{episode_id}", headers=agent).status_code == 204
