"""The README's Python snippet is the first code a newcomer runs: it must run as printed, solve
its task perfectly, and print what the README says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_snippet_and_output() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using the environment") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert code and shown, "README: the snippet or its printed output is missing"
    return code.group(1), shown.group(1)


def test_readme_snippet_prints_what_the_readme_shows(tmp_path: Path) -> None:
    code, shown = readme_snippet_and_output()
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == shown
    # The first reply solves the task; the second loses named criteria.
    first, second = [line for line in run.stdout.splitlines() if line.startswith("reward")]
    assert "perfect True  lost []" in first
    assert "perfect False" in second and "'reply-amount'" in second
