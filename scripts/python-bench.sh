#!/usr/bin/env bash
# The Python package's benchmarks (issue 22) in one run: creates .venv-python-bench (pinned
# tools from crates/python/requirements-bench.txt, with scikit-learn, isotree and dask; the
# test venv .venv-python is left alone), builds the extension into it with maturin (release
# profile, the workspace's target dir), builds xtask, then runs
# crates/python/bench/python_bench.py, which generates its log, fits configs/iforest.yaml and
# prints the binding overhead against the CLI, the forests against scikit-learn and isotree,
# and Dask with 2 worker processes against 1. Arguments go to the bench (e.g. --rows 20000 for
# a smoke run); `--setup-only` only creates the venv and builds. WEBTHREAT_RAY=1 also installs
# crates/python/requirements-ray.txt (for examples/ray_score.py). Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.venv-python-bench"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" -r crates/python/requirements-bench.txt
if [ "${WEBTHREAT_RAY:-}" = 1 ]; then
  "${pip[@]}" -r crates/python/requirements-ray.txt
fi
echo "== maturin develop --release (crates/python) into .venv-python-bench" >&2
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
  "$venv/bin/maturin" develop --release --manifest-path crates/python/Cargo.toml >&2
echo "== cargo build --release -p xtask" >&2
cargo build --release -p xtask >&2
if [ "${1:-}" = --setup-only ]; then
  exit 0
fi
exec "$venv/bin/python" crates/python/bench/python_bench.py "$@"
