"""What the engine adapters share: the checks a partitioned log must pass, the column of
window numbers that co-partitions it when the model has window aggregates, and the sampler
their ``fit`` takes each partition's sample with."""

import json
import os

import pyarrow as pa
import pyarrow.compute as pc

from . import _webthreat

# the column of window numbers the adapters add to co-partition a log, and drop before scoring
WINDOW_KEY = "__webthreat_window"


def check(columns, model, who):
    """Refuses a log without row ids, or a model whose features read the whole log."""
    require_row_ids(columns, who)
    if model.partitioning == "whole_log":
        raise ValueError(
            "this model's features read the whole log (beacon_score, baseline_dev): score it "
            "in one piece with Model.score"
        )


def require_row_ids(columns, who):
    """Refuses a log without row ids (or with a column named as the adapter's own)."""
    if "row_id" not in columns:
        raise ValueError(
            f"{who} needs a row_id column (a partition does not know its rows' place in the "
            "log); add one, e.g. from the rows' order in the file"
        )
    if WINDOW_KEY in columns:
        raise ValueError(f"{who}: the column name {WINDOW_KEY} is the adapter's own")


def score_window_part(table, model):
    """Scores a part holding whole windows (``WINDOW_KEY`` dropped), in row-id order."""
    return model.score(table.drop_columns([WINDOW_KEY]).sort_by("row_id"))


def sampler(config, fit_rows, overrides):
    """The checked config of an adapter's ``fit`` (a YAML path or a dict of its keys), which
    pickles to the workers as its text."""
    if isinstance(config, dict):
        return _webthreat.sample_fit(json.dumps(config), True, fit_rows, list(overrides))
    return _webthreat.sample_fit(os.fspath(config), False, fit_rows, list(overrides))


def take_sample(table, sampler):
    """The rows of ``table`` (pyarrow, with ``row_id``) the fit sample takes."""
    ids = sampler.sample_ids(table)
    return table.filter(pc.is_in(table["row_id"].cast(pa.uint64()), value_set=ids))
