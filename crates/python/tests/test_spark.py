"""`webthreat.spark.score` on a local Spark session (2 cores): a generated log scores as
`cargo xtask score --run` scores it, with row-local features (`mapInArrow`) and with window
aggregates (`groupBy(window).applyInArrow`). Opt-in: WEBTHREAT_SPARK=1 (needs Java 17+ and
pyspark, see crates/python/requirements-spark.txt)."""

import os
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import webthreat
from conftest import FIT_ROWS, assert_fits_as_streamed, generated_runs, scored_as_the_cli

if os.environ.get("WEBTHREAT_SPARK") != "1":
    pytest.skip("Spark tests are opt-in: WEBTHREAT_SPARK=1", allow_module_level=True)
pyspark_sql = pytest.importorskip("pyspark.sql")
# the executors' Python is this one (with webthreat installed)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    return generated_runs(store, tmp_path_factory.mktemp("spark"), seed=6)


@pytest.fixture(scope="module")
def spark():
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("config", ["row_local", "windowed"])
def test_a_spark_dataframe_scores_as_the_cli(generated, spark, config):
    import webthreat.spark

    log, runs = generated
    run, scored = runs[config]
    table = pacsv.read_csv(log, convert_options=pacsv.ConvertOptions(timestamp_parsers=[]))
    table = pa.table({c: table[c].cast(pa.string()) for c in table.column_names})
    model, expected, frame = scored_as_the_cli(run, scored, table)
    df = spark.createDataFrame(frame.to_pandas()).repartition(4)
    got = webthreat.spark.score(df, model).toPandas().sort_values("row_id")
    got = pa.Table.from_pandas(got, preserve_index=False)
    assert got.num_rows == table.num_rows
    for name in expected.column_names:
        if name == "window_start":
            continue  # a Spark timestamp comes back in the session's time zone
        assert got[name].to_pylist() == expected[name].to_pylist(), name


def test_fitting_on_spark_fits_what_a_streamed_run_fits(generated, spark, store, tmp_path):
    import webthreat.spark

    log, _ = generated
    table = pacsv.read_csv(log, convert_options=pacsv.ConvertOptions(timestamp_parsers=[]))
    table = pa.table({c: table[c].cast(pa.string()) for c in table.column_names})
    frame = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    df = spark.createDataFrame(frame.to_pandas()).repartition(4)
    model = webthreat.spark.fit(df, "configs/iforest.yaml", fit_rows=FIT_ROWS, out=tmp_path)
    assert_fits_as_streamed(model, log, store)
