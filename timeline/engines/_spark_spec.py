"""Format specs translated into Spark SQL (placeholder until the translation lands)."""

from __future__ import annotations

from typing import Any


def plan_file(item: Any, opts: Any, specs: Any) -> None:
    return None


def read_planned(spark: Any, plan: Any) -> Any:
    raise NotImplementedError
