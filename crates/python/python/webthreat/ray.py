"""``webthreat.ray.score(dataset, model)``: a saved model over a Ray Dataset of pyarrow blocks
(the model is pickled to the workers as its run files; blocks are scored by ``Model.score``).
Nothing is computed here: rows in, the ``scores.csv`` columns out.

Row ids are the ``row_id`` column (required). A model whose features are all row-local is
mapped over blocks (``map_batches``); one with window aggregates gets each row's window number
from ``Model.window_keys``, then each window is scored whole (``groupby(...).map_groups``); one
whose features read the whole log is refused. As on Dask and Spark.
"""

from ._partitions import WINDOW_KEY, check, score_window_part


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
