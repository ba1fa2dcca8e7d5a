#!/usr/bin/env bash
# The test command: set up the machine, then run every test in the workspace.
# Tests read real scans from $TWINMINT_DATA (default: ../shared/data beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TWINMINT_DATA="${TWINMINT_DATA:-$(cd .. && pwd)/shared/data}"
# GPU parity tests must run (on lavapipe where there is no GPU), not skip.
export TWINMINT_REQUIRE_GPU="${TWINMINT_REQUIRE_GPU:-1}"
# lavapipe warns when no runtime dir is set; give it one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if (($#)); then
  # A chosen subset (`scripts/test.sh -p capture`, `-- name`): cargo's own runner.
  cargo test --workspace --locked "$@"
else
  # Everything: the same test build, two test binaries at a time (scripts/run-tests.py says why).
  python3 scripts/run-tests.py
fi
