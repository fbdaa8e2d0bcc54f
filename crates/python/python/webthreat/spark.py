"""``webthreat.spark.score(df, model)``: a saved model over a Spark DataFrame (the model is
pickled to the executors as its run files; Arrow batches are scored by ``Model.score``).
Nothing is computed here: rows in, the ``scores.csv`` columns out, with the types Spark has
(``row_id`` as a long, ``dst_port`` as an int, ``window_start`` in microseconds: Spark has no
unsigned integers and no timestamps in seconds).

Row ids are the ``row_id`` column (required). A model whose features are all row-local is
mapped over batches with ``mapInArrow``; one with window aggregates gets each row's window
number from ``Model.window_keys`` (``mapInArrow``), then each window is scored whole by
``groupBy(...).applyInArrow``; one whose features read the whole log is refused.
"""

import pyarrow as pa

from ._partitions import WINDOW_KEY, check, score_window_part


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


def score(df, model):
    """A lazy Spark DataFrame of the scores of every row of ``df``; sort it by ``row_id`` for
    ``scores.csv`` order."""
    check(df.columns, model, "webthreat.spark.score")
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import LongType, StructField, StructType

    sample = pa.Table.from_pandas(df.limit(2).toPandas(), preserve_index=False)
    schema = from_arrow_schema(_for_spark(model.score(sample)).schema)

    # Spark reads a dot in a column name (`response.code`) as a field of a struct: the
    # columns cross into Python by position, under plain names, and get theirs back there
    names = df.columns
    plain = df.toDF(*[f"c{i}" for i in range(len(names))])

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
