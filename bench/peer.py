#!/usr/bin/env python3
"""Peer side of `cargo xtask bench`: pandas + scikit-learn on the same generated CloudWatch CSV.

Run by the Rust harness (crates/bench) in the venv it creates; prints one JSON object on stdout.
Every stage is timed with time.perf_counter, once per repetition; the Rust side takes medians.

Stages (the same work as ours, same parameters, same thread counts for scikit-learn):
  ingest         pandas.read_csv + pd.to_datetime of creation_time and end_time
  features       the seed's feature engineering (4 features) or the 10-feature variant, as a
                 float64 numpy matrix in the same column order as ours
  iforest fit    IsolationForest(n_estimators=100, max_samples=256, contamination="auto",
                 random_state=seed).fit on StandardScaler-scaled features (contamination "auto"
                 so fit grows the forest only and does not also score the training rows)
  iforest score  score_samples on the same scaled features
  end-to-end     ingest + 4 features + scaling + fit + score + 95th-percentile threshold + ROC AUC,
                 average precision, precision/recall/F1
Threads: 1, and 2 through joblib's threading backend (n_jobs on the estimator as well).

With --formats (ingest per native format, issue 17) it instead reads each given file (the same
generated rows as a CloudWatch CSV, Zeek conn.log, its gzip copy, VPC Flow log and ALB log) with
pandas (single-threaded) and, unless --no-polars, with python polars (its default pool),
converting the time columns as our reader does, and prints per-file repetitions:
  cloudwatch  read_csv; creation_time, end_time parsed as ISO-8601 UTC (as `ingest` above)
  zeek        tab-separated, no quoting, `#` lines skipped, names from the `#fields` line, `-`
              and `(empty)` missing; ts (epoch seconds, float) to UTC datetimes; the .gz copy
              is decompressed by the reader itself
  vpcflow     space-separated, no quoting, with its header line, `-` missing; start, end (epoch
              seconds) to UTC datetimes (NODATA records are kept, as rows of missing values)
  alb         space-separated, double-quoted fields, no header (names: --alb-fields), `-`
              missing; time, request_creation_time parsed as ISO-8601 UTC
"""

import argparse
import csv
import json
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.preprocessing import StandardScaler

try:  # joblib >= 1.3
    from joblib import parallel_config as _backend
except ImportError:  # pragma: no cover
    from joblib import parallel_backend as _backend

FEATURES_4 = ["bytes_in", "bytes_out", "session_duration", "avg_packet_size"]
FEATURES_10 = FEATURES_4 + [
    "log1p(bytes_in)",
    "log1p(bytes_out)",
    "bytes_ratio",
    "hour_of_day",
    "src_sessions",
    "src_distinct_ports",
]
WINDOW_SECONDS = 600
CONTAMINATION = 0.05
EPOCH = pd.Timestamp(0, tz="UTC")


def threading(n_jobs):
    """joblib threading backend with n_jobs workers."""
    return _backend(backend="threading", n_jobs=n_jobs)


def ingest(path):
    df = pd.read_csv(path)
    df["creation_time"] = pd.to_datetime(df["creation_time"], utc=True)
    df["end_time"] = pd.to_datetime(df["end_time"], utc=True)
    return df


