"""What "bursting" means, once, for templates and for the reconstruction.

A group of lines (a template, a source) bursts in a window when it has at least
``min_count`` lines there and at least ``factor`` times as many as its baseline
rate predicts, with one line added to both sides, so that a template absent
from the baseline needs a few lines and a common one needs a real rise.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

BURST_RATIO = 5.0
"""How many times its baseline a group must rise to burst."""
BURST_MIN_COUNT = 3
"""The fewest lines in the window that can be a burst."""

T = TypeVar("T", pl.Expr, pl.Series)


def is_bursting(count: T, expected: T | float, factor: float = BURST_RATIO, min_count: int = BURST_MIN_COUNT) -> T:
    """True where ``count`` lines in the window burst against ``expected`` lines at the baseline rate."""
    return (count >= min_count) & ((count + 1) >= factor * (expected + 1))  # type: ignore[operator,return-value]
