"""The Python package's benchmarks in one run (issue 22), with same-run ratios.

    bash scripts/python-bench.sh               # 1M rows (what PERFORMANCE.md reports)
    bash scripts/python-bench.sh --rows 20000  # a smoke run in well under a minute

It generates a log (`cargo xtask gen-data`), fits `configs/iforest.yaml` on it
(`cargo xtask run`), then measures on this machine, one after another:

a. binding overhead: `Model.score` from Python against the CLI's `score --run` on the same
   rows, the CLI's processes and the Python calls alternating round by round: (1) on a
   pyarrow table already in memory (Arrow import, validation, features, score, Arrow export)
   against the CLI's `features` + `score` stage seconds from `run.json` (`Batch::build_scaled`
   and the detectors' scoring, which `SavedModel::score` runs too; the CLI's validation is in
   its `ingest` stage, left out: the strictest line), and the same from a polars DataFrame of
   the table (polars' own layout: nothing to convert on the way in); (2) from the same CSV
   file by its path (`Model.score(path)`: webthreat's reader, the CLI's own: the same work
   but for the Arrow export), and through `pyarrow.csv.read_csv` + `Model.score`; (3) from
   the same Parquet file (`pyarrow.parquet.read_table` + `Model.score`); (2) and (3) against
   the CLI's `ingest` + `features` + `score` stages on that file: the same input to the same
   scores in memory (the CLI's `report` stage, which writes its files, is left out). Each
   ratio is the median of the rounds' ratios;
b. `webthreat.IsolationForest` fit and `score_samples` against scikit-learn's and isotree's
   Isolation Forest on standard-normal rows (100 trees, 256 samples, 2 threads each), with an
   agreement check on a small planted set (ROC AUC against the planted outliers);
c. `webthreat.dask.score` on a local cluster of 2 worker processes against 1 worker process
   and against `Model.score` in this process.

Medians of `--repeats` timed calls are reported (after one warm-up call where noted); the
machine's cores and load average are printed at the start and the end.
"""

import argparse
import datetime
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import webthreat

REPO = Path(__file__).resolve().parents[3]
THREADS = 2  # n_jobs / nthreads of every forest


