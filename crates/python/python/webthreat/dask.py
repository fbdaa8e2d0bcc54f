"""``webthreat.dask.score(ddf, model)``: a saved model mapped over the partitions of a Dask
DataFrame (the model is pickled to the workers as its run files; each partition is scored by
``Model.score``). Nothing is computed here: partitions in, the ``scores.csv`` columns out.

Row ids are the partitions' ``row_id`` column (required: a partition does not know its place
in the log). A model with window aggregates (``Model.partitioning == "by_window"``) gets its
rows shuffled first so that each partition holds whole time windows (keyed by
``Model.window_keys``, our own window numbers); one whose features read the whole log is
refused.
"""

from functools import partial

import pandas as pd
import pyarrow as pa

from ._partitions import WINDOW_KEY, check, score_window_part


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
