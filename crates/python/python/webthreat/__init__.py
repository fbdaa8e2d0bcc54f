"""webthreat from Python: a run's saved models scoring Arrow tables, and an Isolation Forest.

The work is done by the Rust crates (``webthreat._webthreat``); this package only names it.

``load_model(run_dir)`` loads a run's feature pipeline, detectors and thresholds (the files
``score --run`` uses, checked against ``run.json``); ``Model.score(table)`` takes anything with
``__arrow_c_stream__`` (a pyarrow Table, a pandas or polars DataFrame) holding the log's
columns as its files name them, and returns a pyarrow Table with the columns and values of the
run's ``scores.csv``. Rows are numbered from 0 in table order unless the table has a
``row_id`` column of non-negative integers.
"""

from . import _webthreat
from ._webthreat import (
    ArrowStream,
    Model,
    WebthreatError,
    __version__,
    load_model,
)

__all__ = [
    "ArrowStream",
    "IsolationForest",
    "Model",
    "WebthreatError",
    "__version__",
    "load_model",
]


def __getattr__(name):
    # scikit-learn is optional: imported when the estimator is first used
    if name == "IsolationForest":
        from .sklearn import IsolationForest

        return IsolationForest
    raise AttributeError(f"module 'webthreat' has no attribute {name!r}")


def _model_from_files(run_dir, texts):
    """Unpickles a Model (``Model.__reduce__``): its run files, checked again."""
    return _webthreat.model_from_files(run_dir, texts)


def _forest_from_json(text):
    """Unpickles a fitted forest (``IsolationForest.forest_``) from its model file."""
    return _webthreat.Forest.from_json(text)
