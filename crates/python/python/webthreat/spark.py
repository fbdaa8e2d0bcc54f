"""``webthreat.spark.score(df, model)``: a saved model over a Spark DataFrame (the model is
pickled to the executors as its run files; Arrow batches are scored by ``Model.score``).
Nothing is computed here: rows in, the ``scores.csv`` columns out, with the types Spark has
(``row_id`` as a long, ``dst_port`` as an int, ``window_start`` in microseconds: Spark has no
unsigned integers and no timestamps in seconds).

Row ids are the ``row_id`` column (required). A model whose features are all row-local is
mapped over batches with ``mapInArrow``; one with window aggregates gets each row's window
number from ``Model.window_keys`` (``mapInArrow``), then each window is scored whole by
``groupBy(...).applyInArrow``; one whose features read the whole log is refused.

``webthreat.spark.fit(df, config, fit_rows=...)`` fits a config on the rows a streamed run's fit
sample would take (each Arrow batch keeps its share, the driver merges them), as
``webthreat.dask.fit`` does.
"""

import pyarrow as pa

from ._partitions import (
    WINDOW_KEY,
    check,
    require_row_ids,
    sampler,
    score_window_part,
    take_sample,
)


def _spark_type(t):
    # Spark's Arrow types: no unsigned integers, timestamps in microseconds
    if pa.types.is_unsigned_integer(t):
        return pa.int64() if t.bit_width >= 32 else pa.int32()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", t.tz)
    return t


def _for_spark(table):
    schema = pa.schema([pa.field(f.name, _spark_type(f.type)) for f in table.schema])
    return table.cast(schema)


def _plain(df):
    # Spark reads a dot in a column name (`response.code`) as a field of a struct: the
    # columns cross into Python by position, under plain names, and get theirs back there
    names = df.columns
    return names, df.toDF(*[f"c{i}" for i in range(len(names))])


def fit(df, config, *, fit_rows=None, out="experiments", set=()):
    """Fits ``config`` (a YAML path or a dict of its keys; ``set`` holds ``key=value``
    overrides) on a sample of ``fit_rows`` rows of ``df`` (default: the config's
    ``streaming.fit_rows``, else 100,000) and returns the ``Model`` of the run it makes under
    ``out`` (which scores the sample rows). Reads ``df`` twice (the sample, the row count)."""
    require_row_ids(df.columns, "webthreat.spark.fit")
    checked = sampler(config, fit_rows, set)
    names, plain = _plain(df)
    plain_names = plain.columns  # the closure must not hold a DataFrame

    def sample_batches(batches):
        for batch in batches:
            if batch.num_rows > 0:
                table = pa.Table.from_batches([batch]).rename_columns(names)
                yield from take_sample(table, checked).rename_columns(plain_names).to_batches()

    samples = plain.mapInArrow(sample_batches, plain.schema).toArrow().rename_columns(names)
    return checked.fit(take_sample(samples, checked), df.count(), out).model()


def score(df, model):
    """A lazy Spark DataFrame of the scores of every row of ``df``; sort it by ``row_id`` for
    ``scores.csv`` order."""
    check(df.columns, model, "webthreat.spark.score")
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import LongType, StructField, StructType

    sample = pa.Table.from_pandas(df.limit(2).toPandas(), preserve_index=False)
    schema = from_arrow_schema(_for_spark(model.score(sample)).schema)

    names, plain = _plain(df)

    def named(batch):
        return pa.Table.from_batches([batch]).rename_columns(names)

    if model.partitioning != "by_window":

        def score_batches(batches):
            for batch in batches:
                if batch.num_rows > 0:
                    yield from _for_spark(model.score(named(batch))).to_batches()

        return plain.mapInArrow(score_batches, schema)

    def add_window_keys(batches):
        for batch in batches:
            if batch.num_rows > 0:
                keys = model.window_keys(named(batch))
                yield from pa.Table.from_batches([batch]).append_column(WINDOW_KEY, keys).to_batches()

    def score_window(table):
        table = table.rename_columns([*names, WINDOW_KEY])
        return _for_spark(score_window_part(table, model))

    keyed_schema = StructType([*plain.schema.fields, StructField(WINDOW_KEY, LongType(), False)])
    keyed = plain.mapInArrow(add_window_keys, keyed_schema)
    return keyed.groupBy(WINDOW_KEY).applyInArrow(score_window, schema)
