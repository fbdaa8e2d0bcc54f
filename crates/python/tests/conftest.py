"""Shared fixtures: the seed export and runs made by the CLI (`cargo xtask run`), which the
package's results are compared with."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import webthreat

ROOT = Path(__file__).resolve().parents[3]
SEED = Path(
    os.environ.get(
        "WEBTHREAT_SEED",
        ROOT.parent / "shared" / "data" / "cloudwatch" / "CloudWatch_Traffic_Web_Attack.csv",
    )
)


def xtask(*args):
    """Runs `cargo xtask ARGS` in the repository; returns the last line it prints on stdout (a
    run directory), if any."""
    out = subprocess.run(
        ["cargo", "xtask", *map(str, args)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = out.strip().splitlines()
    return ROOT / lines[-1] if lines else None


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def seed_run(store):
    """configs/iforest.yaml on the seed export (flags 15 of 282)."""
    if not SEED.exists():
        pytest.skip(f"{SEED} is missing (set WEBTHREAT_SEED)")
    return xtask("run", "configs/iforest.yaml", "--data", SEED, "--out", store)


@pytest.fixture(scope="session")
def matrix_run(store, tmp_path_factory):
    """An Isolation Forest run on a plain numeric table without scaling: its features are the
    table's columns as they are. Returns the run directory and the matrix."""
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(600, 4)) * [1.0, 3.0, 0.5, 10.0], 4)
    X[:12] += 8.0
    data = tmp_path_factory.mktemp("matrix") / "matrix.csv"
    lines = ["a,b,c,d"] + [",".join(repr(float(v)) for v in row) for row in X]
    data.write_text("\n".join(lines) + "\n")
    config = data.with_name("matrix.yaml")
    config.write_text(
        f"""name: matrix
seed: 7
data:
  path: {data}
  format: table
features: [a, b, c, d]
scaling: none
detectors:
  - kind: iforest
    n_estimators: 100
    max_samples: auto
    contamination: 0.05
"""
    )
    return xtask("run", config, "--out", store), X, data


# window aggregates of sources and destinations over 2-minute windows, beside row features
WINDOWED = """name: windowed
seed: 3
data:
  path: data/sample.csv
  format: cloudwatch
features: [log1p(bytes_in), session_duration, src_sessions, log1p(src_bytes),
           src_distinct_ports, src_fan_out, dst_fan_in]
window_seconds: 120
scaling: standard
detectors:
  - kind: iforest
    n_estimators: 50
    contamination: 0.05
  - kind: zscore
    contamination: 0.05
"""


def generated_runs(store, where, seed):
    """A generated log of 20,000 rows in ``where``, and per config (``row_local``: the seed
    analysis's; ``windowed``: ``WINDOWED``) its run and the CLI's rescoring of the log."""
    log = where / "log.csv"
    xtask("gen-data", "--rows", 20000, "--seed", seed, "--out", log)
    windowed = where / "windowed.yaml"
    windowed.write_text(WINDOWED)
    runs = {}
    for name, config in (("row_local", "configs/iforest.yaml"), ("windowed", windowed)):
        run = xtask("run", config, "--data", log, "--out", store)
        runs[name] = (run, xtask("score", "--run", run, log, "--out", store))
    return log, runs


def scored_as_the_cli(run, scored, table):
    """The model of ``run``, its scores of ``table`` (checked to be the CLI's rescoring
    ``scored`` byte for byte) and ``table`` with a ``row_id`` column: what an engine's result
    is compared with, and what it is given."""
    model = webthreat.load_model(run)
    assert model.scores_csv(table) == (scored / "scores.csv").read_bytes()
    frame = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    return model, model.score(table), frame


# what the engines' `fit` is compared with: the run streaming the log with this sample size
FIT_ROWS = 3000


def assert_fits_as_streamed(model, log, store):
    """``model`` (an engine's ``fit`` of ``configs/iforest.yaml`` with ``FIT_ROWS``) has the
    model files of `cargo xtask run` streaming ``log`` with the same ``fit_rows``."""
    streamed = xtask(
        "run", "configs/iforest.yaml", "--data", log, "--out", store,
        "--set", "streaming.batch_rows=2500", "--set", f"streaming.fit_rows={FIT_ROWS}",
    )
    for name in ("features.json", "iforest.json"):
        assert (model.run_dir / "models" / name).read_bytes() == (
            streamed / "models" / name
        ).read_bytes(), name
    return streamed
