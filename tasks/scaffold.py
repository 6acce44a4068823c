"""``supportgym tasks new FAMILY``: a new family's two files from the commented templates in
``tasks/new_family/``. As written they are a small working family (so validation and the
family's tests pass from the first run); the author turns it into the situation they mean."""

from __future__ import annotations

import re
from pathlib import Path

from supportgym.tasks.loader import PACKAGE_DIR

TEMPLATES = PACKAGE_DIR / "new_family"
FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = "__FAMILY__"


class ScaffoldError(ValueError):
    """The family cannot be scaffolded (bad name, files already there)."""


def scaffold_family(family: str, tasks_dir: Path, rubrics_dir: Path) -> tuple[Path, Path]:
    """Write ``<tasks_dir>/<family>.yaml`` and ``<rubrics_dir>/<family>.yaml``; never overwrites."""
    if not FAMILY_NAME.match(family):
        raise ScaffoldError(f"family name {family!r} must be lowercase letters, digits and _ and start with a letter")
    task_file = tasks_dir / f"{family}.yaml"
    rubric_file = rubrics_dir / f"{family}.yaml"
    existing = [str(p) for p in (task_file, rubric_file) if p.exists()]
    if existing:
        raise ScaffoldError(f"not overwriting {', '.join(existing)}")
    for template, target in ((TEMPLATES / "family.yaml", task_file), (TEMPLATES / "rubric.yaml", rubric_file)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.read_text().replace(PLACEHOLDER, family))
    return task_file, rubric_file
