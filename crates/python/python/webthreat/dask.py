"""``webthreat.dask.score(ddf, model)``: a saved model mapped over the partitions of a Dask
DataFrame (the model is pickled to the workers as its run files; each partition is scored by
``Model.score``). Nothing is computed here: partitions in, the ``scores.csv`` columns out.

Row ids are the partitions' ``row_id`` column (required: a partition does not know its place
in the log). The model's features must be row-local (``Model.row_local``): beacon scores and
window aggregates need rows of other partitions, which this adapter does not gather.
"""

from functools import partial

import pandas as pd


def score(ddf, model):
    """A lazy Dask DataFrame of the scores of every row of ``ddf`` (Arrow-backed pandas
    columns, the values ``Model.score`` gives); sort it by ``row_id`` for ``scores.csv`` order.
    """
    if "row_id" not in ddf.columns:
        raise ValueError(
            "webthreat.dask.score needs a row_id column (a partition does not know its rows' "
            "place in the log); add one, e.g. from the rows' order in the file"
        )
    if not model.row_local:
        raise ValueError(
            "this model's features look at other rows (beacon_score or window aggregates): "
            "score the whole table with Model.score"
        )
    # the result's columns and types: those of a few scored rows
    meta = _score_partition(ddf.partitions[0].head(2), model, None).iloc[:0]
    return ddf.map_partitions(partial(_score_partition, model=model, empty=meta), meta=meta)


def _score_partition(part, model, empty):
    if len(part) == 0:
        return empty
    return model.score(part).to_pandas(types_mapper=pd.ArrowDtype)
