"""Grouping accuracy of timeline's template miner on Loghub-2k, beside Drain3.

Usage::

    python bench/templates_loghub.py --loghub /tmp/loghub [--corrected /tmp/loghub2/2k_dataset]

``--loghub`` is a local copy of Loghub (``X/X_2k.log_structured.csv`` per
system). ``--corrected`` is a copy of Loghub-2.0's ``2k_dataset`` folder, whose
``X_2k.log_structured_corrected.csv`` files hold the corrected templates; when
given, the ground truth comes from those. The data is never committed.

Three parsers read the ``Content`` column of each structured CSV:

``timeline``
    :func:`timeline.templates.templates`, one configuration for every system.
``drain3-generic``
    Drain3 with its default configuration and generic masks (IP, hex, numbers).
``drain3-tuned``
    Drain3 with the per-system masks, similarity threshold and depth of the
    Loghub benchmark's Drain settings (typed in below as data).

Grouping accuracy (GA), as the Loghub benchmark defines it: a message is
parsed correctly when the set of messages its predicted group holds is exactly
the set its ground-truth group holds; GA is the share of messages parsed
correctly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl

sys.path.append(str(Path(__file__).resolve().parents[1]))

from timeline.templates import templates  # noqa: E402

SYSTEMS = [
    "HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
    "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac",
]

# Drain3 baseline with generic masks: the kind of rules a user writes once.
GENERIC_MASKS = [
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-fA-F0-9]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
]

# The Loghub benchmark's per-system Drain settings: masks (each replaced by the
# wildcard), similarity threshold st, tree depth.
TUNED: dict[str, dict[str, object]] = {
    "HDFS": {"regex": [r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], "st": 0.5, "depth": 4},
    "Hadoop": {"regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Spark": {"regex": [r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"], "st": 0.5, "depth": 4},
    "Zookeeper": {"regex": [r"(/|)(\d+\.){3}\d+(:\d+)?"], "st": 0.5, "depth": 4},
    "BGL": {"regex": [r"core\.\d+"], "st": 0.5, "depth": 4},
    "HPC": {"regex": [r"=\d+"], "st": 0.5, "depth": 4},
    "Thunderbird": {"regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Windows": {"regex": [r"0x.*?\s"], "st": 0.7, "depth": 5},
    "Linux": {"regex": [r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"], "st": 0.39, "depth": 6},
    "Android": {
        "regex": [r"(/[\w-]+)+", r"([\w-]+\.){2,}[\w-]+", r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b"],
        "st": 0.2, "depth": 6,
    },
    "HealthApp": {"regex": [], "st": 0.2, "depth": 4},
    "Apache": {"regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Proxifier": {
        "regex": [r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"],
        "st": 0.6, "depth": 3,
    },
    "OpenSSH": {"regex": [r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"], "st": 0.6, "depth": 5},
    "OpenStack": {"regex": [r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"], "st": 0.5, "depth": 5},
    "Mac": {"regex": [r"([\w-]+\.){2,}[\w-]+"], "st": 0.7, "depth": 6},
}


def grouping_accuracy(truth: pl.Series, predicted: pl.Series) -> float:
    """Share of messages whose predicted group equals their true group exactly."""
    df = pl.DataFrame({"t": truth.cast(pl.String), "p": predicted.cast(pl.String)})
    n_t = df.group_by("t").agg(n_t=pl.len(), n_p_distinct=pl.col("p").n_unique(), p=pl.col("p").first())
    n_p = df.group_by("p").agg(n_p=pl.len())
    ok = n_t.join(n_p, on="p", how="left").filter((pl.col("n_p_distinct") == 1) & (pl.col("n_t") == pl.col("n_p")))
    return float(ok["n_t"].sum()) / df.height


def run_drain3(contents: list[str], masks: list[tuple[str, str]], sim_th: float, depth: int) -> list[int]:
    """Cluster ids Drain3 gives each message, online, in file order."""
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in masks]
    cfg.drain_sim_th = sim_th
    cfg.drain_depth = depth
    cfg.profiling_enabled = False
    miner = TemplateMiner(config=cfg)
    return [miner.add_log_message(c)["cluster_id"] for c in contents]


def load(system: str, loghub: Path, corrected: Path | None) -> pl.DataFrame | None:
    """Content and ground-truth group of each line of one system's 2k sample."""
    if corrected is not None:
        path = corrected / system / f"{system}_2k.log_structured_corrected.csv"
        if not path.exists():
            return None
        key = "EventTemplate"
    else:
        path = loghub / system / f"{system}_2k.log_structured.csv"
        if not path.exists():
            return None
        key = "EventId"
    df = pl.read_csv(path, infer_schema=False)
    return df.select(pl.col("Content").fill_null(""), truth=pl.col(key))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loghub", type=Path, required=True, help="local copy of Loghub (X/X_2k.log_structured.csv)")
    ap.add_argument("--corrected", type=Path, help="Loghub-2.0 2k_dataset folder with *_structured_corrected.csv")
    ap.add_argument("--systems", nargs="*", default=SYSTEMS, help="systems to run (default: all 16)")
    ap.add_argument("--no-drain3", action="store_true", help="run timeline only")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--show-errors", metavar="SYSTEM", help="print timeline's wrong groups for one system")
    ap.add_argument("--rows", type=int, default=0, metavar="N",
                    help="also time templates() on N rows drawn from the Loghub contents, each made distinct")
    args = ap.parse_args(argv)
    if args.rows:
        time_rows(args.loghub, args.rows)
        if not args.systems:
            return 0

    rows = []
    for system in args.systems:
        df = load(system, args.loghub, args.corrected)
        if df is None:
            continue
        contents = df["Content"].to_list()
        row: dict[str, object] = {"system": system}
        t0 = time.perf_counter()
        tl = templates(pl.DataFrame({"message": contents}))
        row["timeline_s"] = time.perf_counter() - t0
        row["timeline"] = grouping_accuracy(df["truth"], tl["template_id"])
        if system == args.show_errors:
            show_errors(df, tl)
        if not args.no_drain3:
            t0 = time.perf_counter()
            ids = run_drain3(contents, GENERIC_MASKS, 0.4, 4)
            row["drain3_generic_s"] = time.perf_counter() - t0
            row["drain3_generic"] = grouping_accuracy(df["truth"], pl.Series(ids))
            setting = TUNED[system]
            t0 = time.perf_counter()
            ids = run_drain3(contents, [(r, "*") for r in setting["regex"]], setting["st"], setting["depth"])  # type: ignore[union-attr,arg-type]
            row["drain3_tuned_s"] = time.perf_counter() - t0
            row["drain3_tuned"] = grouping_accuracy(df["truth"], pl.Series(ids))
        rows.append(row)

    table = pl.DataFrame(rows)
    cols = [c for c in ("timeline", "drain3_generic", "drain3_tuned") if c in table.columns]
    avg = {"system": "average", **{c: table[c].mean() for c in table.columns if c != "system"}}
    table = pl.concat([table, pl.DataFrame([avg])], how="vertical_relaxed")
    truth = "Loghub-2.0 corrected templates" if args.corrected else "Loghub original EventIds"
    print(f"Grouping accuracy on Loghub-2k ({truth}), {len(rows)} systems")
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, float_precision=3, tbl_hide_column_data_types=True):
        print(table.select("system", *cols, *[f"{c}_s" for c in cols]))
    if args.json:
        args.json.write_text(json.dumps(table.to_dicts(), indent=2))
    return 0