def features(df, n):
    """The seed's features (n=4) or the 10-feature variant, as ours defines them."""
    bytes_in = df["bytes_in"].astype("float64")
    bytes_out = df["bytes_out"].astype("float64")
    duration = (df["end_time"] - df["creation_time"]).dt.total_seconds()
    cols = {
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "session_duration": duration,
        # sessions shorter than one second count as one second (ours does the same)
        "avg_packet_size": (bytes_in + bytes_out) / duration.clip(lower=1.0),
    }
    if n == 10:
        # unit-independent (pandas 3 may store seconds or microseconds, not nanoseconds)
        start_ms = (df["creation_time"] - EPOCH) // pd.Timedelta(milliseconds=1)
        window = start_ms // (WINDOW_SECONDS * 1000)
        groups = df.assign(_window=window).groupby(["src_ip", "_window"], sort=False)
        cols["log1p(bytes_in)"] = np.log1p(bytes_in)
        cols["log1p(bytes_out)"] = np.log1p(bytes_out)
        cols["bytes_ratio"] = (bytes_out + 1.0) / (bytes_in + 1.0)
        cols["hour_of_day"] = (start_ms % 86_400_000) / 3_600_000.0
        cols["src_sessions"] = groups["src_ip"].transform("size").astype("float64")
        cols["src_distinct_ports"] = groups["dst_port"].transform("nunique").astype("float64")
    names = FEATURES_4 if n == 4 else FEATURES_10
    return np.column_stack([cols[name].to_numpy(dtype=np.float64) for name in names])


def forest(threads, seed):
    return IsolationForest(
        n_estimators=100,
        max_samples=256,
        contamination="auto",
        random_state=seed,
        n_jobs=threads,
    )


def end_to_end(path, threads, seed):
    df = ingest(path)
    x = StandardScaler().fit_transform(features(df, 4))
    y = df["label"].to_numpy() == 1
    with threading(threads):
        clf = forest(threads, seed).fit(x)
        scores = -clf.score_samples(x)
    threshold = np.percentile(scores, 100.0 * (1.0 - CONTAMINATION))
    flags = scores > threshold
    auc = roc_auc_score(y, scores)
    ap = average_precision_score(y, scores)
    p, r, f1, _ = precision_recall_fscore_support(y, flags, average="binary", zero_division=0)
    return auc, ap, p, r, f1


def timed(reps, f):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return times, out


def zeek_fields(path):
    """The names of a Zeek TSV log's `#fields` directive (gzip-compressed or plain)."""
    import gzip

    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith("#fields"):
                return line.rstrip("\n").split("\t")[1:]
            if not line.startswith("#"):
                break
    raise ValueError(f"{path}: no #fields line")


def pandas_reader(kind, alb_fields):
    utc = lambda s: pd.to_datetime(s, utc=True)  # noqa: E731
    epoch = lambda s: pd.to_datetime(s, unit="s", utc=True)  # noqa: E731

    def cloudwatch(path):
        return ingest(path)

    def zeek(path):
        df = pd.read_csv(path, sep="\t", comment="#", header=None, names=zeek_fields(path),
                         na_values=["-", "(empty)"], quoting=csv.QUOTE_NONE)
        df["ts"] = epoch(df["ts"])
        return df

    def vpcflow(path):
        df = pd.read_csv(path, sep=" ", na_values=["-"], quoting=csv.QUOTE_NONE)
        df["start"] = epoch(df["start"])
        df["end"] = epoch(df["end"])
        return df

    def alb(path):
        df = pd.read_csv(path, sep=" ", header=None, names=alb_fields, quotechar='"',
                         na_values=["-"])
        df["time"] = utc(df["time"])
        df["request_creation_time"] = utc(df["request_creation_time"])
        return df

    return {"cloudwatch": cloudwatch, "zeek": zeek, "vpcflow": vpcflow, "alb": alb}[kind]


def polars_reader(pl, kind, alb_fields):
    iso = lambda c: pl.col(c).str.to_datetime(time_zone="UTC")  # noqa: E731
    epoch_s = lambda c: pl.from_epoch(pl.col(c), time_unit="s").dt.replace_time_zone("UTC")  # noqa: E731

    def cloudwatch(path):
        df = pl.read_csv(path)
        return df.with_columns(iso("creation_time"), iso("end_time"))

    def zeek(path):
        df = pl.read_csv(path, separator="\t", comment_prefix="#", has_header=False,
                         new_columns=zeek_fields(path), null_values=["-", "(empty)"],
                         quote_char=None)
        ts = pl.from_epoch((pl.col("ts") * 1e6).round().cast(pl.Int64), time_unit="us")
        return df.with_columns(ts.dt.replace_time_zone("UTC").alias("ts"))

    def vpcflow(path):
        df = pl.read_csv(path, separator=" ", null_values=["-"], quote_char=None)
        return df.with_columns(epoch_s("start"), epoch_s("end"))

    def alb(path):
        df = pl.read_csv(path, separator=" ", has_header=False, new_columns=alb_fields,
                         quote_char='"', null_values=["-"])
        return df.with_columns(iso("time"), iso("request_creation_time"))

    return {"cloudwatch": cloudwatch, "zeek": zeek, "vpcflow": vpcflow, "alb": alb}[kind]