def xtask(*args):
    """`cargo xtask ARGS` in the repository; returns its last line of standard output (a run's
    directory for `run` and `score`)."""
    done = subprocess.run(
        ["cargo", "-q", "xtask", *map(str, args)],
        cwd=REPO,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def timed(work):
    """(seconds, result) of one call of `work`."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def median_of(work, repeats):
    """The median and every time of `repeats` calls of `work`."""
    times = [timed(work)[0] for _ in range(repeats)]
    return statistics.median(times), times


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def secs(values):
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


class Table:
    """Rows of (what, seconds, ratio, note), printed aligned."""

    def __init__(self, title):
        self.title = title
        self.rows = []

    def add(self, what, seconds=None, ratio="", note=""):
        self.rows.append((what, "" if seconds is None else f"{seconds:.3f}", ratio, note))

    def print(self):
        print(f"\n## {self.title}\n")
        heads = ("what", "seconds", "ratio", "note")
        widths = [max(len(r[i]) for r in [heads, *self.rows]) for i in range(4)]
        line = "| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths)) + " |"
        print(line)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in self.rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        sys.stdout.flush()


def cli_stages(run, log, store):
    """`score --run` on `log` in a new process: its ingest and its features + score stage
    seconds (run.json), and its run directory."""
    done = Path(xtask("score", "--run", run, log, "--out", store))
    stages = json.loads((done / "run.json").read_text())["stage_seconds"]
    return stages["ingest"], stages["features"] + stages["score"], done


def binding_overhead(run, log, store, repeats):
    """a. Model.score from Python against the CLI: on a pyarrow table and a polars DataFrame
    already in memory, on the CSV file's path, and from the CSV and Parquet files read by
    pyarrow. Each comparison pairs a CLI process with the Python call right after it (one CLI
    run per comparison and round, though several could share one), so that the machine's
    drift touches both alike; each ratio is the median of the paired ratios."""
    out = Table(
        f"a. binding overhead: Model.score vs `score --run` ({repeats} alternating rounds, "
        "medians)"
    )
    parquet = log.with_suffix(".parquet")
    table = pacsv.read_csv(log)
    pq.write_table(table, parquet)
    model = webthreat.load_model(run)
    first, _ = timed(lambda: model.score(table))

    frame = pl.from_arrow(table)
    comparisons = {
        "in memory: Model.score(table) [Arrow import + validation + features + score + "
        "export] vs the CLI's features + score stages [no parsing, no validation]": (
            lambda: model.score(table),
            log,
            lambda ingest, scoring: scoring,
        ),
        "the same from a polars DataFrame of the table (polars' own layout: text as views, "
        "times in ms, nothing to convert)": (
            lambda: model.score(frame),
            log,
            lambda ingest, scoring: scoring,
        ),
        "from the CSV file by its path: Model.score(path) [webthreat's reader, as the CLI; "
        "+ export] vs the CLI's ingest + features + score stages [the same work]": (
            lambda: model.score(log),
            log,
            lambda ingest, scoring: ingest + scoring,
        ),
        "from the CSV file: pyarrow.csv.read_csv + Model.score vs the CLI's ingest + "
        "features + score stages": (
            lambda: model.score(pacsv.read_csv(log)),
            log,
            lambda ingest, scoring: ingest + scoring,
        ),
        "from the Parquet file: pyarrow.parquet.read_table + Model.score vs the CLI's "
        "ingest + features + score stages": (
            lambda: model.score(pq.read_table(parquet)),
            parquet,
            lambda ingest, scoring: ingest + scoring,
        ),
    }
    times = {what: ([], []) for what in comparisons}
    last = None
    for _ in range(repeats):
        for what, (python, source, cli_part) in comparisons.items():
            ingest, scoring, done = cli_stages(run, source, store)
            if source == log:
                last = done
            times[what][0].append(cli_part(ingest, scoring))
            times[what][1].append(timed(python)[0])
    same = model.scores_csv(table) == (last / "scores.csv").read_bytes()

    for what, (cli, py) in times.items():
        ratio = statistics.median(p / c for c, p in zip(cli, py))
        out.add(what, None, f"{ratio - 1:+.1%}", "overhead = Python / CLI - 1")
        out.add("  CLI (a new process each round)", statistics.median(cli), "1.00", secs(cli))
        out.add("  Python (one process)", statistics.median(py), f"{ratio:.2f}", secs(py))
    out.add("Model.score first call in the process (a warm-up, not counted)", first)
    out.add(
        "Model.scores_csv(table) == the CLI's scores.csv bytes",
        None,
        "",
        "yes" if same else "NO: the binding and the CLI disagree",
    )
    out.print()
    return table, model, same


def planted(rng, d, n=20_000, outliers=200):
    """Standard-normal rows with `outliers` rows drawn 5x wider; labels 1 for those."""
    x = np.vstack([rng.standard_normal((n, d)), 5.0 * rng.standard_normal((outliers, d))])
    y = np.r_[np.zeros(n), np.ones(outliers)]
    return x, y


def forests(rows, seed):
    """b. webthreat.IsolationForest against scikit-learn's and isotree's."""
    import isotree
    from scipy.stats import spearmanr
    from sklearn.ensemble import IsolationForest as SkForest
    from sklearn.metrics import roc_auc_score

    def ours():
        return webthreat.IsolationForest(
            n_estimators=100, max_samples=256, n_jobs=THREADS, random_state=seed
        )

    def scikit():
        return SkForest(n_estimators=100, max_samples=256, n_jobs=THREADS, random_state=seed)

    def iso():
        # isotree's documented settings for the classic iForest (single-variable splits, depth
        # limit log2(256) = 8, no missing-value handling)
        return isotree.IsolationForest(
            ntrees=100,
            sample_size=256,
            ndim=1,
            max_depth=8,
            missing_action="fail",
            nthreads=THREADS,
            random_seed=seed,
        )

    # anomaly scores, higher = more abnormal
    def outlyingness(name, est, x):
        return est.predict(x) if name == "isotree" else -est.score_samples(x)

    peers = (("webthreat", ours), ("scikit-learn", scikit), ("isotree", iso))
    # what each fit does beyond growing 100 trees on 256-row samples
    fit_notes = {
        "webthreat": "also scores every training row (training returns their scores)",
        "scikit-learn": "contamination='auto': no pass over the training rows",
        "isotree": "no pass over the training rows",
    }
    rng = np.random.default_rng(seed)
    out = Table(
        f"b. Isolation Forest on {rows:,} standard-normal rows: fit, score_samples "
        f"(100 trees, 256 samples, {THREADS} threads; one run each; ratio = peer / webthreat)"
    )
    for d in (4, 10):
        x = rng.standard_normal((rows, d))
        times = {}
        for name, make in peers:
            est = make()
            fit, _ = timed(lambda: est.fit(x))
            score, _ = timed(lambda: outlyingness(name, est, x))
            times[name] = (fit, score, fit + score)
        xp, yp = planted(rng, d)
        agreement = {}
        for name, make in peers:
            est = make().fit(xp)
            agreement[name] = outlyingness(name, est, xp)
        base = times["webthreat"]
        for name, _ in peers:
            t = times[name]
            auc = roc_auc_score(yp, agreement[name])
            rho = spearmanr(agreement[name], agreement["webthreat"]).statistic
            for part, i in (("fit", 0), ("score", 1), ("fit+score", 2)):
                note = fit_notes.get(name, "") if part == "fit" else ""
                if part == "fit+score":
                    note = f"planted set: ROC AUC {auc:.3f}, rank corr. with webthreat {rho:.3f}"
                out.add(f"{rows:,} x {d} {name} {part}", t[i], f"{t[i] / base[i]:.2f}", note)
    out.add(
        f"versions: scikit-learn {version('scikit-learn')}, isotree {version('isotree')}",
    )
    out.print()


def on_dask(table, model, partitions, repeats):
    """c. webthreat.dask.score on 2 worker processes vs 1, vs Model.score in this process."""
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster, wait

    import webthreat.dask

    rows = table.num_rows
    frame = table.append_column("row_id", pa.array(np.arange(rows, dtype=np.int64)))
    frame = frame.to_pandas(types_mapper=pd.ArrowDtype)

    def in_process():
        return model.score(frame).to_pandas(types_mapper=pd.ArrowDtype)

    expected = in_process()
    local, local_times = median_of(in_process, repeats)
    out = Table(
        f"c. Dask on {os.cpu_count()} cores: {rows:,} rows in {partitions} partitions "
        f"({repeats} computes after one warm-up, medians; ratio = time / 2 worker processes)"
    )
    results = {}
    for workers in (2, 1):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        with cluster, Client(cluster) as client:
            with warnings.catch_warnings():
                # the frame goes to the workers in the graph once, before the clock starts
                warnings.filterwarnings("ignore", message="Sending large graph")
                ddf = client.persist(dd.from_pandas(frame, npartitions=partitions))
            wait(ddf)  # the DataFrame is built and on the workers before the clock starts

            def compute():
                return webthreat.dask.score(ddf, model).compute()

            first, scored = timed(compute)
            scored = scored.sort_values("row_id").reset_index(drop=True)
            same = scored.equals(expected)
            median, times = median_of(compute, repeats)
            results[workers] = (median, times, first, same)
    two = results[2][0]
    for workers in (2, 1):
        median, times, first, same = results[workers]
        out.add(
            f"webthreat.dask.score, LocalCluster {workers} worker process(es) x 1 thread",
            median,
            f"{median / two:.2f}",
            f"{secs(times)}; first {first:.3f}; sorted by row_id == Model.score: "
            + ("yes" if same else "NO"),
        )
    out.add(
        "Model.score(frame) in this process (rayon on every core), to pandas",
        local,
        f"{local / two:.2f}",
        secs(local_times),
    )
    out.print()
    return all(r[3] for r in results.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of every data set")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement")
    parser.add_argument("--partitions", type=int, default=8, help="Dask partitions")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--work", help="directory for the log and the runs (default: a temporary one, removed)"
    )
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: a, b, c")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="webthreat-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# webthreat Python benchmarks, {now}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}, "
        f"pandas {pd.__version__}"
    )
    print(f"load average at start: {load()}")
    print(f"rows {args.rows:,}, repeats {args.repeats}, seed {args.seed}, work dir {work}")
    sys.stdout.flush()

    ok = True
    try:
        log = work / "log.csv"
        store = work / "store"
        table = model = None
        if not skip >= {"a", "c"}:
            xtask("gen-data", "--rows", args.rows, "--seed", args.seed, "--out", log)
            run = xtask("run", "configs/iforest.yaml", "--data", log, "--out", store)
            print(f"log: {log} ({args.rows:,} rows); run: {run} (configs/iforest.yaml)")
            if "a" not in skip:
                table, model, same = binding_overhead(run, log, store, args.repeats)
                ok &= same
            else:
                table, model = pacsv.read_csv(log), webthreat.load_model(run)
        if "b" not in skip:
            forests(args.rows, args.seed)
        if "c" not in skip:
            ok &= on_dask(table, model, args.partitions, args.repeats)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at end: {load()}")
    if not ok:
        print("a result differed from the CLI's or Model.score's (see above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
