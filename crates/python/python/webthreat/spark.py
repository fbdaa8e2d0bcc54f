"""``webthreat.spark.score(df, model)``: a saved model over a Spark DataFrame with
``mapInArrow`` (the model is pickled to the executors as its run files; each Arrow batch is
scored by ``Model.score``). Nothing is computed here: batches in, the ``scores.csv`` columns
out, with the types Spark has (``row_id`` as a long, ``dst_port`` as an int, ``window_start``
in microseconds: Spark has no unsigned integers and no timestamps in seconds).

As with Dask, rows need a ``row_id`` column and the model's features must be row-local
(``Model.row_local``).
"""

import pyarrow as pa


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
    if "row_id" not in df.columns:
        raise ValueError(
            "webthreat.spark.score needs a row_id column (a partition does not know its rows' "
            "place in the log); add one, e.g. from the rows' order in the file"
        )
    if not model.row_local:
        raise ValueError(
            "this model's features look at other rows (beacon_score or window aggregates): "
            "score the whole table with Model.score"
        )
    from pyspark.sql.pandas.types import from_arrow_schema

    sample = pa.Table.from_pandas(df.limit(2).toPandas(), preserve_index=False)
    schema = from_arrow_schema(_for_spark(model.score(sample)).schema)

    # Spark reads a dot in a column name (`response.code`) as a field of a struct: the
    # columns cross mapInArrow by position, under plain names, and get theirs back there
    names = df.columns
    plain = df.toDF(*[f"c{i}" for i in range(len(names))])

    def score_batches(batches):
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch]).rename_columns(names)
            yield from _for_spark(model.score(table)).to_batches()

    return plain.mapInArrow(score_batches, schema)
