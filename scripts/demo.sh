#!/usr/bin/env bash
# The demo: set up, build the CLI, and run capture on the bundled synthetic sample
# (assets/sample/forest.laz, made by `twinmint synth`): inspect it and ingest it into a project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked -p twinmint-app
T=target/debug/twinmint
if [ -n "${CARGO_TARGET_DIR:-}" ]; then T="$CARGO_TARGET_DIR/debug/twinmint"; fi
"$T" info assets/sample/forest.laz
"$T" ingest assets/sample/forest.laz -o demo/forest.twinmint --force
"$T" reconstruct demo/forest.twinmint
"$T" simulate demo/forest.twinmint --runs 500
echo "project written to demo/forest.twinmint"
