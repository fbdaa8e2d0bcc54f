"""A log scored with a run's saved model on Ray Data, checked against Model.score.

Run by hand, not in CI (README, "On Ray"):

    WEBTHREAT_RAY=1 bash scripts/python-bench.sh --setup-only
    .venv-python-bench/bin/python examples/ray_score.py RUN_DIR LOG [--blocks 8] [--cpus 2]

The log is read with pyarrow and given a `row_id` column (a block does not know its rows'
place in the log), split into blocks of a Ray Dataset, and each block is scored by
`Model.score` in a Ray task by `webthreat.ray.score` (the model travels to the workers
pickled as its run files; a model with window aggregates gets its rows grouped by window
first). Models whose features read the whole log (beacon scores, baselines) are refused.
"""

import argparse
import logging
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import ray

import webthreat
import webthreat.ray


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run directory (e.g. experiments/iforest/0001)")
    parser.add_argument("log", help="a CSV log with the columns the run was fitted on")
    parser.add_argument("--blocks", type=int, default=8, help="blocks of the Ray Dataset")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs Ray may use")
    args = parser.parse_args()

    model = webthreat.load_model(args.run)
    if model.partitioning == "whole_log":
        sys.exit(f"{args.run}: its features read the whole log: score it with Model.score")
    table = pacsv.read_csv(args.log)
    table = table.append_column("row_id", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    step = -(-table.num_rows // args.blocks)
    blocks = [table.slice(start, step) for start in range(0, table.num_rows, step)]

    ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        scored = webthreat.ray.score(ray.data.from_arrow(blocks), model)
        parts = ray.get(scored.to_arrow_refs())
    finally:
        ray.shutdown()

    result = pa.concat_tables(parts).sort_by("row_id")
    whole = model.score(table)
    same = result.equals(whole)
    flagged = {d: pa.compute.sum(result[f"{d}_flag"]).as_py() for d in model.detectors}
    print(
        f"{table.num_rows} rows in {len(parts)} Ray blocks scored with {args.run}: "
        f"flagged {flagged}"
    )
    print(f"sorted by row_id, equal to Model.score of the whole table: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
