#!/usr/bin/env python3
"""Peer side of the "Beacon scoring" rows of `cargo xtask bench`: pandas on the same generated log.

Run by the Rust harness (crates/bench/src/beacon.rs) in the venv it creates; prints one JSON
object on stdout. The CSV is read and its times parsed before timing (ours starts from parsed
columns too); each repetition times the whole analysis with time.perf_counter:

  group rows by (src_ip, dst_ip, dst_port); pairs with >= 10 connections are scored:
  check-ins = distinct whole seconds of a pair, sorted; intervals = their differences;
  quartiles by linear interpolation (pandas' default); Bowley = (Q1 + Q3 - 2 Q2) / (Q3 - Q1),
  0 when Q3 == Q1 or the median equals a quartile; MADM = median of |x - median|;
  interval_skew = 1 - |Bowley(intervals)|, interval_dispersion = the larger of
  1 - min(1, MADM / median) and the grid fit (how many intervals are whole multiples of one of
  up to 16 candidate periods from the shorter half, beyond chance) (both 0 with fewer than 4
  check-ins); size_regularity = mean of 1 - |Bowley(bytes)| and
  1 - min(1, MADM / max(median, 1)) over bytes_in (sent by the source) of every connection;
  count = min(1, check-ins / max(1, log span in hours));
  coverage = share of the log span's slots of max(3600 s, 2 x median interval) with a check-in;
  score = mean of the five.

The same formulas as webthreat-beacon (its crate docs); the harness checks that both sides give
every pair the same score.
"""

import argparse
import json
import platform
import sys
import time

import numpy as np
import pandas as pd

KEYS = ["src_ip", "dst_ip", "dst_port"]
MIN_CONNECTIONS = 10
EPOCH = pd.Timestamp(0, tz="UTC")


def bowley_symmetry(q):
    """1 - |Bowley skewness| from a frame of quartile columns 0.25, 0.5, 0.75 (Bowley 0 when
    Q3 == Q1 or the median equals a quartile)."""
    q1, q2, q3 = q[0.25], q[0.5], q[0.75]
    iqr = q3 - q1
    defined = (iqr > 0) & (q2 != q1) & (q2 != q3)
    b = ((q1 + q3 - 2 * q2) / iqr.where(defined)).clip(-1, 1).fillna(0.0)
    return 1.0 - b.abs()


GRID_CANDIDATES = 16


def grid_fit(intervals):
    """How well a pair's intervals are whole multiples of one period, beyond chance."""
    x = np.sort(intervals.to_numpy(dtype=float))
    n = len(x)
    if n < 3:
        return 0.0
    lower = x[: (n + 1) // 2]
    step = max(len(lower) // GRID_CANDIDATES, 1)
    best, tried = 0.0, None
    for p in lower[::step]:
        if p < 10.0 or p == tried:
            continue
        tried = p
        tol = max(0.05 * p, 1.0)
        chance = min(2.0 * tol / p, 1.0)
        if chance >= 1.0:
            continue
        k = np.floor(x / p + 0.5)
        hits = np.count_nonzero((k >= 1) & (np.abs(x - k * p) <= tol))
        best = max(best, min(max((hits / n - chance) / (1.0 - chance), 0.0), 1.0))
    return best


def analysis(df):
    t_ms = (df["creation_time"] - EPOCH) // pd.Timedelta(milliseconds=1)
    span0, span1 = int(t_ms.min()), int(t_ms.max())
    span_s = max((span1 - span0) / 1000.0, 0.0)
    hours = max(span_s / 3600.0, 1.0)
    d = pd.DataFrame(
        {
            "src_ip": df["src_ip"],
            "dst_ip": df["dst_ip"],
            "dst_port": df["dst_port"],
            "t": t_ms // 1000,
            "bytes": df["bytes_in"],
        }
    )
    n = d.groupby(KEYS, sort=False)["t"].transform("size")
    analysed = int(d.groupby(KEYS, sort=False).ngroups)
    d = d[n >= MIN_CONNECTIONS]

    sizes = d.groupby(KEYS, sort=False)["bytes"]
    sq = sizes.quantile([0.25, 0.5, 0.75]).unstack()
    smad = (d["bytes"] - sizes.transform("median")).abs().groupby(
        [d[k] for k in KEYS], sort=False
    ).median()
    size_regularity = 0.5 * (
        bowley_symmetry(sq) + 1.0 - (smad / sq[0.5].clip(lower=1.0)).clip(upper=1.0)
    )

    u = d[KEYS + ["t"]].drop_duplicates().sort_values(KEYS + ["t"])
    u["iv"] = u.groupby(KEYS, sort=False)["t"].diff()
    checkins = u.groupby(KEYS, sort=False).size()
    iv = u.dropna(subset=["iv"])
    ig = iv.groupby(KEYS, sort=False)["iv"]
    iq = ig.quantile([0.25, 0.5, 0.75]).unstack().reindex(checkins.index)
    imad = (iv["iv"] - ig.transform("median")).abs().groupby(
        [iv[k] for k in KEYS], sort=False
    ).median().reindex(checkins.index)
    enough = checkins >= 4
    interval_skew = bowley_symmetry(iq).where(enough, 0.0)
    grid = ig.apply(grid_fit).reindex(checkins.index).fillna(0.0)
    tightness = 1.0 - (imad / iq[0.5]).clip(upper=1.0)
    interval_dispersion = np.maximum(tightness, grid).where(enough, 0.0)
    median_iv = iq[0.5].fillna(0.0)

    count = (checkins / hours).clip(upper=1.0)
    slot = (2.0 * median_iv).clip(lower=3600.0).rename("slot")
    u = u.join(slot, on=KEYS)
    u["slot_idx"] = np.floor((u["t"] - span0 / 1000.0).clip(lower=0.0) / u["slot"])
    occupied = u.groupby(KEYS, sort=False)["slot_idx"].nunique()
    slots = np.maximum(np.ceil(span_s / slot), 1.0)
    coverage = (occupied / slots).clip(upper=1.0)

    score = (
        interval_skew
        + interval_dispersion
        + size_regularity.reindex(checkins.index)
        + count
        + coverage
    ) / 5.0
    return analysed, score


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    df = pd.read_csv(args.csv)
    df["creation_time"] = pd.to_datetime(df["creation_time"], utc=True)
    seconds = []
    for _ in range(max(args.reps, 1)):
        start = time.perf_counter()
        analysed, score = analysis(df)
        seconds.append(time.perf_counter() - start)
    scores = [[str(s), str(d), int(p), float(v)] for (s, d, p), v in score.items()]
    out = {
        "versions": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
        "rows": len(df),
        "pairs": analysed,
        "seconds": seconds,
        "scores": scores,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
