"""`webthreat.load_model(run).score(table)` (or a log file's path) against the CLI's `scores.csv`
of the same run."""

import csv
import gzip
import io
import pickle
import shutil

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import webthreat
from conftest import ROOT, SEED, xtask

# the real Zeek capture beside the seed export (../shared/data)
ZEEK = SEED.parents[1] / "zeek" / "trickbot-2018-11" / "conn.log"


def scores_csv(path):
    return path.joinpath("scores.csv").read_bytes()


def test_the_seed_scores_as_the_cli_scored_it_byte_for_byte(seed_run):
    model = webthreat.load_model(seed_run)
    table = pacsv.read_csv(SEED)
    expected = scores_csv(seed_run)
    # the scores.csv lines webthreat writes for these rows
    assert model.scores_csv(table) == expected
    # and the Arrow result, formatted in Python as scores.csv is
    got = model.score(table)
    header, *rows = list(csv.reader(io.StringIO(expected.decode())))
    assert got.column_names == header
    assert got.num_rows == 282 == len(rows)
    assert sum(got["iforest_flag"].to_pylist()) == 15
    formatted = []
    for r in got.to_pylist():
        formatted.append(
            [
                str(r["row_id"]),
                r["src_ip"] or "",
                "" if r["dst_port"] is None else str(r["dst_port"]),
                r["window_start"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                f"{r['iforest_score']:.6f}",
                f"{r['iforest_severity']:.1f}",
                "1" if r["iforest_flag"] else "0",
            ]
        )
    assert formatted == rows


def test_pandas_and_polars_tables_score_as_pyarrow_does(seed_run):
    model = webthreat.load_model(seed_run)
    table = pacsv.read_csv(SEED)
    expected = model.score(table)
    assert model.score(pl.read_csv(SEED)).equals(expected)
    assert model.score(table.to_pandas()).equals(expected)
    # text as read by pandas without type inference goes through the same validation
    as_text = pd.read_csv(SEED, dtype=str, keep_default_na=False)
    assert model.score(as_text).equals(expected)
    # the Arrow result without pyarrow's help, read by polars
    assert pl.DataFrame(model.score_arrow(table)).shape == (282, expected.num_columns)


def test_batches_score_as_the_whole_table(seed_run):
    model = webthreat.load_model(seed_run)
    table = pacsv.read_csv(SEED)
    batches = [pa.Table.from_batches([b]) for b in table.to_batches(max_chunksize=100)]
    assert len(batches) == 3
    parts = list(model.score_batches(iter(batches)))
    assert pa.concat_tables(parts).equals(model.score(table))


def test_row_ids_come_from_a_row_id_column(seed_run):
    model = webthreat.load_model(seed_run)
    table = pacsv.read_csv(SEED)
    ids = [10_000 + 3 * i for i in range(table.num_rows)]
    got = model.score(table.append_column("row_id", pa.array(ids, pa.int64())))
    assert got["row_id"].to_pylist() == ids
    plain = model.score(table)
    assert got.drop_columns(["row_id"]).equals(plain.drop_columns(["row_id"]))


def test_a_model_pickles_as_its_run_files(seed_run):
    model = webthreat.load_model(seed_run)
    data = pickle.dumps(model)
    assert len(data) < 2_000_000
    again = pickle.loads(data)
    table = pacsv.read_csv(SEED)
    assert again.scores_csv(table) == model.scores_csv(table)
    assert again.detectors == ["iforest"] and again.thresholds == model.thresholds


def test_a_bad_value_is_named_with_its_column_row_and_value(seed_run):
    model = webthreat.load_model(seed_run)
    table = pacsv.read_csv(SEED, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    values = table["bytes_in"].to_pylist()
    values[7] = "12kB"
    bad = table.set_column(
        table.column_names.index("bytes_in"), "bytes_in", pa.array([str(v) for v in values])
    )
    with pytest.raises(webthreat.WebthreatError) as e:
        model.score(bad)
    message = str(e.value)
    assert "bytes_in" in message and "12kB" in message and "data row 7" in message, message
    with pytest.raises(webthreat.WebthreatError, match="missing required column"):
        model.score(table.drop_columns(["src_ip"]))
    with pytest.raises(webthreat.WebthreatError, match="__arrow_c_stream__"):
        model.score([1, 2, 3])
    with pytest.raises(webthreat.WebthreatError, match="row_id"):
        model.score(table.append_column("row_id", pa.array([-1] * table.num_rows)))
    twice = pa.Table.from_arrays(
        [table["bytes_in"], table["src_ip"], table["bytes_in"]], names=["bytes_in", "src_ip", "bytes_in"]
    )
    with pytest.raises(webthreat.WebthreatError, match=r"`bytes_in` twice \(positions 1 and 3\)"):
        model.score(twice)


def test_an_edited_model_file_is_refused(seed_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(seed_run, copy)
    model_file = copy / "models" / "iforest.json"
    model_file.write_text(model_file.read_text() + " ")
    with pytest.raises(webthreat.WebthreatError, match="edited after the run"):
        webthreat.load_model(copy)


def test_run_and_fit_from_python_are_the_cli_run(seed_run, tmp_path):
    from conftest import ROOT

    run = webthreat.run(ROOT / "configs" / "iforest.yaml", SEED, out=tmp_path)
    assert run.rows == 282 and run.detectors[0]["flagged"] == 15
    assert scores_csv(run.dir) == scores_csv(seed_run)
    assert run.model().scores_csv(pacsv.read_csv(SEED)) == scores_csv(seed_run)
    config = {
        "name": "from-python",
        "data": {"format": "cloudwatch"},
        "features": ["bytes_in", "bytes_out", "session_duration", "avg_packet_size"],
        "detectors": [{"kind": "iforest", "contamination": 0.05}],
    }
    model = webthreat.fit(SEED, config, out=tmp_path)
    assert sum(model.score(pacsv.read_csv(SEED))["iforest_flag"].to_pylist()) == 15
    with pytest.raises(webthreat.WebthreatError, match="n_estimators"):
        webthreat.run(config, SEED, out=tmp_path, set=["detectors.0.n_estimators=0"])


def test_a_run_on_a_pandas_table_is_the_run_on_its_file(seed_run, tmp_path):
    """The seed export handed over as pandas (no file) runs as the file does: same scores.csv
    bytes, 15 of 282 flagged, the label column kept for evaluation."""
    run = webthreat.run(ROOT / "configs" / "iforest.yaml", pd.read_csv(SEED), out=tmp_path)
    assert run.rows == 282 and run.detectors[0]["flagged"] == 15
    assert scores_csv(run.dir) == scores_csv(seed_run)
    model = webthreat.fit(pl.read_csv(SEED), ROOT / "configs" / "iforest.yaml", out=tmp_path)
    assert model.scores_csv(pacsv.read_csv(SEED)) == scores_csv(seed_run)


def test_rows_a_skip_policy_rejects_are_not_dropped_silently(tmp_path):
    config = {
        "name": "skipping",
        "data": {"format": "cloudwatch", "on_bad_rows": "skip"},
        "features": ["bytes_in", "bytes_out", "session_duration", "avg_packet_size"],
        "detectors": [{"kind": "iforest", "contamination": 0.05}],
    }
    model = webthreat.fit(SEED, config, out=tmp_path)
    table = pacsv.read_csv(SEED)
    values = [str(v) for v in table["bytes_in"].to_pylist()]
    values[3] = "lots"
    bad = table.set_column(table.column_names.index("bytes_in"), "bytes_in", pa.array(values))
    with pytest.warns(UserWarning, match=r"1 of 282 rows rejected.*data row 3.*`lots`"):
        got = model.score(bad)
    assert got.num_rows == 281 and 3 not in got["row_id"].to_pylist()


def test_a_pickled_model_carries_its_intel_lists(store, monkeypatch, tmp_path):
    """Unpickled where the lists' paths lead nowhere (another directory, as on a worker of
    another machine), a model with intel lists scores as it did: it carries their bytes."""
    run = xtask("run", "configs/intel.yaml", "--out", store)
    model = webthreat.load_model(run)
    table = pacsv.read_csv(ROOT / "data" / "sample.csv")
    expected = model.score(table)
    assert "intel" in model.detectors and expected["intel_flag"].to_pylist().count(True) > 0
    data = pickle.dumps(model)
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "data" / "intel" / "demo-blocklist.txt").exists()
    assert pickle.loads(data).score(table).equals(expected)


def test_a_log_file_path_is_read_as_score_run_reads_it(seed_run, store, tmp_path):
    """Model.score takes a path: the seed export scores as its table does, and the real Zeek
    capture (a format pyarrow does not read), gzip-compressed, scores as `cargo xtask score
    --run` scores the plain file."""
    model = webthreat.load_model(seed_run)
    assert model.scores_csv(SEED) == scores_csv(seed_run)
    assert model.score(str(SEED)).equals(model.score(pacsv.read_csv(SEED)))
    with pytest.raises(webthreat.WebthreatError, match="no-such-log.csv"):
        model.score(tmp_path / "no-such-log.csv")
    if not ZEEK.exists():
        pytest.skip(f"{ZEEK} is missing")
    run = xtask("run", "configs/zeek-trickbot.yaml", "--out", store)
    scored = xtask("score", "--run", run, ZEEK, "--out", store)
    packed = tmp_path / "conn.log.gz"
    packed.write_bytes(gzip.compress(ZEEK.read_bytes()))
    zeek = webthreat.load_model(run)
    assert zeek.scores_csv(packed) == scores_csv(scored)
    assert zeek.score(packed).num_rows == 13001
