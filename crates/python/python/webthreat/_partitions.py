"""What the engine adapters share: the checks a partitioned log must pass, and the column of
window numbers that co-partitions it when the model has window aggregates."""

# the column of window numbers the adapters add to co-partition a log, and drop before scoring
WINDOW_KEY = "__webthreat_window"


def check(columns, model, who):
    """Refuses a log without row ids, or a model whose features read the whole log."""
    if "row_id" not in columns:
        raise ValueError(
            f"{who} needs a row_id column (a partition does not know its rows' place in the "
            "log); add one, e.g. from the rows' order in the file"
        )
    if WINDOW_KEY in columns:
        raise ValueError(f"{who}: the column name {WINDOW_KEY} is the adapter's own")
    if model.partitioning == "whole_log":
        raise ValueError(
            "this model's features read the whole log (beacon_score, baseline_dev): score it "
            "in one piece with Model.score"
        )


def score_window_part(table, model):
    """Scores a part holding whole windows (``WINDOW_KEY`` dropped), in row-id order."""
    return model.score(table.drop_columns([WINDOW_KEY]).sort_by("row_id"))
