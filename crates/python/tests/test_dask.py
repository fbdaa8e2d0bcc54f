"""`webthreat.dask.score`: a generated log in 4 partitions on a LocalCluster of 2 worker
processes scores as `cargo xtask score --run` scores it."""

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import webthreat
import webthreat.dask
from conftest import xtask

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    log = tmp_path_factory.mktemp("dask") / "log.csv"
    xtask("gen-data", "--rows", 20000, "--seed", 5, "--out", log)
    run = xtask("run", "configs/iforest.yaml", "--data", log, "--out", store)
    scored = xtask("score", "--run", run, log, "--out", store)
    return log, run, scored


def test_partitions_on_two_workers_score_as_the_cli(generated):
    log, run, scored = generated
    model = webthreat.load_model(run)
    table = pacsv.read_csv(log)
    # the CLI's rescoring of the log, as Model.score gives it (bit for bit: same bytes)
    assert model.scores_csv(table) == (scored / "scores.csv").read_bytes()
    expected = model.score(table)
    frame = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    ddf = dd.from_pandas(frame.to_pandas(types_mapper=pd.ArrowDtype), npartitions=4)
    assert ddf.npartitions == 4
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster):
            got = webthreat.dask.score(ddf, model).compute()
    got = pa.Table.from_pandas(got.sort_values("row_id"), preserve_index=False)
    assert got.num_rows == table.num_rows
    assert got.cast(expected.schema).equals(expected)


def test_a_table_without_row_ids_is_refused(generated):
    log, run, _ = generated
    ddf = dd.from_pandas(pd.read_csv(log, nrows=100), npartitions=2)
    with pytest.raises(ValueError, match="row_id"):
        webthreat.dask.score(ddf, webthreat.load_model(run))
