"""The report's plots, drawn with matplotlib as inline SVG text (the HTML then needs no file
and no network). Each function takes the summary of :mod:`supportgym.env.report_data`."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

# Same text in the same SVG on every run: no random ids, no date.
matplotlib.rcParams["svg.hashsalt"] = "supportgym"
matplotlib.rcParams["svg.fonttype"] = "none"


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: the SVG sits inside HTML


def reward_histogram(summary: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    rewards = summary["rewards"]
    ax.hist(rewards, bins=20, color="#4C72B0", edgecolor="white")
    ax.set_xlabel("reward")
    ax.set_ylabel("episodes")
    ax.set_title(f"Reward distribution ({len(rewards)} episodes)")
    return _svg(fig)


def _bars(groups: dict[str, dict[str, Any]], title: str, k: int) -> str:
    names = list(groups)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    y = range(len(names))
    mean = [groups[n]["mean_reward"] or 0.0 for n in names]
    passk = [groups[n]["pass_hat_k"].get(str(k)) or 0.0 for n in names]
    ax.barh([i + 0.2 for i in y], mean, height=0.4, label="mean reward", color="#4C72B0")
    ax.barh([i - 0.2 for i in y], passk, height=0.4, label=f"pass^{k}", color="#DD8452")
    ax.set_yticks(list(y), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([1.0, *mean]) * 1.05)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title)
    return _svg(fig)


def per_family(summary: dict[str, Any]) -> str:
    return _bars(summary["by_family"], "Mean reward and pass^k per family", summary["k"])


def per_level(summary: dict[str, Any]) -> str:
    return _bars(summary["by_level"], "Mean reward and pass^k per capability level", summary["k"])


def pass_curve(summary: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    curve = summary["overall"]["pass_hat_k"]
    ks = [int(j) for j in curve]
    ax.plot(ks, [curve[str(j)] or 0.0 for j in ks], marker="o", label="all tasks")
    ax.set_xticks(ks)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("k (attempts that must all be perfect)")
    ax.set_ylabel("pass^k")
    ax.set_title("pass^k")
    return _svg(fig)


def criteria_heatmap(summary: dict[str, Any]) -> str:
    heat = summary["heatmap"]
    families, criteria = heat["families"], heat["criteria"]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(criteria) + 3), 0.3 * len(families) + 2))
    if criteria:
        grid = [
            [heat["rates"][f][c] if heat["rates"][f][c] is not None else float("nan") for c in criteria]
            for f in families
        ]
        cmap = matplotlib.colormaps["Reds"].with_extremes(bad="#d9d9d9")
        image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=1)
        fig.colorbar(image, ax=ax, label="fail rate")
        ax.set_xticks(range(len(criteria)), criteria, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(families)), families, fontsize=7)
    else:
        ax.text(0.5, 0.5, "no graded criterion failed", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("Criteria that fail most: fail rate per family (grey: not in that family)")
    return _svg(fig)


def latency_histogram(summary: dict[str, Any]) -> str:
    lat = summary["latency"]
    timed = lat["episode_s"]
    fig, ax = plt.subplots(figsize=(6, 3))
    values, label = (timed, "episode wall time (s)") if timed else (lat["grading_ms"], "grading time (ms)")
    ax.hist(values, bins=20, color="#55A868", edgecolor="white")
    ax.set_xlabel(label)
    ax.set_ylabel("episodes")
    ax.set_title("Latency")
    return _svg(fig)


PLOTS = {
    "reward-distribution": reward_histogram,
    "per-family": per_family,
    "per-level": per_level,
    "pass-k": pass_curve,
    "criteria-heatmap": criteria_heatmap,
    "latency": latency_histogram,
}


def render_all(summary: dict[str, Any]) -> dict[str, str]:
    """Every plot as SVG text, by name."""
    return {name: draw(summary) for name, draw in PLOTS.items()}
