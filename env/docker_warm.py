"""Warm the on-disk caches inside the image at build time: ``python3 -m supportgym.env.docker_warm``.

The Dockerfile runs this as the service user with ``SUPPORTGYM_CACHE`` pointing at the image's
cache folder, so that a new container loads the default world instead of generating it. It uses
the service's own world loader (:func:`supportgym.services.worlds.get_snapshot`), so whatever
cache that loader keeps is the one filled here. Task preparation runs too when the task package
offers it. Prints one JSON line; exits non-zero only if the world cannot be built at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from supportgym.services.worlds import get_snapshot
from supportgym.tasks import list_tasks


def _cache_root() -> Path:
    return Path(os.environ.get("SUPPORTGYM_CACHE") or Path.home() / ".cache" / "supportgym")


def _files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def warm_world(seed: int, scale: str) -> dict[str, Any]:

    t0 = time.perf_counter()
    snap = get_snapshot(seed, scale)
    return {
        "world": f"{seed}/{scale}",
        "world_hash": getattr(snap, "world_hash", None),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def warm_tasks() -> dict[str, Any]:
    """Load the task set (validated files) so the image's first episode does not pay for it."""
    t0 = time.perf_counter()
    tasks = list_tasks()
    return {"tasks": "list_tasks", "count": len(tasks), "seconds": round(time.perf_counter() - t0, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("worlds", nargs="*", help="worlds as seed/scale (default: 7/default)")
    ap.add_argument("--seed", type=int, help="seed of one more world (with --scale)")
    ap.add_argument("--scale", default="default")
    args = ap.parse_args(argv)
    worlds = [w for item in args.worlds for w in item.replace(",", " ").split()]
    if args.seed is not None or not worlds:
        worlds.insert(0, f"{7 if args.seed is None else args.seed}/{args.scale}")
    root = _cache_root()
    before = _files(root)
    report: dict[str, Any] = {"cache": str(root), "worlds": []}
    for w in worlds:
        seed, _, scale = w.partition("/")
        report["worlds"].append(warm_world(int(seed), scale or "default"))
    report.update(warm_tasks())
    report["cache_files_added"] = _files(root) - before
    if report["cache_files_added"] == 0:
        report["note"] = "the world loader kept nothing on disk: containers will generate the world at start"
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
