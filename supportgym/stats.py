"""Percentiles of timing samples, the one way every benchmark and report computes them.

Both methods return a sample that was really measured (no interpolation between two runs):
``nearest`` is the benchmarks' rank ``round(q * (n - 1))``; ``inverted_cdf`` the smallest
sample with at least a fraction ``q`` of the samples at or below it (what the eval report calls
p50 / p99). A contract module: it imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Method = Literal["nearest", "inverted_cdf"]


def percentile(samples: Sequence[float], q: float, method: Method = "nearest") -> float:
    """The ``q`` quantile (0 <= q <= 1) of ``samples``; raises ValueError when there are none."""
    if len(samples) == 0:
        raise ValueError("a percentile of no samples")
    return float(np.percentile(np.asarray(samples, dtype=float), q * 100, method=method))
