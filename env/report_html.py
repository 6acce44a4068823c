"""``supportgym report RUN`` and ``supportgym eval --report FILE``: one HTML file, plots inline
(SVG), no script and no external resource, so it opens offline and can be mailed around."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import typer
from markupsafe import Markup

from supportgym.env.report_data import (
    EpisodeRecord,
    RunFormatError,
    load_run,
    summarise_run,
)

MISSING_MATPLOTLIB = "the report's plots need matplotlib: pip install 'supportgym[report]'"

_TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SupportGym report: {{ title }}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; }
</style></head>
<body>
<h1>SupportGym report: {{ title }}</h1>
<p>{{ s.overall.episodes }} episodes of {{ s.overall.tasks }} tasks, k = {{ s.k }};
mean reward {{ fmt(s.overall.mean_reward) }}, perfect rate {{ fmt(s.overall.perfect_rate) }},
pass^{{ s.k }} {{ fmt(s.overall.pass_hat_k[s.k|string]) }}, infrastructure errors {{ s.overall.infra_errors }}.</p>
{% for name, svg in plots.items() %}
<figure class="plot" data-plot="{{ name }}">{{ svg }}</figure>
{% if name == "per-level" %}
<h2>Per family and level</h2>
<table id="groups"><tr><th>group</th><th>tasks</th><th>episodes</th><th>mean reward</th><th>perfect</th>
<th>pass^{{ s.k }}</th></tr>
{% for kind, groups in (("family", s.by_family), ("level", s.by_level)) %}{% for n, b in groups.items() %}
<tr><td>{{ kind }}: {{ n }}</td><td>{{ b.tasks }}</td><td>{{ b.episodes }}</td><td>{{ fmt(b.mean_reward) }}</td>
<td>{{ fmt(b.perfect_rate) }}</td><td>{{ fmt(b.pass_hat_k[s.k|string]) }}</td></tr>{% endfor %}{% endfor %}
</table>
{% endif %}
{% endfor %}
<h2>Criteria that fail most</h2>
<table id="most-failed"><tr><th>family / criterion</th><th>unmet</th><th>graded</th><th>fail rate</th></tr>
{% for c in s.most_failed %}<tr><td>{{ c.family }} / {{ c.criterion }}</td><td>{{ c.unmet }}</td><td>{{ c.graded }}</td>
<td>{{ fmt(c.rate) }}</td></tr>{% else %}<tr><td colspan="4">none</td></tr>{% endfor %}
</table>
<h2>Dodged bullets tripped</h2>
<table id="tripped"><tr><th>family / criterion</th><th>episodes</th></tr>
{% for name, n in s.dodged_bullets_tripped.items() %}<tr><td>{{ name }}</td><td>{{ n }}</td></tr>
{% else %}<tr><td colspan="2">none</td></tr>{% endfor %}
</table>
<h2>Gates tripped</h2>
<table id="gates"><tr><th>family / gate</th><th>episodes</th></tr>
{% for name, n in s.gates_tripped.items() %}<tr><td>{{ name }}</td><td>{{ n }}</td></tr>
{% else %}<tr><td colspan="2">none</td></tr>{% endfor %}
</table>
<h2>Cost and latency</h2>
<table id="cost"><tr><th>figure</th><th>value</th></tr>
<tr><td>tokens in / out</td><td>{{ s.cost.tokens_in }} / {{ s.cost.tokens_out }}</td></tr>
<tr><td>tokens per episode</td><td>{{ fmt(s.cost.tokens_per_episode) }}</td></tr>
<tr><td>cost (at ${{ s.cost.price_in_per_mtok }} / ${{ s.cost.price_out_per_mtok }} per M tokens in / out)</td>
<td>${{ fmt(s.cost.dollars) }}</td></tr>
<tr><td>episode wall time p50 / p99 (s)</td><td>{{ fmt(s.latency.episode_s_p50) }} / {{ fmt(s.latency.episode_s_p99) }}</td></tr>
<tr><td>grading p50 / p99 (ms)</td><td>{{ fmt(s.latency.grading_ms_p50) }} / {{ fmt(s.latency.grading_ms_p99) }}</td></tr>
</table>
</body></html>
""",  # noqa: E501 - the template's table rows read best one to a line
    autoescape=True,
)


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def render_report(
    records: list[EpisodeRecord], *, title: str, price_in: float = 0.0, price_out: float = 0.0
) -> tuple[str, dict[str, Any]]:
    """``(html, summary)`` of a run's episodes."""
    try:
        # deferred: report_plots needs matplotlib, the optional extra supportgym[report]
        from supportgym.env.report_plots import render_all
    except ImportError as exc:
        raise RunFormatError(MISSING_MATPLOTLIB) from exc
    summary = summarise_run(records, price_in=price_in, price_out=price_out)
    # matplotlib's own SVG output: trusted markup, inserted as is.
    plots = {name: Markup(svg) for name, svg in render_all(summary).items()}
    return _TEMPLATE.render(title=title, s=summary, plots=plots, fmt=_fmt), summary


def write_report(
    records: list[EpisodeRecord], out: Path, *, title: str, price_in: float = 0.0, price_out: float = 0.0
) -> dict[str, Any]:
    page, summary = render_report(records, title=title, price_in=price_in, price_out=price_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return summary


def write_run_report(run: Path, out: Path, *, title: str) -> None:
    """The report of the run at ``run`` (exit code 2 with the reason if it cannot be made)."""
    try:
        write_report(load_run(run), out, title=title)
    except RunFormatError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote the report to {out}", err=True)


def report_command(
    run: Path = typer.Argument(..., help="A run: eval --out JSON, a trajectories.jsonl, or its directory."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="Where to write the HTML."),
    price_in: float = typer.Option(0.0, help="Dollars per million input tokens (for the cost)."),
    price_out: float = typer.Option(0.0, help="Dollars per million output tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON (the HTML is written too)."),
    title: str | None = typer.Option(None, help="Title (default: the run's file name)."),
) -> None:
    """An HTML report (plots, failing criteria, gates, cost) of an eval run file.

    One offline page: reward distribution, mean reward and pass^k per family and level, the
    criteria that fail most (family x criterion heatmap), dodged bullets tripped, cost, latency."""
    try:
        records = load_run(run)
        summary = write_report(records, out, title=title or run.name, price_in=price_in, price_out=price_out)
    except RunFormatError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        slim = {k: v for k, v in summary.items() if k not in ("rewards",)}
        slim["latency"] = {k: v for k, v in summary["latency"].items() if k not in ("episode_s", "grading_ms")}
        typer.echo(json.dumps(slim, indent=2))
    else:
        o = summary["overall"]
        typer.echo(
            f"{out}: {o['episodes']} episodes, mean reward {_fmt(o['mean_reward'])}, "
            f"pass^{summary['k']} {_fmt(o['pass_hat_k'][str(summary['k'])])}"
        )
