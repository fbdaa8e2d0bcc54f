#!/usr/bin/env bash
# The Python package's tests: creates .venv-python (pinned tools from
# crates/python/requirements-dev.txt), builds the extension with maturin into it (release
# profile, the workspace's target dir: the polars build `cargo test --workspace --release`
# made is reused, only crates/python and its link step are new), then runs pytest on
# crates/python/tests (which runs `cargo xtask run` for the CLI's results to compare with).
# Arguments go to pytest. WEBTHREAT_SPARK=1 adds the Spark test (PySpark from
# crates/python/requirements-spark.txt; Java 17+ from the system packages); WEBTHREAT_RAY=1
# the Ray test (crates/python/requirements-ray.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.venv-python"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r crates/python/requirements-dev.txt
if [ "${WEBTHREAT_SPARK:-}" = 1 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r crates/python/requirements-spark.txt
fi
if [ "${WEBTHREAT_RAY:-}" = 1 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r crates/python/requirements-ray.txt
fi
echo "== maturin develop --release (crates/python)"
clock=$(date +%s)
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
  "$venv/bin/maturin" develop --release --manifest-path crates/python/Cargo.toml
echo "python-tests: built and installed in $(( $(date +%s) - clock )) s"
echo "== pytest crates/python/tests"
"$venv/bin/python" -m pytest crates/python/tests -q "$@"
