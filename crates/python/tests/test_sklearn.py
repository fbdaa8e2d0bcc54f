"""`webthreat.IsolationForest`: scikit-learn's estimator checks, and the scores of the CLI."""

import csv
import pickle

import numpy as np
import pyarrow.csv as pacsv
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import webthreat

# Checks that do not apply, and why.
EXPECTED_FAILED_CHECKS = {}


def test_scikit_learn_estimator_checks():
    check_estimator(
        webthreat.IsolationForest(n_estimators=20),
        expected_failed_checks=EXPECTED_FAILED_CHECKS,
    )


def test_scores_are_those_of_the_cli_on_the_same_features(matrix_run):
    run, X, data = matrix_run
    forest = webthreat.IsolationForest(contamination=0.05, random_state=7).fit(X)
    scores = -forest.score_samples(X)
    # full precision: the saved model of the run scores the same table
    model = webthreat.load_model(run)
    saved = model.score(pacsv.read_csv(data))["iforest_score"].to_numpy()
    assert scores.tobytes() == saved.tobytes()
    assert -forest.offset_ == model.thresholds["iforest"]
    # and scores.csv as the CLI wrote it
    with open(run / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert [f"{s:.6f}" for s in scores] == [r["iforest_score"] for r in rows]
    flags = [r["iforest_flag"] == "1" for r in rows]
    assert list(forest.predict(X) == -1) == flags
    assert sum(flags) == 30


def test_results_do_not_depend_on_n_jobs_and_survive_pickling():
    X = np.random.default_rng(1).normal(size=(500, 3))
    one = webthreat.IsolationForest(random_state=3, n_jobs=1).fit(X)
    two = webthreat.IsolationForest(random_state=3, n_jobs=2).fit(X)
    assert one.score_samples(X).tobytes() == two.score_samples(X).tobytes()
    again = pickle.loads(pickle.dumps(one))
    assert again.decision_function(X).tobytes() == one.decision_function(X).tobytes()


def test_it_works_in_a_pipeline_and_refuses_bad_parameters():
    X = np.random.default_rng(2).normal(size=(300, 2))
    pipe = make_pipeline(StandardScaler(), webthreat.IsolationForest(random_state=0))
    assert set(pipe.fit(X).predict(X)) <= {-1, 1}
    with pytest.raises(ValueError, match="contamination"):
        webthreat.IsolationForest(contamination=0.9).fit(X)
