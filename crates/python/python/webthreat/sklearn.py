"""``webthreat.IsolationForest``: a scikit-learn estimator over webthreat's Isolation Forest.

Parameters and meaning as scikit-learn's ``IsolationForest``; fitting and scoring are done by
the Rust crates (``webthreat._webthreat.fit_forest``), the same code a run fits
``kind: iforest`` with, so ``random_state=42`` on a run's scaled features gives the scores of
a run with ``seed: 42``. Results are the same for every ``n_jobs``. This module only checks
and converts inputs (scikit-learn's ``validate_data``) and maps scores to scikit-learn's sign
conventions: ``score_samples`` is minus webthreat's score, ``offset_`` minus its threshold.
"""

import json
import numbers

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _webthreat


def _threads(n_jobs):
    if n_jobs is None or n_jobs == -1:
        return None
    if isinstance(n_jobs, numbers.Integral) and n_jobs > 0:
        return int(n_jobs)
    raise ValueError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")


def _seed(random_state):
    # an integer is the seed itself (as a run's `seed:`); otherwise one is drawn from it
    if isinstance(random_state, numbers.Integral) and random_state >= 0:
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class IsolationForest(OutlierMixin, BaseEstimator):
    """Isolation Forest (Liu et al. 2008) with scikit-learn's parameters and semantics.

    ``score_samples``: the opposite of the anomaly score (lower is more abnormal);
    ``decision_function``: ``score_samples - offset_`` (negative for outliers);
    ``predict``: -1 for outliers, 1 for inliers.
    """

    def __init__(
        self,
        *,
        n_estimators=100,
        max_samples="auto",
        contamination="auto",
        max_features=1.0,
        bootstrap=False,
        n_jobs=None,
        random_state=None,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _matrix(self, X, reset):
        X = validate_data(self, X, dtype=np.float64, order="C", reset=reset)
        return np.ascontiguousarray(X, dtype="<f8")

    def fit(self, X, y=None):
        X = self._matrix(X, reset=True)
        config = {
            "kind": "iforest",
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "max_features": self.max_features,
            "bootstrap": self.bootstrap,
            "contamination": self.contamination,
        }
        self.forest_, _ = _webthreat.fit_forest(
            json.dumps(config),
            X.tobytes(),
            X.shape[0],
            X.shape[1],
            _seed(self.random_state),
            _threads(self.n_jobs),
        )
        self.offset_ = -self.forest_.threshold
        return self

    def score_samples(self, X):
        check_is_fitted(self)
        X = self._matrix(X, reset=False)
        scores = self.forest_.score(X.tobytes(), X.shape[0], X.shape[1], _threads(self.n_jobs))
        return -np.frombuffer(scores, dtype="<f8")

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) < 0, -1, 1)
