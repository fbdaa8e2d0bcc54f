"""webthreat.IsolationForest against scikit-learn's on 1M x 4 and 1M x 10 normal rows: fit and
score_samples times (not run by CI).

    .venv-python/bin/python crates/python/bench/forest_vs_sklearn.py
"""

import time

import numpy as np
from sklearn.ensemble import IsolationForest as SkForest

import webthreat

rng = np.random.default_rng(0)
for d in (4, 10):
    X = rng.normal(size=(1_000_000, d))
    for name, est in (
        ("webthreat", webthreat.IsolationForest(random_state=0, contamination=0.05, n_jobs=-1)),
        ("sklearn", SkForest(random_state=0, contamination=0.05, n_jobs=-1)),
    ):
        t = time.perf_counter()
        est.fit(X)
        fit = time.perf_counter() - t
        t = time.perf_counter()
        est.score_samples(X)
        score = time.perf_counter() - t
        outliers = int((est.predict(X[:100_000]) == -1).sum())
        print(f"1M x {d} {name:9s}: fit {fit:.2f} s, score_samples {score:.2f} s, "
              f"outliers {outliers} of 100k")