def time_rows(loghub: Path, n: int) -> None:
    """Time templates() on n rows sampled from every system's contents.

    Two cases: every line made distinct by a request id and a latency (the
    worst case: all n lines are masked), and the sampled lines as they are.
    """
    import numpy as np

    files = sorted(loghub.glob("*/*_2k.log_structured.csv"))
    contents = pl.concat([pl.read_csv(f, infer_schema=False).select("Content") for f in files])["Content"].fill_null("")
    rng = np.random.default_rng(7)
    sampled = contents.gather(rng.integers(0, contents.len(), n))
    distinct = (sampled + " req=" + pl.Series(rng.integers(0, 10**9, n)).cast(pl.String)
                + " took " + pl.Series(rng.integers(1, 5000, n)).cast(pl.String) + "ms")
    for label, msgs in (("every line distinct", distinct), ("lines as sampled", sampled)):
        df = pl.DataFrame({"message": msgs})
        t0 = time.perf_counter()
        out = templates(df)
        dt = time.perf_counter() - t0
        print(f"templates() on {n:,} rows ({label}, {msgs.n_unique():,} distinct messages): "
              f"{dt:.2f} s, {out['template_id'].n_unique():,} templates")


def show_errors(df: pl.DataFrame, tl: pl.DataFrame) -> None:
    """Print the true groups that timeline split or merged, for tuning by eye."""
    both = df.with_columns(tl.select("template_id", "template"))
    sizes = both.group_by("template_id").agg(n_p=pl.len())
    per_truth = both.group_by("truth").agg(
        n=pl.len(), ids=pl.col("template_id").unique(), tmpl=pl.col("template").unique(), ex=pl.col("Content").unique().head(3)
    )
    for r in per_truth.sort("n", descending=True).iter_rows(named=True):
        n_p = sizes.filter(pl.col("template_id").is_in(r["ids"]))["n_p"].sum()
        if len(r["ids"]) == 1 and n_p == r["n"]:
            continue
        print(f"--- truth {r['truth']!r} n={r['n']} predicted groups={len(r['ids'])} their size={n_p}")
        for t in r["tmpl"][:6]:
            print("    T:", t)
        for e in r["ex"]:
            print("    E:", e[:200])


if __name__ == "__main__":
    raise SystemExit(main())
