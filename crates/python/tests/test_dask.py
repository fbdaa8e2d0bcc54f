"""`webthreat.dask.score`: a generated log in 4 partitions on a LocalCluster of 2 worker
processes scores as `cargo xtask score --run` scores it, with row-local features and with
per-source window aggregates (co-partitioned by window)."""

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import webthreat
import webthreat.dask
from conftest import (
    FIT_ROWS,
    WINDOWED,
    assert_fits_as_streamed,
    generated_runs,
    scored_as_the_cli,
)

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    return generated_runs(store, tmp_path_factory.mktemp("dask"), seed=5)


@pytest.mark.parametrize("config", ["row_local", "windowed"])
def test_partitions_on_two_workers_score_as_the_cli(generated, config):
    log, runs = generated
    run, scored = runs[config]
    table = pacsv.read_csv(log)
    model, expected, frame = scored_as_the_cli(run, scored, table)
    assert model.partitioning == {"row_local": "any_rows", "windowed": "by_window"}[config]
    ddf = dd.from_pandas(frame.to_pandas(types_mapper=pd.ArrowDtype), npartitions=4)
    assert ddf.npartitions == 4
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster):
            got = webthreat.dask.score(ddf, model).compute()
    got = pa.Table.from_pandas(got.sort_values("row_id"), preserve_index=False)
    assert got.num_rows == table.num_rows
    assert got.cast(expected.schema).equals(expected)


def test_window_aggregates_need_whole_windows(generated):
    """Why the adapter co-partitions: the same 4 partitions scored as they are (rows split
    across windows) give other scores; split by window key they give the whole log's."""
    log, runs = generated
    model = webthreat.load_model(runs["windowed"][0])
    table = pacsv.read_csv(log)
    table = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    expected = model.score(table)
    assert model.window_seconds == 120

    def scored(parts):
        got = pa.concat_tables([model.score(p) for p in parts])
        return got.sort_by("row_id")

    quarter = table.num_rows // 4
    by_rows = [table.slice(i * quarter, quarter if i < 3 else None) for i in range(4)]
    assert not scored(by_rows).equals(expected)
    keys = model.window_keys(table).to_numpy()
    assert len(set(keys)) > 4
    by_window = [table.filter(pa.array(keys % 4 == i)) for i in range(4)]
    assert scored(by_window).equals(expected)


def test_a_table_without_row_ids_is_refused(generated):
    log, runs = generated
    ddf = dd.from_pandas(pd.read_csv(log, nrows=100), npartitions=2)
    with pytest.raises(ValueError, match="row_id"):
        webthreat.dask.score(ddf, webthreat.load_model(runs["row_local"][0]))


def test_fitting_on_partitions_fits_what_a_streamed_run_fits(generated, store, tmp_path):
    """Each of 4 partitions on 2 workers keeps its share of the sample, the driver merges: the
    models equal those of `cargo xtask run` streaming the log with the same fit_rows."""
    log, _ = generated
    table = pacsv.read_csv(log)
    frame = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    # the partitions hold the rows last first: the sample is fitted in row-id order whatever
    frame = frame.take(pa.array(range(frame.num_rows - 1, -1, -1)))
    ddf = dd.from_pandas(frame.to_pandas(types_mapper=pd.ArrowDtype), npartitions=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster):
            model = webthreat.dask.fit(
                ddf, "configs/iforest.yaml", fit_rows=FIT_ROWS, out=tmp_path
            )
    assert (model.run_dir / "scores.csv").read_text().count("\n") == FIT_ROWS + 1
    streamed = assert_fits_as_streamed(model, log, store)
    assert model.scores_csv(table) == webthreat.load_model(streamed).scores_csv(table)


def test_a_config_needing_the_whole_log_is_not_fitted_on_partitions(generated, tmp_path):
    log, _ = generated
    ddf = dd.from_pandas(pd.read_csv(log, nrows=100).assign(row_id=range(100)), npartitions=2)
    config = tmp_path / "windowed.yaml"
    config.write_text(WINDOWED)
    with pytest.raises(webthreat.WebthreatError, match="src_sessions"):
        webthreat.dask.fit(ddf, config)