def formats_main(args):
    """Ingest per native format: pandas and python polars on each file of --formats."""
    reps = max(1, args.reps)
    jobs = json.loads(args.formats)
    alb_fields = args.alb_fields.split(",")
    pl, polars_error = None, None
    if not args.no_polars:
        try:
            import polars as pl
        except ImportError as e:  # pragma: no cover
            polars_error = f"not importable: {e}"
    reads = []
    for job in jobs:
        name, path = job["format"], job["path"]
        kind = name.split(".")[0]  # zeek.gz is read as zeek; both readers decompress gzip
        times, df = timed(reps, lambda: pandas_reader(kind, alb_fields)(path))
        rows = len(df)
        del df
        polars_times = None
        if pl is not None:
            try:
                polars_times, df = timed(reps, lambda: polars_reader(pl, kind, alb_fields)(path))
                if len(df) != rows:
                    raise ValueError(f"{name}: polars read {len(df)} records, pandas {rows}")
                del df
            except Exception as e:  # noqa: BLE001 (reported, pandas still counts)
                polars_times = None
                polars_error = f"{name}: {type(e).__name__}: {e}"
        reads.append({"format": name, "rows": rows, "pandas": times, "polars": polars_times})
    out = {
        "versions": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "polars": pl.__version__ if pl is not None else None,
        },
        "polars_error": polars_error,
        "reads": reads,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--formats", help='JSON list of {"format": name, "path": file}')
    ap.add_argument("--alb-fields", default="", help="comma-separated ALB field names")
    ap.add_argument("--no-polars", action="store_true")
    args = ap.parse_args()
    if args.formats:
        return formats_main(args)
    if not args.csv:
        ap.error("--csv is required (or --formats)")
    reps = max(1, args.reps)
    threads = [int(t) for t in args.threads.split(",")]
    timings = []

    def record(stage, n_features, n_threads, times):
        timings.append(
            {"stage": stage, "features": n_features, "threads": n_threads, "seconds": times}
        )

    times, df = timed(reps, lambda: ingest(args.csv))
    record("ingest", None, 1, times)
    y = df["label"].to_numpy() == 1

    roc, means = [], []
    for n in (4, 10):
        times, x = timed(reps, lambda: features(df, n))
        record("features", n, 1, times)
        means.append({"features": n, "means": x.mean(axis=0).tolist()})
        xs = StandardScaler().fit_transform(x)
        for t in threads:
            with threading(t):
                times, clf = timed(reps, lambda: forest(t, args.seed).fit(xs))
                record("iforest fit", n, t, times)
                times, scores = timed(reps, lambda: clf.score_samples(xs))
                record("iforest score", n, t, times)
            if t == threads[0]:
                roc.append({"features": n, "value": float(roc_auc_score(y, -scores))})
    del df

    e2e = None
    for t in threads:
        times, e2e = timed(reps, lambda: end_to_end(args.csv, t, args.seed))
        record("end-to-end", 4, t, times)

    out = {
        "versions": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
        "rows": int(len(y)),
        "timings": timings,
        "roc_auc": roc,
        "feature_means": means,
        "end_to_end_metrics": dict(zip(["roc_auc", "pr_auc", "precision", "recall", "f1"],
                                       map(float, e2e))),
        # ru_maxrss is in KiB on Linux
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
