"""Model.score from Python against the CLI on the same log (not run by CI).

    cargo xtask gen-data --rows 1000000 --seed 1 --out /tmp/big.csv
    cargo xtask score --run RUN /tmp/big.csv --out /tmp/store   # stage seconds in its run.json
    .venv-python/bin/python crates/python/bench/score_vs_cli.py RUN /tmp/big.csv /tmp/store/<name>-score/0001/scores.csv

Prints the times of pyarrow's read, Model.score, Model.scores_csv and Model.score_batches, and
whether Model.scores_csv gives the CLI's scores.csv bytes.
"""
import sys, time
import pyarrow.csv as pacsv
import webthreat
run, data, cli_scores = sys.argv[1:4]
t = time.perf_counter(); table = pacsv.read_csv(data); read = time.perf_counter() - t
model = webthreat.load_model(run)
def best(f, n=3):
    out = []
    for _ in range(n):
        t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
    return min(out)
print(f"rows {table.num_rows}; pyarrow read_csv {read:.2f} s")
print(f"Model.score (Arrow in, pyarrow Table out): {best(lambda: model.score(table)):.3f} s")
print(f"Model.scores_csv: {best(lambda: model.scores_csv(table)):.3f} s")
batches = [b for b in table.to_batches(max_chunksize=100_000)]
import pyarrow as pa
print(f"Model.score_batches (100k rows each): {best(lambda: list(model.score_batches(pa.Table.from_batches([b]) for b in batches))):.3f} s")
same = model.scores_csv(table) == open(cli_scores, 'rb').read()
print("scores.csv byte-identical to the CLI's:", same)
