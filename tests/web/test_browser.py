"""The web debugger in a real browser: headless Chromium (Playwright) against a real server.

Opens the task list, a task, the play page; calls a tool from the generated form; submits;
sees the grade; saves the episode and opens it as a trajectory. A screenshot of each page is
kept in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from supportgym.cli.parts import CHROMIUM
from supportgym.services.launch import free_port
from tests.parts import require_part

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_part("chromium")  # Debian's chromium and the playwright package
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


TOKEN = "browser-test-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service (with ``/ui``) under uvicorn on a free loopback port; always stopped."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTGYM_")}
    env["SUPPORTGYM_TRAJECTORY_DIR"] = str(tmp_path_factory.mktemp("trajectories"))
    env["SUPPORTGYM_WARM_WORLDS"] = "7/tiny"
    env["SUPPORTGYM_TOKEN"] = TOKEN  # the author's view (/ui) needs the service token
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.web._app:make_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(url + "/readyz", timeout=2, headers=AUTH).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server not ready")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _shot(page: object, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    return path


def test_task_play_submit_grade_in_a_browser(browser: object, server: str) -> None:
    from supportgym.tasks import list_tasks

    task_id = list_tasks()[0].id
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(server + f"/ui?token={TOKEN}")  # sets the author's cookie, then /ui
        assert page.url.rstrip("/").endswith("/ui")
        assert page.locator(f"a.task-link:text('{task_id}')").count() == 1
        _shot(page, "1-tasks")

        page.click(f"a.task-link:text('{task_id}')")
        page.wait_for_url(f"**/ui/tasks/{task_id}")
        assert page.locator("table.criteria tbody tr").count() > 0
        _shot(page, "2-task")

        page.click("#play-link")
        page.wait_for_selector("#play[data-ready='1']", timeout=60_000)
        assert page.locator("#instruction").inner_text().strip()
        # A tool call from the generated form: search_tickets with page_size=2.
        page.select_option("#tool-select", "search_tickets")
        page.fill("#arg-page_size", "2")
        page.click("#call-button")
        page.wait_for_selector("#timeline li[data-step='1']")
        assert "ok" in page.locator("#timeline li[data-step='1'] .status").inner_text()
        assert '"results"' in page.locator("#timeline li[data-step='1'] pre").inner_text() or page.locator(
            "#timeline li[data-step='1'] pre"
        ).inner_text().startswith("{")
        # A refused call shows as an error step.
        page.select_option("#tool-select", "get_order")
        page.fill("#arg-order_id", "ORD-999999999")
        page.click("#call-button")
        page.wait_for_selector("#timeline li.error[data-step='2']")
        _shot(page, "3-play")

        page.fill("#reply", "I have looked at your tickets and will follow up shortly.")
        page.click("#submit-button")
        page.wait_for_selector("#grade table.criteria", timeout=60_000)
        assert page.locator("#grade tr.verdict-met, #grade tr.verdict-unmet").count() > 0
        assert page.locator("#grade tr.verdict-unmet").count() > 0  # this reply solves nothing
        assert page.locator("#call-button").is_disabled()
        # Colours: unmet rows are red-tinted, met rows green-tinted.
        unmet_bg = page.locator("#grade tr.verdict-unmet").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert unmet_bg == "rgb(255, 235, 233)"
        _shot(page, "4-graded")

        page.click("#save-button")
        page.wait_for_selector("#saved-link")
        page.click("#saved-link")
        page.wait_for_selector("ol.timeline li.step")
        assert page.locator("ol.timeline li.step").count() == 3
        assert page.locator("#grade tr.verdict-unmet").count() > 0
        _shot(page, "5-trajectory")

        page.goto(server + "/ui/trajectories")
        assert page.locator("section.file").count() == 1
        _shot(page, "6-trajectories")
        assert not errors, errors
    finally:
        context.close()
