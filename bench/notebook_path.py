"""The notebook path as one process: import, ``tl.read(path, tz=...)``, one group-by over an extracted field.

Run by ``run_matrix.py`` as a whole process (start-up included), it prints one
JSON line: the event and rejected counts, the first and last time read, the
number of groups and the seconds spent importing, reading and querying.

``FIELD`` is ``col:NAME`` (an event column) or ``attrs:$.key`` (a key of the
event's ``attrs``, as a user asks for a field the format keeps there).

Usage::

    python bench/notebook_path.py FILE FORMAT TZ FIELD
"""

from __future__ import annotations

import json
import sys
import time

t0 = time.perf_counter()
import polars as pl  # noqa: E402

import timeline as tl  # noqa: E402


def main(argv: list[str]) -> int:
    path, fmt, tz, field = argv
    t1 = time.perf_counter()
    table = tl.read(path, format=fmt or None, tz=tz, quiet=True)
    df = table.df
    t2 = time.perf_counter()
    kind, _, name = field.partition(":")
    expr = pl.col(name) if kind == "col" else pl.col("attrs").str.json_path_match(name)
    groups = df.lazy().group_by(expr.alias("key")).agg(pl.len()).collect()
    t3 = time.perf_counter()
    accounts = table.account if isinstance(table.account, list) else [table.account]
    ts = df["ts"]
    print(json.dumps({
        "events": len(df), "rejected": sum(a.rejected for a in accounts), "format": accounts[0].format if accounts else None,
        "first_ts": ts.min().isoformat() if len(df) else None, "last_ts": ts.max().isoformat() if len(df) else None,
        "null_ts": ts.null_count(), "groups": groups.height, "null_key": int(groups.filter(pl.col("key").is_null())["len"].sum()),
        "import_s": t1 - t0, "read_s": t2 - t1, "query_s": t3 - t2,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
