"""``webthreat.ray.score(dataset, model)``: a saved model over a Ray Dataset of pyarrow blocks
(the model is pickled to the workers as its run files; blocks are scored by ``Model.score``).
Nothing is computed here: rows in, the ``scores.csv`` columns out. ``webthreat.ray.fit``
fits a config on the sample a streamed run would take (each block keeps its share, the driver
merges them), as on Dask and Spark.

Row ids are the ``row_id`` column (required). A model whose features are all row-local is
mapped over blocks (``map_batches``); one with window aggregates gets each row's window number
from ``Model.window_keys``, then each window is scored whole (``groupby(...).map_groups``); one
whose features read the whole log is refused. As on Dask and Spark.
"""

import pyarrow as pa

from ._partitions import (
    WINDOW_KEY,
    check,
    require_row_ids,
    sampler,
    score_window_part,
    take_sample,
)


def fit(dataset, config, *, fit_rows=None, out="experiments", set=()):
    """Fits ``config`` (a YAML path or a dict of its keys; ``set`` holds ``key=value``
    overrides) on a sample of ``fit_rows`` rows of ``dataset`` (default: the config's
    ``streaming.fit_rows``, else 100,000) and returns the ``Model`` of the run it makes under
    ``out`` (which scores the sample rows). Reads ``dataset`` twice (the sample, the row
    count)."""
    import ray

    require_row_ids(dataset.columns(), "webthreat.ray.fit")
    checked = sampler(config, fit_rows, set)
    samples = dataset.map_batches(
        _sample_block, batch_format="pyarrow", batch_size=None, fn_kwargs={"sampler": checked}
    )
    merged = take_sample(pa.concat_tables(ray.get(samples.to_arrow_refs())), checked)
    return checked.fit(merged, dataset.count(), out).model()


def _sample_block(block, sampler):
    return take_sample(block, sampler) if block.num_rows > 0 else block


def score(dataset, model):
    """A lazy Ray Dataset of the scores of every row of ``dataset`` (blocks with the log's
    columns and ``row_id``), in no particular order: sort by ``row_id`` for ``scores.csv``
    order."""
    check(dataset.columns(), model, "webthreat.ray.score")
    if model.partitioning != "by_window":
        return dataset.map_batches(
            _score_block, batch_format="pyarrow", batch_size=None, fn_kwargs={"model": model}
        )
    keyed = dataset.map_batches(
        _with_window_keys, batch_format="pyarrow", batch_size=None, fn_kwargs={"model": model}
    )
    return keyed.groupby(WINDOW_KEY).map_groups(
        score_window_part, batch_format="pyarrow", fn_kwargs={"model": model}
    )


def _score_block(block, model):
    return model.score(block)


def _with_window_keys(block, model):
    return block.append_column(WINDOW_KEY, model.window_keys(block))
