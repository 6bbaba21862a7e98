"""Which polars engine runs the parsing queries of the block being read.

polars' default engine streams a query over both cores, which pays on large
frames; on a small one (a block of long JSON lines holds a few tens of
thousands of rows) its setting-up costs more than the work, and the in-memory
engine is faster. The reader picks the engine per block, by its row count, and
every parsing query asks for it here.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Literal

Engine = Literal["auto", "in-memory"]

SMALL_BLOCK_ROWS = 50_000
"""Below this many rows a block's queries run on the in-memory engine (measured crossover 25-100 k rows)."""

_ENGINE: contextvars.ContextVar[Engine] = contextvars.ContextVar("timeline_engine", default="auto")


def engine() -> Engine:
    """The engine for the current block's queries (``auto`` outside a block)."""
    return _ENGINE.get()


@contextlib.contextmanager
def engine_for(rows: int) -> Iterator[None]:
    """Run the queries inside on the engine that suits a block of ``rows`` rows."""
    token = _ENGINE.set("in-memory" if rows < SMALL_BLOCK_ROWS else "auto")
    try:
        yield
    finally:
        _ENGINE.reset(token)
