"""``supportgym export``: a split of the task set as dataset rows for an RL stack (JSONL)."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import typer


class ExportFormat(str, enum.Enum):
    trl = "trl"
    skyrl = "skyrl"


def export_command(
    format: ExportFormat = typer.Option(ExportFormat.trl, "--format", help="trl (prompt, task_id) or skyrl."),
    split: str = typer.Option(
        "train", help="dev, test, heldout-families, all (every fixed task) or train (generated: --seed, --n)."
    ),
    seed: int = typer.Option(0, help="train only: the generator seed."),
    n: int = typer.Option(2, help="train only: generated tasks per train family."),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL file to write (one row per task)."),
    as_json: bool = typer.Option(False, "--json", help="Print {rows, split, format, out} as JSON."),
) -> None:
    """Export tasks as a dataset for an RL stack (TRL, SkyRL).

    Write the tasks of a split as dataset rows: TRL's (prompt, task_id; load with
    datasets.load_dataset("json", ...)) or SkyRL's (data_source, prompt, env_class, reward_spec,
    extra_info). The splits are the task set's (docs/tasks.md, "Splits"): train is generated and
    proven first, a few seconds per family."""
    # Inside the command: the task set loads on use, so `supportgym --help` stays instant.
    from supportgym.integrations import skyrl_data, splits

    try:
        if format == ExportFormat.trl:
            rows = splits.chat_rows(split, seed=seed, n=n)
        else:
            rows = skyrl_data.dataset_rows(split, seed=seed, n=n)
    except splits.UnknownSplit as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    if as_json:
        typer.echo(json.dumps({"rows": len(rows), "split": split, "format": format.value, "out": str(out)}))
    else:
        typer.echo(f"wrote {len(rows)} {format.value} rows ({split}) to {out}")
