"""``webthreat.dask.score(ddf, model)``: a saved model mapped over the partitions of a Dask
DataFrame (the model is pickled to the workers as its run files; each partition is scored by
``Model.score``). Nothing is computed here: partitions in, the ``scores.csv`` columns out.

Row ids are the partitions' ``row_id`` column (required: a partition does not know its place
in the log). A model with window aggregates (``Model.partitioning == "by_window"``) gets its
rows shuffled first so that each partition holds whole time windows (keyed by
``Model.window_keys``, our own window numbers); one whose features read the whole log is
refused.

``webthreat.dask.fit(ddf, config, fit_rows=...)`` fits a config on a partitioned log: every
partition keeps the rows a streamed run's fit sample would take among its rows, the driver
merges those samples the same way and fits on them (the sample of the samples is the sample of
the whole log), so the models are those ``webthreat run`` fits on the log with
``streaming: {fit_rows: ...}``.
"""

from functools import partial

import pandas as pd
import pyarrow as pa

from ._partitions import (
    WINDOW_KEY,
    check,
    require_row_ids,
    sampler,
    score_window_part,
    take_sample,
)


def score(ddf, model):
    """A lazy Dask DataFrame of the scores of every row of ``ddf`` (Arrow-backed pandas
    columns, the values ``Model.score`` gives); sort it by ``row_id`` for ``scores.csv`` order.
    """
    check(ddf.columns, model, "webthreat.dask.score")
    # the result's columns and types: those of a few scored rows
    meta = _frame(model.score(_table(ddf.partitions[0].head(2)))).iloc[:0]
    if model.partitioning == "by_window":
        keyed = ddf.map_partitions(
            partial(_with_window_keys, model=model),
            meta=ddf._meta.assign(**{WINDOW_KEY: pd.Series(dtype="int64")}),
        )
        windows = keyed.shuffle(on=WINDOW_KEY, npartitions=ddf.npartitions)
        return windows.map_partitions(
            partial(_score_partition, model=model, empty=meta, whole_windows=True), meta=meta
        )
    return ddf.map_partitions(partial(_score_partition, model=model, empty=meta), meta=meta)


def fit(ddf, config, *, fit_rows=None, out="experiments", set=()):
    """Fits ``config`` (a YAML path or a dict of its keys; ``set`` holds ``key=value``
    overrides) on a sample of ``fit_rows`` rows of ``ddf`` (default: the config's
    ``streaming.fit_rows``, else 100,000) and returns the ``Model`` of the run it makes under
    ``out`` (which scores the sample rows). Computes ``ddf`` once."""
    import dask

    require_row_ids(ddf.columns, "webthreat.dask.fit")
    checked = sampler(config, fit_rows, set)
    samples = ddf.map_partitions(partial(_sample_partition, sampler=checked), meta=ddf._meta)
    samples, rows = dask.compute(samples, ddf.shape[0])
    merged = take_sample(_table(samples), checked)
    return checked.fit(merged, int(rows), out).model()


def _sample_partition(part, sampler):
    # the partition's own rows and types (the meta), those the sample takes
    if len(part) == 0:
        return part
    ids = sampler.sample_ids(_table(part)).to_numpy()
    return part[part["row_id"].isin(ids).to_numpy(dtype=bool)]


def _table(part):
    return pa.Table.from_pandas(part, preserve_index=False)


def _frame(table):
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _with_window_keys(part, model):
    if len(part) == 0:
        return part.assign(**{WINDOW_KEY: pd.Series(dtype="int64", index=part.index)})
    keys = model.window_keys(_table(part)).to_numpy()
    return part.assign(**{WINDOW_KEY: keys})


def _score_partition(part, model, empty, whole_windows=False):
    if len(part) == 0:
        return empty
    if whole_windows:
        return _frame(score_window_part(_table(part), model))
    return _frame(model.score(part))
