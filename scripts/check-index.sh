#!/usr/bin/env bash
# Checks the runs index page (<store>/index.html) in a real headless browser.
#
# Makes a few runs in a temp store with `cargo xtask` (fit runs of three configs, one with three
# detectors, one on a generated log of another size, a two-run sweep with repeats, and a scoring
# run of a generated log whose file name holds `<`, `&` and quotes), checks that
# `cargo xtask list --html` rewrites the same bytes the last run wrote, installs playwright-core
# from scripts/check-index/package-lock.json (`npm ci`; no browser download), and runs
# scripts/check-index/check.mjs against Debian's Chromium: sorting by clicking headers, the
# filter, every report link resolving, no console error, CSP violation or network request. It
# writes the page's screenshot to docs/runs-index.png (or $SCREENSHOT).
#
# Needs: cargo, node >= 20 and npm, and /usr/bin/chromium (`apt-get install -y chromium`).
# Not part of .ci/run, which installs nothing from apt.
# Usage: scripts/check-index.sh   (from anywhere; exits non-zero when any check fails)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
screenshot=${SCREENSHOT:-$repo/docs/runs-index.png}

test -x /usr/bin/chromium || {
  echo "check-index: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2
  exit 1
}
command -v npm >/dev/null || {
  echo "check-index: npm is missing" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
store=$tmp/experiments

echo "== runs in $store"
cargo xtask gen-data --rows 900 --seed 3 --out "$tmp/small.csv" >/dev/null
odd="$tmp/odd <name> & 'quotes'.csv"
cargo xtask gen-data --rows 12000 --seed 5 --out "$odd" >/dev/null
cat >"$tmp/sweep-demo.yaml" <<EOF
name: sweep-demo
seed: 1
repeat: 3
data:
  path: data/sample.csv   # relative to the working directory: the repository
  format: cloudwatch
  label: label
report:
  plots: false
detectors:
  - kind: iforest
    n_estimators: 50
    contamination: 0.05
sweep:
  detectors.0.n_estimators: [25, 100]
EOF
run() { cargo xtask "$@" --out "$store" | tail -n 1; }
run run configs/iforest.yaml
run run configs/compare.yaml
run run configs/zscore.yaml --data "$tmp/small.csv"
run run "$tmp/sweep-demo.yaml"
run score --run iforest/0001 "$odd"
test -f "$store/index.html"

echo "== cargo xtask list --html rewrites the same page"
before=$(sha256sum <"$store/index.html")
page=$(cargo xtask list --html --out "$store")
test "$page" = "$store/index.html"
after=$(sha256sum <"$store/index.html")
test "$before" = "$after" || {
  echo "check-index: list --html wrote a different page than the last run" >&2
  exit 1
}
echo "same bytes: $after"

echo "== npm ci (playwright-core, no browser download)"
cd scripts/check-index
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts

echo "== headless Chromium: $(/usr/bin/chromium --version 2>/dev/null || true)"
node check.mjs "$store/index.html" "$screenshot"
