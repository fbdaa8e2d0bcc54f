"""`webthreat.ray.score` on a local Ray instance (2 CPUs): a generated log in 4 blocks scores
as `cargo xtask score --run` scores it, with row-local features and with window aggregates.
Opt-in: WEBTHREAT_RAY=1 (ray from crates/python/requirements-ray.txt)."""

import logging
import os

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from conftest import FIT_ROWS, assert_fits_as_streamed, generated_runs, scored_as_the_cli

if os.environ.get("WEBTHREAT_RAY") != "1":
    pytest.skip("Ray tests are opt-in: WEBTHREAT_RAY=1", allow_module_level=True)
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    return generated_runs(store, tmp_path_factory.mktemp("ray"), seed=7)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    yield
    ray.shutdown()


@pytest.mark.parametrize("config", ["row_local", "windowed"])
def test_ray_blocks_score_as_the_cli(generated, local_ray, config):
    import webthreat.ray

    log, runs = generated
    run, scored = runs[config]
    model, expected, frame = scored_as_the_cli(run, scored, pacsv.read_csv(log))
    quarter = -(-frame.num_rows // 4)
    blocks = [frame.slice(start, quarter) for start in range(0, frame.num_rows, quarter)]
    result = webthreat.ray.score(ray.data.from_arrow(blocks), model)
    got = pa.concat_tables(ray.get(result.to_arrow_refs())).sort_by("row_id")
    assert got.num_rows == frame.num_rows
    assert got.cast(expected.schema).equals(expected)


def test_fitting_on_ray_fits_what_a_streamed_run_fits(generated, local_ray, store, tmp_path):
    """Each of 4 blocks (the rows last first) keeps its share of the sample, the driver merges:
    the models equal those of `cargo xtask run` streaming the log with the same fit_rows."""
    import webthreat.ray

    log, _ = generated
    table = pacsv.read_csv(log)
    frame = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    frame = frame.take(pa.array(range(frame.num_rows - 1, -1, -1)))
    quarter = -(-frame.num_rows // 4)
    blocks = [frame.slice(start, quarter) for start in range(0, frame.num_rows, quarter)]
    model = webthreat.ray.fit(
        ray.data.from_arrow(blocks), "configs/iforest.yaml", fit_rows=FIT_ROWS, out=tmp_path
    )
    assert_fits_as_streamed(model, log, store)
