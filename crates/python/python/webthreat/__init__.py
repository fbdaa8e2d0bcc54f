"""webthreat from Python: a run's saved models scoring Arrow tables, and an Isolation Forest.

The work is done by the Rust crates (``webthreat._webthreat``); this package only names it.

``load_model(run_dir)`` loads a run's feature pipeline, detectors and thresholds (the files
``score --run`` uses, checked against ``run.json``); ``Model.score(table)`` takes anything with
``__arrow_c_stream__`` (a pyarrow Table, a pandas or polars DataFrame) holding the log's
columns as its files name them, and returns a pyarrow Table with the columns and values of the
run's ``scores.csv``. Rows are numbered from 0 in table order unless the table has a
``row_id`` column of non-negative integers. ``Model.score(path)`` reads a log file (any format
the run reads, compressed files, directories and globs too) as ``score --run`` reads it.
"""

import json
import os

from . import _webthreat
from ._webthreat import (
    ArrowStream,
    Model,
    WebthreatError,
    __version__,
    Run,
    load_model,
)

__all__ = [
    "ArrowStream",
    "IsolationForest",
    "Model",
    "Run",
    "WebthreatError",
    "__version__",
    "fit",
    "load_model",
    "run",
]


def run(config, data=None, *, out="experiments", set=()):
    """Runs an experiment as ``webthreat run`` does and returns the ``Run`` (its directory,
    rows, per-detector lines; ``Run.model()`` loads its saved model).

    ``config``: a path to a YAML config, or a dict of its keys; ``data`` overrides its data
    path, or replaces its data by a table (a pandas, polars or pyarrow table: anything with
    ``__arrow_c_stream__``, holding the log's columns as its files name them); ``out`` is the
    run store; ``set`` holds ``key=value`` overrides as ``--set`` takes.
    """
    if data is not None and not hasattr(data, "__arrow_c_stream__"):
        data = os.fspath(data)
    if isinstance(config, dict):
        return _webthreat.run_config(json.dumps(config), True, data, out, list(set))
    return _webthreat.run_config(os.fspath(config), False, data, out, list(set))


def fit(data, config, *, out="experiments", set=()):
    """Fits a config's feature pipeline, detectors and thresholds on ``data`` (a log path or
    a table, as ``run`` takes it) and returns the ``Model`` (the run it makes is kept under
    ``out``, as every run is)."""
    return run(config, data, out=out, set=set).model()


def __getattr__(name):
    # scikit-learn is optional: imported when the estimator is first used
    if name == "IsolationForest":
        from .sklearn import IsolationForest

        return IsolationForest
    raise AttributeError(f"module 'webthreat' has no attribute {name!r}")


def _model_from_files(run_dir, texts, resources):
    """Unpickles a Model (``Model.__reduce__``): its run files, checked again, and the intel
    lists and GeoIP databases its config reads."""
    return _webthreat.model_from_files(run_dir, texts, resources)


def _forest_from_json(text):
    """Unpickles a fitted forest (``IsolationForest.forest_``) from its model file."""
    return _webthreat.Forest.from_json(text)
