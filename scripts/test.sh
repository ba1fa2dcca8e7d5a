#!/usr/bin/env bash
# The test command: set up the machine, then run every test in the workspace.
# Tests read real scans from $TWINMINT_DATA (default: ../shared/data beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TWINMINT_DATA="${TWINMINT_DATA:-$(cd .. && pwd)/shared/data}"
cargo test --workspace --locked "$@"
